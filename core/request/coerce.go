package request

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spikard/spikard/core/problem"
)

// coerceInto appends v (a raw parameter string) coerced to c's JSON type
// to dst, or appends a validation error to errs and reports false. Error
// messages follow pydantic's so hosts match FastAPI-style clients.
func (c *check) coerceInto(dst, v []byte, errs []problem.Entry, src Source, name string, idx int) ([]byte, bool, []problem.Entry) {
	mark := len(dst)
	// Cookies often carry session credentials, so errors reveal nothing
	// of a cookie: "input" (and a pattern's ctx value) is "", and the
	// pydantic-shaped entries carry no ctx.
	shown := v
	cookie := src == FromCookie
	if cookie {
		shown = nil
	}
	fail := func(typ, msg string, ctx []byte) ([]byte, bool, []problem.Entry) {
		loc := []problem.Loc{problem.Key(locNames[src]), problem.Key(name)}
		if idx >= 0 {
			loc = append(loc, problem.Index(idx))
		}
		if cookie {
			ctx = nil
		}
		errs = append(errs, problem.Entry{Type: typ, Loc: loc, Msg: msg,
			Input: problem.AppendString(nil, string(shown)), Ctx: ctx})
		return dst[:mark], false, errs
	}
	// native reports a constraint in the "validation_error" shape: the
	// offending value travels in ctx, and "input" is left out.
	native := func(msg string, ctx []byte) ([]byte, bool, []problem.Entry) {
		loc := []problem.Loc{problem.Key(locNames[src]), problem.Key(name)}
		if idx >= 0 {
			loc = append(loc, problem.Index(idx))
		}
		errs = append(errs, problem.Entry{Type: "validation_error", Loc: loc, Msg: msg, Ctx: ctx, NoInput: true})
		return dst[:mark], false, errs
	}
	switch c.typ {
	case tInteger:
		n, err := strconv.ParseInt(bstr(trimPlus(v)), 10, 64)
		if err != nil {
			return fail("int_parsing", "Input should be a valid integer, unable to parse string as an integer", nil)
		}
		dst = strconv.AppendInt(dst, n, 10)
		if t, msg, ctx := c.checkNumber(float64(n), dst[mark:]); t != "" {
			return c.numberError(t, msg, ctx, fail, native)
		}
	case tNumber:
		f, err := strconv.ParseFloat(bstr(v), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fail("float_parsing", "Input should be a valid number, unable to parse string as a number", nil)
		}
		dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
		if t, msg, ctx := c.checkNumber(f, dst[mark:]); t != "" {
			return c.numberError(t, msg, ctx, fail, native)
		}
	case tBoolean:
		b, ok := parseBool(v)
		if !ok {
			return fail("bool_parsing", "Input should be a valid boolean, unable to interpret input", nil)
		}
		dst = strconv.AppendBool(dst, b)
	default:
		s := bstr(v)
		switch c.format {
		case "uuid":
			if !isUUID(v) {
				return fail("uuid_parsing", "Input should be a valid UUID", nil)
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return fail("date_parsing", "Input should be a valid date in the format YYYY-MM-DD", nil)
			}
		case "date-time":
			if !isDateTime(s) {
				return fail("datetime_parsing", "Input should be a valid datetime", nil)
			}
		default:
			if what := checkFormat(c.format, s); what != "" {
				return native("Invalid "+what+" format", formatCtx(c.format, s))
			}
		}
		if c.pattern != nil && bytes.IndexByte(v, 0) >= 0 && !c.pattern.Match(v) {
			msg, ctx := nulError(string(shown))
			return native(msg, ctx)
		}
		n := utf8.RuneCount(v)
		if c.validator {
			if msg, ctx := c.validatorString(v, shown, n); msg != "" {
				return native(msg, ctx)
			}
			dst = problem.AppendString(dst, s)
			break
		}
		if c.minLen >= 0 && n < c.minLen {
			return fail("string_too_short", "String should have at least "+plural(c.minLen, "character"),
				[]byte(`{"min_length":`+strconv.Itoa(c.minLen)+`}`))
		}
		if c.maxLen >= 0 && n > c.maxLen {
			return fail("string_too_long", "String should have at most "+plural(c.maxLen, "character"),
				[]byte(`{"max_length":`+strconv.Itoa(c.maxLen)+`}`))
		}
		if c.pattern != nil && !c.pattern.Match(v) {
			p := c.pattern.String()
			return fail("string_pattern_mismatch", "String should match pattern '"+p+"'",
				append(problem.AppendString([]byte(`{"pattern":`), p), '}'))
		}
		dst = problem.AppendString(dst, s)
	}
	if c.enum != nil {
		got := dst[mark:]
		for _, e := range c.enum {
			if bytes.Equal(got, e) {
				return dst, true, errs
			}
		}
		return fail("enum", "Input should be "+c.enumHuman,
			append(problem.AppendString([]byte(`{"expected":`), c.enumHuman), '}'))
	}
	return dst, true, errs
}

