package request

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// Facts are what a host would otherwise recompute from a request it has
// already been given: its cookies, its query pairs and where the uploads
// sit in its body (ADR 0002 §4). Core computes them once, by the rules
// below, so that every language binding agrees. The functions here only
// parse; they allocate nothing once the caller's buffers have grown.

// Pair is one name and value. Both alias the input or a buffer the
// function that made the pair names.
type Pair struct {
	Name  []byte
	Value []byte
}

// AppendCookies appends to dst the cookies of every Cookie line of
// rawHeaders (a raw HTTP/1 header block, "Name: value" lines ending in
// CRLF or LF), in arrival order, and returns the extended dst. The rules:
//
//   - a line counts when its name is "cookie" in any case, with no space
//     before the colon;
//   - its value is split at ';';
//   - a piece without '=' is skipped; otherwise it splits at its first '=';
//   - name and value are trimmed of spaces and tabs (so is the piece);
//   - a piece with an empty name is skipped;
//   - one pair of double quotes around the whole value is removed;
//   - repeated names are all kept, in order.
//
// Names and values are not decoded otherwise. They alias rawHeaders.
func AppendCookies(dst []Pair, rawHeaders []byte) []Pair {
	for line := range headerLines(rawHeaders) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(name, []byte("cookie")) {
			dst = appendCookieLine(dst, value)
		}
	}
	return dst
}

// appendCookieLine appends the cookies of one Cookie header value.
func appendCookieLine(dst []Pair, v []byte) []Pair {
	for len(v) > 0 {
		var piece []byte
		if i := bytes.IndexByte(v, ';'); i >= 0 {
			piece, v = v[:i], v[i+1:]
		} else {
			piece, v = v, nil
		}
		name, value, ok := bytes.Cut(piece, []byte("="))
		if !ok {
			continue
		}
		name = trimOWS(name)
		if len(name) == 0 {
			continue
		}
		value = trimOWS(value)
		if n := len(value); n >= 2 && value[0] == '"' && value[n-1] == '"' {
			value = value[1 : n-1]
		}
		dst = append(dst, Pair{Name: name[:len(name):len(name)], Value: value[:len(value):len(value)]})
	}
	return dst
}

// trimOWS trims spaces and tabs at both ends of b.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// AppendQueryPairs appends to pairs the pairs of the raw query string
// query (without '?') and returns the extended pairs and dec. The rules:
//
//   - query is split at '&', and empty pieces are skipped;
//   - a piece splits at its first '='; without one, its value is empty;
//   - name and value are form-decoded: '+' is a space and %XX (hex digits
//     in either case) a byte; a malformed escape such as "%zz" or a
//     trailing "%4" is kept as written;
//   - blank values, order and repeated names are all kept.
//
// Decoded bytes are appended to dec, which is grown once by len(query)
// first (decoding never lengthens), so every name and value aliases the
// returned dec. Bytes are not checked to be UTF-8.
func AppendQueryPairs(pairs []Pair, dec, query []byte) ([]Pair, []byte) {
	if len(query) == 0 {
		return pairs, dec
	}
	if cap(dec)-len(dec) < len(query) {
		grown := make([]byte, len(dec), len(dec)+len(query))
		copy(grown, dec)
		dec = grown
	}
	forEachPair(query, func(k, v []byte) {
		koff := len(dec)
		dec = decodeQuery(dec, k)
		voff := len(dec)
		dec = decodeQuery(dec, v)
		pairs = append(pairs, Pair{Name: dec[koff:voff:voff], Value: dec[voff:len(dec):len(dec)]})
	})
	return pairs, dec
}

// AppendUploads appends to ptrs a JSON Pointer (RFC 6901) for each value
// of the last DecodeMultipart's event body (decoded with shape s) that is
// an upload descriptor or a non-empty array of only descriptors, in the
// order the body lists them (first-seen order of form names), and returns
// the extended ptrs and buf. Pointer bytes are appended to buf, and every
// pointer aliases the returned buf.
//
// The pointers follow the decoded tree, not the raw part names: a field
// "avatar" is "/avatar", bracketed "a[b]" nests and is "/a/b", an array
// item is its index ("/a/0" for a[0][] files); '~' and '/' in a name are
// written "~0" and "~1", and a byte that is not valid UTF-8 becomes
// U+FFFD, as in the body's keys; other bytes are kept. A container
// that is not itself such a value is searched within. A body without
// files gives no pointers.
func (sc *FormScratch) AppendUploads(ptrs [][]byte, buf []byte, s *Shape) ([][]byte, []byte) {
	if len(sc.nodes) == 0 || len(sc.parts) == 0 {
		return ptrs, buf
	}
	first, start := len(ptrs), len(buf)
	sc.path = sc.path[:0]
	ptrs, buf = sc.uploadsIn(ptrs, buf, 0, s)
	// Pointers were appended back to back, so rebase them onto buf's
	// final array in case appending moved it.
	off := start
	for i := first; i < len(ptrs); i++ {
		n := off + len(ptrs[i])
		ptrs[i] = buf[off:n:n]
		off = n
	}
	return ptrs, buf
}

