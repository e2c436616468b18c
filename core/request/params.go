package request

import (
	"unsafe"

	"github.com/spikard/spikard/core/problem"
)

// Input gives a Plan the raw parameters of one request. Implementations
// return slices that stay valid for the duration of Extract; a nil slice
// means absent.
type Input interface {
	PathParam(i int) []byte    // the i-th captured placeholder, percent-decoded
	Query() []byte             // raw query string, without '?'
	Header(name string) []byte // nil if absent; name is lower-case
	Cookie(name string) []byte // nil if absent
}

// Scratch is per-request working memory for Extract, reused across
// requests by its owner. The zero value is ready to use; it is not safe
// for concurrent use.
type Scratch struct {
	key []byte
	val []byte
}

// Extract appends the JSON object of p's parameters for in to dst and
// returns it, plus any validation errors appended to errs. A parameter
// that is absent, optional and without default is omitted.
func (p *Plan) Extract(dst []byte, in Input, s *Scratch, errs []problem.Entry) ([]byte, []problem.Entry) {
	dst = append(dst, '{')
	first := true
	for i := range p.fields {
		f := &p.fields[i]
		mark := len(dst)
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, f.key...)
		var ok, present bool
		switch f.src {
		case FromPath:
			v := in.PathParam(f.capture)
			present = v != nil
			if present {
				dst, ok, errs = f.coerce(dst, v, errs, f.name, -1)
			}
		case FromHeader:
			v := in.Header(f.wire)
			present = v != nil
			if present {
				dst, ok, errs = f.coerce(dst, v, errs, f.name, -1)
			}
		case FromCookie:
			v := in.Cookie(f.wire)
			present = v != nil
			if present {
				dst, ok, errs = f.coerce(dst, v, errs, f.name, -1)
			}
		case FromQuery:
			dst, present, ok, errs = f.query(dst, in.Query(), s, errs)
		}
		if !present {
			switch {
			case f.def != nil:
				dst = append(dst, f.def...)
				ok = true
			case f.required:
				errs = append(errs, problem.Entry{Type: "missing",
					Loc: []problem.Loc{problem.Key(sourceNames[f.src]), problem.Key(f.name)}, Msg: "Field required"})
			}
		}
		if !ok {
			dst = dst[:mark]
			continue
		}
		first = false
	}
	return append(dst, '}'), errs
}

// query finds f in the raw query string. Scalars take the last occurrence
// (as Starlette does); arrays take every occurrence in order.
func (f *field) query(dst []byte, q []byte, s *Scratch, errs []problem.Entry) ([]byte, bool, bool, []problem.Entry) {
	present := false
	ok := true
	if f.typ == tArray {
		idx := 0
		mark := len(dst)
		dst = append(dst, '[')
		forEachPair(q, func(k, v []byte) {
			s.key = decodeQuery(s.key[:0], k)
			if bstr(s.key) != f.wire {
				return
			}
			if idx > 0 {
				dst = append(dst, ',')
			}
			s.val = decodeQuery(s.val[:0], v)
			var good bool
			dst, good, errs = f.items.coerceInto(dst, s.val, errs, f.src, f.name, idx)
			ok = ok && good
			present = true
			idx++
		})
		dst = append(dst, ']')
		if !present {
			return dst[:mark], false, false, errs
		}
		if ok {
			dst, ok, errs = f.checkLength(dst, errs)
		}
		return dst, present, ok, errs
	}
	var last []byte
	forEachPair(q, func(k, v []byte) {
		s.key = decodeQuery(s.key[:0], k)
		if bstr(s.key) == f.wire {
			last = v
			present = true
		}
	})
	if !present {
		return dst, false, false, errs
	}
	s.val = decodeQuery(s.val[:0], last)
	if s.val == nil {
		s.val = []byte{}
	}
	dst, ok, errs = f.coerce(dst, s.val, errs, f.name, -1)
	return dst, true, ok, errs
}

// checkLength is a no-op hook for array constraints (minItems/maxItems are
// not enforced yet).
func (f *field) checkLength(dst []byte, errs []problem.Entry) ([]byte, bool, []problem.Entry) {
	return dst, true, errs
}

func (f *field) coerce(dst, v []byte, errs []problem.Entry, name string, idx int) ([]byte, bool, []problem.Entry) {
	return f.check.coerceInto(dst, v, errs, f.src, name, idx)
}

// bstr views b as a string without copying; the string must not outlive b
// or be kept while b changes.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
