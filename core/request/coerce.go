package request

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/spikard/spikard/core/problem"
)

// coerceInto appends v (a raw parameter string) coerced to c's JSON type
// to dst, or appends a validation error to errs and reports false. Error
// messages follow pydantic's so hosts match FastAPI-style clients.
func (c *check) coerceInto(dst, v []byte, errs []problem.Entry, src Source, name string, idx int) ([]byte, bool, []problem.Entry) {
	mark := len(dst)
	fail := func(typ, msg string, ctx []byte) ([]byte, bool, []problem.Entry) {
		loc := []problem.Loc{problem.Key(sourceNames[src]), problem.Key(name)}
		if idx >= 0 {
			loc = append(loc, problem.Index(idx))
		}
		errs = append(errs, problem.Entry{Type: typ, Loc: loc, Msg: msg,
			Input: problem.AppendString(nil, string(v)), Ctx: ctx})
		return dst[:mark], false, errs
	}
	switch c.typ {
	case tInteger:
		n, err := strconv.ParseInt(bstr(trimPlus(v)), 10, 64)
		if err != nil {
			return fail("int_parsing", "Input should be a valid integer, unable to parse string as an integer", nil)
		}
		if t, msg, ctx := c.checkNumber(float64(n)); t != "" {
			return fail(t, msg, ctx)
		}
		dst = strconv.AppendInt(dst, n, 10)
	case tNumber:
		f, err := strconv.ParseFloat(bstr(v), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fail("float_parsing", "Input should be a valid number, unable to parse string as a number", nil)
		}
		if t, msg, ctx := c.checkNumber(f); t != "" {
			return fail(t, msg, ctx)
		}
		dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
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
		}
		n := utf8.RuneCount(v)
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

// checkNumber applies minimum/maximum and their exclusive forms, returning
// the pydantic error type, message and ctx of the first violated bound.
func (c *check) checkNumber(f float64) (string, string, []byte) {
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
	return "", "", nil
}

func plural(n int, word string) string {
	s := strconv.Itoa(n) + " " + word
	if n != 1 {
		s += "s"
	}
	return s
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
