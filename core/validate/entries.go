package validate

import (
	"bytes"
	"strings"

	"github.com/spikard/spikard/core/problem"
)

// Failures become entries of the shared vocabulary (core/problem's
// vocabulary.go), located under "body": one entry per leaf error, one for
// a value that takes no anyOf branch or not exactly one oneOf branch,
// "missing" and the additionalProperties entry per property, the same as
// core/request's mapping of the general validator. core/request currently
// takes only the verdict from Check and builds entries with the general
// validator; Validate's entries are for callers that want them without
// decoding, and the differential test holds the two to the same types and
// locations. Nothing here runs on the success path.

// report records one failure at the current location; the value is the
// document span [start, end).
func (st *state) report(r problem.Rule, start, end int) {
	st.reportAt(r, "", start, end)
}

// reportAt is report with an extra key appended to the location (a
// missing or unexpected property).
func (st *state) reportAt(r problem.Rule, extra string, start, end int) {
	st.fails++
	if st.quiet > 0 {
		return
	}
	loc := make([]problem.Loc, 0, len(st.path)+2)
	loc = append(loc, problem.Key("body"))
	for _, s := range st.path {
		switch {
		case s.isIdx:
			loc = append(loc, problem.Index(s.idx))
		case s.esc:
			loc = append(loc, problem.Key(string(unescape(nil, st.d[s.start:s.end]))))
		default:
			loc = append(loc, problem.Key(string(st.d[s.start:s.end])))
		}
	}
	if extra != "" {
		loc = append(loc, problem.Key(extra))
	}
	st.errs = append(st.errs, r.At(loc, compact(st.d[start:end])))
}

// counted reports whether a failure only needs counting (a quiet branch
// trial); it counts it. The failure helpers below return early on it, so
// a quiet failure builds no rule.
func (st *state) counted() bool {
	if st.quiet > 0 {
		st.fails++
		return true
	}
	return false
}

// compact copies a valid JSON value without insignificant whitespace.
func compact(v []byte) []byte {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			end, _ := scanString(v, i)
			out = append(out, v[i:end]...)
			i = end - 1
			continue
		}
		out = append(out, c)
	}
	return out
}

func (st *state) typeFail(n *node, got string, i, depth int) int {
	end := st.skip(i, depth)
	if end >= 0 {
		st.typeFailSpan(n, got, i, end)
	}
	return end
}

func (st *state) typeFailSpan(n *node, got string, i, end int) {
	if st.counted() {
		return
	}
	want := n.typeWant
	if want == "" {
		want = n.typeList // only null allowed
	}
	if got == "string" {
		// A string where a scalar was wanted: pydantic words it as a
		// failed parse of that string.
		st.report(problem.Parsing(want), i, end)
		return
	}
	st.report(problem.WrongType(want), i, end)
}

// enumFail reports a const or enum failure; ev is the value, nil for a
// container. const is checked first, as the general validator does.
func (st *state) enumFail(n *node, ev *enumValue, i, end int) {
	if st.counted() {
		return
	}
	if n.hasConst && (ev == nil || !ev.equal(n.constVal)) {
		st.report(problem.Const(n.constJSON, compact(st.d[i:end])), i, end)
		return
	}
	st.report(problem.Enum(n.enumMsg), i, end)
}

func (st *state) formatFail(n *node, s string, i, end int) {
	if st.counted() {
		return
	}
	st.report(problem.FormatParsing(n.formatKey, s), i, end)
}

func (st *state) lenFail(short bool, want, i, end int) {
	if st.counted() {
		return
	}
	if short {
		st.report(problem.StringTooShort(want), i, end)
	} else {
		st.report(problem.StringTooLong(want), i, end)
	}
}

// patternFail reports a string s that fails the pattern; one holding a
// NUL is named for it.
func (st *state) patternFail(n *node, s string, i, end int) {
	if st.counted() {
		return
	}
	if strings.IndexByte(s, 0) >= 0 {
		st.report(problem.NulByte(s), i, end)
		return
	}
	st.report(problem.PatternMismatch(n.patternSrc), i, end)
}

// bound writes a schema number as the messages show it: an integer
// exactly, anything else as written.
func bound(b *number) string {
	if r := b.rat(); r.IsInt() {
		return r.RatString()
	}
	return b.raw
}

func (st *state) boundFail(rule func(string) problem.Rule, b *number, i, end int) {
	if st.counted() {
		return
	}
	st.report(rule(bound(b)), i, end)
}

func (st *state) multipleFail(m *number, i, end int) {
	if st.counted() {
		return
	}
	st.report(problem.MultipleOf(bound(m), st.d[i:end]), i, end)
}

func (st *state) propsFail(min bool, want, got, i, end int) {
	if st.counted() {
		return
	}
	if min {
		st.report(problem.MinProperties(want, got), i, end)
	} else {
		st.report(problem.MaxProperties(want, got), i, end)
	}
}

func (st *state) missing(name string, i, end int) {
	st.reportAt(problem.Missing(), name, i, end)
}

// extraFail reports the member whose key spans [ks, ke) (escaped when esc)
// and whose value spans [i, end) where additionalProperties is false.
func (st *state) extraFail(ks, ke int, esc bool, i, end int) {
	if st.counted() {
		return
	}
	name := st.d[ks:ke]
	if esc {
		name = unescape(nil, name)
	}
	// The entry sits at the member, whose key is already on the path.
	st.report(problem.AdditionalProperty(string(bytes.Clone(name))), i, end)
}

func (st *state) itemsFail(min bool, want, got, i, end int) {
	if st.counted() {
		return
	}
	if min {
		st.report(problem.MinItems(want, got), i, end)
	} else {
		st.report(problem.MaxItems(want, got), i, end)
	}
}

// uniqueFail reports the item at index idx, spanning dup, that repeats
// an earlier one.
func (st *state) uniqueFail(idx int, dup span, i, end int) {
	if st.counted() {
		return
	}
	st.report(problem.UniqueItems(idx, compact(st.d[dup.start:dup.end])), i, end)
}
