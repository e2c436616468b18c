package validate

import (
	"bytes"
	"unicode/utf8"

	"github.com/spikard/spikard/core/problem"
)

// The walker validates a document in one pass over its bytes: each value
// is checked against its node as it is scanned, and nothing is decoded
// into Go values. Combinators (allOf, anyOf, oneOf and a $ref beside other
// keywords) are the exception: the value's span is scanned once for syntax
// and then walked once per branch. Branches are first tried quietly (no
// entries built); entries are built only when the branch outcome makes
// them part of the answer.

// step is one element of the current location: a key (a span of the
// document, still escaped when esc is set) or an array index.
type step struct {
	start, end int
	idx        int
	isIdx      bool
	esc        bool
}

type span struct{ start, end int }

// state is one validation in progress. It lives on the caller's stack
// and is never shared.
type state struct {
	d       []byte
	errs    []problem.Entry
	path    []step
	spans   []span // element spans of arrays under uniqueItems, stacked
	keys    []span // unknown keys of objects that must detect repeats, stacked
	scratch []byte // decoded strings
	quiet   int    // >0 while trying a branch: count failures, build nothing
	fails   int    // failures of the document so far, in every mode
	limit   int    // containers may nest this deep
	deep    bool   // the document nests deeper than limit
	bad     bool   // the document is not JSON
	undec   bool   // the answer needs the general validator
}

func (st *state) malformed() int {
	st.bad = true
	return -1
}

func (st *state) skip(i, depth int) int {
	end := skipValue(st.d, i, depth, st.limit)
	switch {
	case end == tooDeep:
		st.deep = true
		return -1
	case end < 0:
		st.bad = true
	}
	return end
}

// check reports whether the value at i satisfies n, building no entries.
func (st *state) check(n *node, i, depth int) bool {
	before := st.fails
	st.quiet++
	st.value(n, i, depth)
	st.quiet--
	ok := st.fails == before
	st.fails = before // a branch's failures are not the document's
	return ok
}

// value validates the value at i (whitespace skipped) against n and
// returns the position after it, or -1 if the document is malformed.
func (st *state) value(n *node, i, depth int) int {
	if n == nil {
		return st.skip(i, depth)
	}
	if n.alias != nil {
		n = n.alias
	}
	if n.never {
		end := st.skip(i, depth)
		if end >= 0 {
			st.report(problem.FalseSchema(), i, end)
		}
		return end
	}
	if !n.branchy() {
		end, _ := st.direct(n, i, depth)
		return end
	}
	end := st.skip(i, depth)
	if end < 0 {
		return -1
	}
	if n.own {
		if _, early := st.direct(n, i, depth); early {
			return end
		}
	}
	for _, b := range n.allOf {
		st.value(b, i, depth)
	}
	if len(n.anyOf) > 0 {
		matched := false
		for _, b := range n.anyOf {
			if st.check(b, i, depth) {
				matched = true
				break
			}
		}
		if !matched {
			st.report(problem.AnyOf(), i, end)
		}
	}
	if len(n.oneOf) > 0 {
		// Quietly, the second match decides; otherwise count them all,
		// for the message.
		matched := 0
		for _, b := range n.oneOf {
			if st.check(b, i, depth) {
				if matched++; matched > 1 && st.quiet > 0 {
					break
				}
			}
		}
		if matched != 1 {
			st.report(problem.OneOf(matched), i, end)
		}
	}
	return end
}

// direct checks the value at i against n's own keywords (not its
// combinators). early reports a failure of type, const, enum or format,
// after which the general validator checks nothing else at this node.
func (st *state) direct(n *node, i, depth int) (end int, early bool) {
	d := st.d
	if i >= len(d) {
		return st.malformed(), true
	}
	switch c := d[i]; c {
	case '{', '[':
		bit, got := tObj, "object"
		if c == '[' {
			bit, got = tArr, "array"
		}
		if n.types != 0 && n.types&bit == 0 {
			return st.typeFail(n, got, i, depth), true
		}
		if n.hasConst || n.hasEnum {
			end := st.skip(i, depth)
			if end >= 0 {
				st.enumFail(n, nil, i, end)
			}
			return end, true
		}
		if depth >= st.limit {
			st.deep = true
			return -1, true
		}
		if c == '{' {
			return st.object(n, i, depth), false
		}
		return st.array(n, i, depth), false
	case '"':
		return st.str(n, i)
	case 't', 'f', 'n':
		lit, bit, got := "null", tNull, "null"
		if c == 't' {
			lit, bit, got = "true", tBool, "boolean"
		} else if c == 'f' {
			lit, bit, got = "false", tBool, "boolean"
		}
		end := scanLiteral(d, i, lit)
		if end < 0 {
			return st.malformed(), true
		}
		if n.types != 0 && n.types&bit == 0 {
			return st.typeFail(n, got, i, depth), true
		}
		if n.hasConst || n.hasEnum {
			ev := enumValue{kind: bit, b: c == 't'}
			if !n.enumHas(ev) {
				st.enumFail(n, &ev, i, end)
				return end, true
			}
		}
		return end, false
	}
	return st.num(n, i, depth)
}

