package validate

import (
	"strconv"

	"github.com/spikard/spikard/core/problem"
)

// Failures become pydantic-style entries located under "body". The type,
// msg and ctx of each kind are those core/request's mapping of the general
// validator's errors produced when this package was written (commit
// a4fdbd6): one entry per leaf error, every failing anyOf/oneOf branch
// reported, "missing" and "extra_forbidden" per property. core/request
// currently takes only the verdict from Check and builds entries with the
// general validator, so its mapping stays the single source of truth;
// Validate's entries are for callers that want them without decoding.
// Nothing here runs on the success path.

// fail records one failure at the current location; the value is the
// document span [start, end).
func (st *state) fail(typ, msg string, ctx []byte, start, end int) {
	st.failAt(typ, msg, ctx, "", start, end)
}

// failAt is fail with an extra key appended to the location (for a
// missing property).
func (st *state) failAt(typ, msg string, ctx []byte, extra string, start, end int) {
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
	st.errs = append(st.errs, problem.Entry{Type: typ, Loc: loc, Msg: msg, Input: compact(st.d[start:end]), Ctx: ctx})
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
	if st.quiet > 0 {
		st.fails++
		return
	}
	typ, msg := "value_error", "got "+got+", want "+n.typeList
	switch n.typeWant {
	case "string":
		typ, msg = "string_type", "Input should be a valid string"
	case "integer":
		typ, msg = "int_type", "Input should be a valid integer"
	case "number":
		typ, msg = "float_type", "Input should be a valid number"
	case "boolean":
		typ, msg = "bool_type", "Input should be a valid boolean"
	case "object":
		typ, msg = "model_attributes_type", "Input should be a valid dictionary or object to extract fields from"
	case "array":
		typ, msg = "list_type", "Input should be a valid list"
	}
	st.fail(typ, msg, nil, i, end)
}

// enumFail reports a const or enum failure; ev is the value, nil for a
// container. const is checked first, as the general validator does.
func (st *state) enumFail(n *node, ev *enumValue, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	if n.hasConst && (ev == nil || !ev.equal(n.constVal)) {
		st.fail("value_error", n.constMsg, nil, i, end)
		return
	}
	st.fail("enum", "Input should be "+n.enumMsg, append(problem.AppendString([]byte(`{"expected":`), n.enumMsg), '}'), i, end)
}

func (st *state) formatFail(n *node, s string, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	st.fail("value_error", display(enumValue{kind: tStr, str: s})+" is not valid "+n.formatKey, nil, i, end)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func (st *state) lenFail(typ, bound, key string, want, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	st.fail(typ, "String should have "+bound+" "+plural(want, "character"),
		[]byte(`{"`+key+`":`+strconv.Itoa(want)+`}`), i, end)
}

func (st *state) patternFail(n *node, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	st.fail("string_pattern_mismatch", "String should match pattern '"+n.patternSrc+"'",
		append(problem.AppendString([]byte(`{"pattern":`), n.patternSrc), '}'), i, end)
}

func (st *state) boundFail(typ, words, key string, b *number, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	w := b.raw
	if r := b.rat(); r.IsInt() {
		w = r.RatString()
	}
	st.fail(typ, "Input should be "+words+" "+w, []byte(`{"`+key+`":`+w+`}`), i, end)
}

func (st *state) multipleFail(v, m number, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	st.fail("value_error", "multipleOf: got "+strconv.FormatFloat(v.f, 'g', -1, 64)+", want "+
		strconv.FormatFloat(m.f, 'g', -1, 64), nil, i, end)
}

func (st *state) countFail(kw string, got, want, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	st.fail("value_error", kw+": got "+strconv.Itoa(got)+", want "+strconv.Itoa(want), nil, i, end)
}

func (st *state) missing(name string, i, end int) {
	st.failAt("missing", "Field required", nil, name, i, end)
}

func (st *state) itemsFail(typ, bound, key string, want, got, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	st.fail(typ, "List should have "+bound+" "+plural(want, "item")+" after validation, not "+strconv.Itoa(got),
		[]byte(`{"field_type":"List","`+key+`":`+strconv.Itoa(want)+`,"actual_length":`+strconv.Itoa(got)+`}`), i, end)
}

func (st *state) uniqueFail(a, b, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	st.fail("value_error", "items at "+strconv.Itoa(a)+" and "+strconv.Itoa(b)+" are equal", nil, i, end)
}

func (st *state) failOneOf(a, b, i, end int) {
	if st.quiet > 0 {
		st.fails++
		return
	}
	st.fail("value_error", "'oneOf' failed, subschemas "+strconv.Itoa(a)+", "+strconv.Itoa(b)+" matched", nil, i, end)
}