// uploadsIn records the uploads within node id written with shape s,
// walking the tree the way emit writes it (omitted fields, collapsed
// repeats, sorted indexes, single values wrapped into arrays).
func (sc *FormScratch) uploadsIn(ptrs [][]byte, buf []byte, id int32, s *Shape) ([][]byte, []byte) {
	n := &sc.nodes[id]
	switch {
	case n.kind == nObject:
		for c := n.first; c != 0; c = sc.nodes[c].next {
			cs := s.child(sc.bytesOf(sc.nodes[c].key))
			if sc.omitted(c, cs) {
				continue
			}
			ptrs, buf = sc.uploadsAt(ptrs, buf, step{node: c, index: -1}, cs)
		}
	case n.kind == nArray && sc.collapses(id, s):
		ptrs, buf = sc.uploadsIn(ptrs, buf, n.last, s)
	case n.kind == nArray:
		var items *Shape
		if s != nil {
			items = s.items
		}
		list, start := sc.ordered(id)
		for i, c := range list {
			ptrs, buf = sc.uploadsAt(ptrs, buf, step{node: c, index: i}, items)
		}
		sc.order = sc.order[:start]
	case s.kindOf() == sArray:
		// A single value at an array position is written as [value].
		ptrs, buf = sc.uploadsAt(ptrs, buf, step{node: id, index: 0}, s.items)
	}
	return ptrs, buf
}

// uploadsAt records the value at st (a member or an item of the value
// being walked) if it is an upload, else searches it.
func (sc *FormScratch) uploadsAt(ptrs [][]byte, buf []byte, st step, s *Shape) ([][]byte, []byte) {
	sc.path = append(sc.path, st)
	if sc.descriptors(st.node, s) {
		start := len(buf)
		buf = sc.appendPointer(buf)
		ptrs = append(ptrs, buf[start:])
	} else {
		ptrs, buf = sc.uploadsIn(ptrs, buf, st.node, s)
	}
	sc.path = sc.path[:len(sc.path)-1]
	return ptrs, buf
}

// collapses reports whether emit writes array node id, at a position of
// shape s, as its last value only (several values for a single field).
func (sc *FormScratch) collapses(id int32, s *Shape) bool {
	k := s.kindOf()
	return k != sArray && k != sAny && k != sObject && sc.allLeaves(id)
}

// descriptor reports whether node id is written, with shape s, as one
// upload descriptor.
func (sc *FormScratch) descriptor(id int32, s *Shape) bool {
	n := &sc.nodes[id]
	switch n.kind {
	case nLeaf:
		return n.file != 0 && s.kindOf() != sArray
	case nArray:
		return sc.collapses(id, s) && sc.nodes[n.last].file != 0
	}
	return false
}

// descriptors reports whether node id is written, with shape s, as a
// descriptor or a non-empty array of only descriptors.
func (sc *FormScratch) descriptors(id int32, s *Shape) bool {
	if sc.descriptor(id, s) {
		return true
	}
	n := &sc.nodes[id]
	var items *Shape
	if s != nil {
		items = s.items
	}
	switch {
	case n.kind == nLeaf:
		return s.kindOf() == sArray && sc.descriptor(id, items)
	case n.kind != nArray || n.first == 0 || sc.collapses(id, s):
		return false
	}
	for c := n.first; c != 0; c = sc.nodes[c].next {
		if !sc.descriptor(c, items) {
			return false
		}
	}
	return true
}

// appendPointer appends the JSON Pointer of sc.path.
func (sc *FormScratch) appendPointer(dst []byte) []byte {
	for _, st := range sc.path {
		dst = append(dst, '/')
		if st.index >= 0 {
			dst = strconv.AppendInt(dst, int64(st.index), 10)
			continue
		}
		dst = appendPointerToken(dst, sc.bytesOf(sc.nodes[st.node].key))
	}
	return dst
}

// appendPointerToken appends name as one JSON Pointer reference token:
// '~' becomes "~0" and '/' "~1" (RFC 6901 §3). A byte that is not part of
// valid UTF-8 becomes U+FFFD, as it does in the body's keys
// (problem.AppendString), so the pointer names the key a host decodes;
// other bytes are kept.
func appendPointerToken(dst, name []byte) []byte {
	for i := 0; i < len(name); {
		c := name[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(name[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, name[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '~':
			dst = append(dst, '~', '0')
		case '/':
			dst = append(dst, '~', '1')
		default:
			dst = append(dst, c)
		}
		i++
	}
	return dst
}