func (n *node) enumHas(v enumValue) bool {
	if n.hasConst && !v.equal(n.constVal) {
		return false
	}
	if !n.hasEnum {
		return true
	}
	for _, e := range n.enum {
		if v.equal(e) {
			return true
		}
	}
	return false
}

func (v enumValue) equal(e enumValue) bool {
	if v.kind != e.kind {
		return false
	}
	switch v.kind {
	case tStr:
		return v.str == e.str
	case tBool:
		return v.b == e.b
	case tNum:
		return cmpNumber(v.num, e.num) == 0
	}
	return true
}

func (st *state) str(n *node, i int) (int, bool) {
	end, si := scanString(st.d, i)
	if end < 0 {
		return st.malformed(), true
	}
	if n.types != 0 && n.types&tStr == 0 {
		st.typeFailSpan(n, "string", i, end)
		return end, true
	}
	raw := st.d[i+1 : end-1]
	if !n.needStr && (!si.esc || n.minLen < 0 && n.maxLen < 0) {
		st.strLen(n, si.runes, i, end)
		return end, false
	}
	s := bytesString(raw)
	if si.esc {
		st.scratch = unescape(st.scratch[:0], raw)
		s = bytesString(st.scratch)
		si.runes = utf8.RuneCountInString(s)
	}
	if ev := (enumValue{kind: tStr, str: s}); (n.hasConst || n.hasEnum) && !n.enumHas(ev) {
		st.enumFail(n, &ev, i, end)
		return end, true
	}
	if n.format != nil && !n.format(s) {
		st.formatFail(n, s, i, end)
		return end, true
	}
	st.strLen(n, si.runes, i, end)
	if n.pattern != nil && !n.pattern.MatchString(s) {
		st.patternFail(n, s, i, end)
	}
	return end, false
}

func (st *state) strLen(n *node, runes, i, end int) {
	if n.minLen >= 0 && runes < n.minLen {
		st.lenFail(true, n.minLen, i, end)
	}
	if n.maxLen >= 0 && runes > n.maxLen {
		st.lenFail(false, n.maxLen, i, end)
	}
}

func (st *state) num(n *node, i, depth int) (int, bool) {
	end, ni := scanNumber(st.d, i)
	if end < 0 {
		return st.malformed(), true
	}
	raw := bytesString(st.d[i:end])
	if n.types != 0 && n.types&tNum == 0 && (n.types&tInt == 0 || !isIntegral(raw, ni)) {
		st.typeFailSpan(n, "number", i, end)
		return end, true
	}
	if !n.hasConst && !n.hasEnum && n.min == nil && n.max == nil && n.exMin == nil && n.exMax == nil && n.multipleOf == nil {
		return end, false
	}
	v := parseNumber(raw, ni)
	if ev := (enumValue{kind: tNum, num: v}); (n.hasConst || n.hasEnum) && !n.enumHas(ev) {
		st.enumFail(n, &ev, i, end)
		return end, true
	}
	if n.min != nil && cmpNumber(v, *n.min) < 0 {
		st.boundFail(problem.GreaterThanEqual, n.min, i, end)
	}
	if n.max != nil && cmpNumber(v, *n.max) > 0 {
		st.boundFail(problem.LessThanEqual, n.max, i, end)
	}
	if n.exMin != nil && cmpNumber(v, *n.exMin) <= 0 {
		st.boundFail(problem.GreaterThan, n.exMin, i, end)
	}
	if n.exMax != nil && cmpNumber(v, *n.exMax) >= 0 {
		st.boundFail(problem.LessThan, n.exMax, i, end)
	}
	if n.multipleOf != nil && !isMultiple(v, *n.multipleOf) {
		st.multipleFail(n.multipleOf, i, end)
	}
	return end, false
}