// checkNumber applies minimum/maximum, their exclusive forms and
// multipleOf to f, whose JSON encoding is enc. It returns the error type
// ("" when f satisfies them all), message and ctx of the first violated
// one. Bounds take pydantic's ge/gt/le/lt shape, as FastAPI clients know
// it; multipleOf has no such counterpart in the fixtures and takes the
// "validation_error" shape with the value in ctx.
func (c *check) checkNumber(f float64, enc []byte) (string, string, []byte) {
	if c.validator {
		return c.validatorNumber(f, enc)
	}
	if b := c.min; b != nil && f < b.v {
		return "greater_than_equal", "Input should be greater than or equal to " + b.raw, []byte(`{"ge":` + b.raw + `}`)
	}
	if b := c.xmin; b != nil && f <= b.v {
		return "greater_than", "Input should be greater than " + b.raw, []byte(`{"gt":` + b.raw + `}`)
	}
	if b := c.max; b != nil && f > b.v {
		return "less_than_equal", "Input should be less than or equal to " + b.raw, []byte(`{"le":` + b.raw + `}`)
	}
	if b := c.xmax; b != nil && f >= b.v {
		return "less_than", "Input should be less than " + b.raw, []byte(`{"lt":` + b.raw + `}`)
	}
	if b := c.multOf; b != nil && !isMultiple(f, b.v) {
		ctx := append([]byte(`{"multiple_of":`+b.raw+`,"value":`), enc...)
		return "validation_error", "Value must be a multiple of " + b.raw, append(ctx, '}')
	}
	return "", "", nil
}

// validatorString applies minLength, maxLength and pattern to v (n runes)
// in the JSON-Schema-validator vocabulary (see rawSchema), showing shown
// as the value, and returns the
// message and ctx of the first violated one, or "" when v satisfies them.
// The maxLength ctx reports actual_length one past the rune count, as the
// reference implementation does (its conformance corpus fixes that
// number); it is a compatibility quirk, applied uniformly.
func (c *check) validatorString(v, shown []byte, n int) (string, []byte) {
	if c.minLen >= 0 && n < c.minLen {
		return "String length must be at least " + strconv.Itoa(c.minLen),
			[]byte(`{"min_length":` + strconv.Itoa(c.minLen) + `,"actual_length":` + strconv.Itoa(n) + `}`)
	}
	if c.maxLen >= 0 && n > c.maxLen {
		return "String length must not exceed " + strconv.Itoa(c.maxLen),
			[]byte(`{"max_length":` + strconv.Itoa(c.maxLen) + `,"actual_length":` + strconv.Itoa(n+1) + `}`)
	}
	if c.pattern != nil && !c.pattern.Match(v) {
		ctx := problem.AppendString([]byte(`{"pattern":`), c.pattern.String())
		ctx = problem.AppendString(append(ctx, `,"value":`...), string(shown))
		return "String does not match pattern", append(ctx, '}')
	}
	return "", nil
}

// validatorNumber is checkNumber in the JSON-Schema-validator vocabulary:
// every failure is a "validation_error" with the bound and the value
// (encoded as enc) in ctx.
func (c *check) validatorNumber(f float64, enc []byte) (string, string, []byte) {
	fail := func(msg, key string, b *bound) (string, string, []byte) {
		ctx := append([]byte(`{"`+key+`":`+b.raw+`,"value":`), enc...)
		return "validation_error", msg + b.raw, append(ctx, '}')
	}
	if b := c.min; b != nil && f < b.v {
		return fail("Value must be at least ", "minimum", b)
	}
	if b := c.xmin; b != nil && f <= b.v {
		return fail("Value must be greater than ", "exclusive_minimum", b)
	}
	if b := c.max; b != nil && f > b.v {
		return fail("Value must not exceed ", "maximum", b)
	}
	if b := c.xmax; b != nil && f >= b.v {
		return fail("Value must be less than ", "exclusive_maximum", b)
	}
	if b := c.multOf; b != nil && !isMultiple(f, b.v) {
		return fail("Value must be a multiple of ", "multiple_of", b)
	}
	return "", "", nil
}

type failFunc = func(string, string, []byte) ([]byte, bool, []problem.Entry)

// numberError reports a checkNumber failure in its shape.
func (c *check) numberError(t, msg string, ctx []byte, fail failFunc, native func(string, []byte) ([]byte, bool, []problem.Entry)) ([]byte, bool, []problem.Entry) {
	if t == "validation_error" {
		return native(msg, ctx)
	}
	return fail(t, msg, ctx)
}

// isMultiple reports whether f is an integer multiple of m (m > 0), with
// a relative tolerance so decimal steps such as 0.1 behave as written.
func isMultiple(f, m float64) bool {
	q := f / m
	r := math.Round(q)
	return math.Abs(q-r) <= 1e-9*math.Max(1, math.Abs(q))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		word = word[:len(word)-1] + "ie"
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// trimPlus drops one leading '+', which ParseInt rejects but pydantic
// accepts.
func trimPlus(v []byte) []byte {
	if len(v) > 1 && v[0] == '+' && v[1] != '-' && v[1] != '+' {
		return v[1:]
	}
	return v
}

// parseBool accepts pydantic's spellings, case-insensitively.
func parseBool(v []byte) (bool, bool) {
	if len(v) > 5 {
		return false, false
	}
	var lower [5]byte
	for i, c := range v {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	switch string(lower[:len(v)]) {
	case "true", "1", "yes", "on", "t", "y":
		return true, true
	case "false", "0", "no", "off", "f", "n":
		return false, true
	}
	return false, false
}

// isUUID accepts the hyphenated 8-4-4-4-12 form, any case.
func isUUID(s []byte) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !ishex(c) {
				return false
			}
		}
	}
	return true
}

// isDateTime accepts RFC 3339 and the zone-less and space-separated forms
// pydantic also takes.
func isDateTime(s string) bool {
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