func (st *state) object(n *node, i, depth int) int {
	d := st.d
	start := i
	var seen [maxProps / 64]uint64
	count := 0
	keysMark := len(st.keys)
	watchUnknown := n.addlNo || n.addl != nil || n.minProps >= 0 || n.maxProps >= 0
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		i++
	} else {
		for {
			if i >= len(d) || d[i] != '"' {
				return st.malformed()
			}
			ks := i
			ke, si := scanString(d, i)
			if ke < 0 {
				return st.malformed()
			}
			i = skipWS(d, ke)
			if i >= len(d) || d[i] != ':' {
				return st.malformed()
			}
			i = skipWS(d, i+1)
			key := d[ks+1 : ke-1]
			pi := -1
			if n.byName != nil {
				name := key
				if si.esc {
					st.scratch = unescape(st.scratch[:0], key)
					name = st.scratch
				}
				pi = n.lookup(name)
			}
			st.path = append(st.path, step{start: ks + 1, end: ke - 1, esc: si.esc})
			if pi >= 0 {
				if seen[pi>>6]&(1<<(pi&63)) != 0 {
					st.undec = true // repeated key: the last one wins in a decoded map
				}
				seen[pi>>6] |= 1 << (pi & 63)
				i = st.value(n.props[pi].schema, i, depth+1)
			} else {
				if watchUnknown {
					if si.esc {
						st.undec = true
					}
					for _, k := range st.keys[keysMark:] {
						if bytes.Equal(d[k.start:k.end], key) {
							st.undec = true
						}
					}
					st.keys = append(st.keys, span{ks + 1, ke - 1})
				}
				if n.addl != nil {
					i = st.value(n.addl, i, depth+1)
				} else {
					vs := i
					if i = st.skip(i, depth+1); i >= 0 && n.addlNo {
						st.extraFail(ks+1, ke-1, si.esc, vs, i)
					}
				}
			}
			st.path = st.path[:len(st.path)-1]
			if i < 0 {
				return -1
			}
			count++
			i = skipWS(d, i)
			if i >= len(d) {
				return st.malformed()
			}
			if d[i] == '}' {
				i++
				break
			}
			if d[i] != ',' {
				return st.malformed()
			}
			i = skipWS(d, i+1)
		}
	}
	st.keys = st.keys[:keysMark]
	if n.minProps >= 0 && count < n.minProps {
		st.propsFail(true, n.minProps, count, start, i)
	}
	if n.maxProps >= 0 && count > n.maxProps {
		st.propsFail(false, n.maxProps, count, start, i)
	}
	for _, pi := range n.required {
		if seen[pi>>6]&(1<<(pi&63)) == 0 {
			st.missing(n.props[pi].name, start, i)
		}
	}
	return i
}

// maxUnique bounds the quadratic uniqueItems check; longer arrays go to
// the general validator, which hashes.
const maxUnique = 256

func (st *state) array(n *node, i, depth int) int {
	d := st.d
	start := i
	count := 0
	mark := len(st.spans)
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == ']' {
		i++
	} else {
		for {
			sch := n.items
			if count < len(n.prefix) {
				sch = n.prefix[count]
			}
			st.path = append(st.path, step{idx: count, isIdx: true})
			vs := i
			i = st.value(sch, i, depth+1)
			st.path = st.path[:len(st.path)-1]
			if i < 0 {
				return -1
			}
			if n.unique {
				st.spans = append(st.spans, span{vs, i})
			}
			count++
			i = skipWS(d, i)
			if i >= len(d) {
				return st.malformed()
			}
			if d[i] == ']' {
				i++
				break
			}
			if d[i] != ',' {
				return st.malformed()
			}
			i = skipWS(d, i+1)
		}
	}
	if n.minItems >= 0 && count < n.minItems {
		st.itemsFail(true, n.minItems, count, start, i)
	}
	if n.maxItems >= 0 && count > n.maxItems {
		st.itemsFail(false, n.maxItems, count, start, i)
	}
	if n.unique && count > 1 {
		st.uniqueCheck(st.spans[mark:], start, i)
	}
	st.spans = st.spans[:mark]
	return i
}

func (st *state) uniqueCheck(items []span, start, end int) {
	if len(items) > maxUnique {
		st.undec = true
		return
	}
	for a := 1; a < len(items); a++ {
		for b := 0; b < a; b++ {
			eq, ok := st.scalarEqual(items[b], items[a])
			if !ok {
				st.undec = true
				return
			}
			if eq {
				st.uniqueFail(a, items[a], start, end)
				return
			}
		}
	}
}

// scalarEqual compares two scalar values by JSON equality; ok is false
// when either is a container.
func (st *state) scalarEqual(x, y span) (eq, ok bool) {
	d := st.d
	cx, cy := d[x.start], d[y.start]
	if cx == '{' || cx == '[' || cy == '{' || cy == '[' {
		return false, false
	}
	kind := func(c byte) byte {
		if c == '-' || isDigit(c) {
			return '0'
		}
		return c
	}
	if kind(cx) != kind(cy) {
		return false, true
	}
	a, b := d[x.start:x.end], d[y.start:y.end]
	switch kind(cx) {
	case '"':
		if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
			return bytes.Equal(a, b), true
		}
		ua := unescape(nil, a[1:len(a)-1])
		ub := unescape(nil, b[1:len(b)-1])
		return bytes.Equal(ua, ub), true
	case '0':
		_, na := scanNumber(a, 0)
		_, nb := scanNumber(b, 0)
		return cmpNumber(parseNumber(string(a), na), parseNumber(string(b), nb)) == 0, true
	}
	return bytes.Equal(a, b), true
}

// linearProps is the property count up to which lookup compares names
// one by one: cheaper than hashing for the small objects models have.
const linearProps = 12

// lookup returns the index of the property named name, or -1.
func (n *node) lookup(name []byte) int {
	if len(n.props) > linearProps {
		if k, ok := n.byName[string(name)]; ok {
			return k
		}
		return -1
	}
	for k := range n.props {
		if p := n.props[k].name; len(p) == len(name) && p == string(name) {
			return k
		}
	}
	return -1
}
