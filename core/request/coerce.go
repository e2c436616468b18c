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
// to dst, or appends a validation error to errs and reports false. Errors
// use the shared vocabulary (core/problem/vocabulary.go): one wording per
// rule whatever the source and however the schema was written.
func (c *check) coerceInto(dst, v []byte, errs []problem.Entry, src Source, name string, idx int) ([]byte, bool, []problem.Entry) {
	mark := len(dst)
	// Cookies often carry session credentials, so errors reveal nothing
	// of a cookie: "input" and any value in ctx are "", and entries carry
	// no ctx at all (some would carry the value).
	shown := v
	cookie := src == FromCookie
	if cookie {
		shown = nil
	}
	fail := func(r problem.Rule) ([]byte, bool, []problem.Entry) {
		loc := []problem.Loc{problem.Key(locNames[src]), problem.Key(name)}
		if idx >= 0 {
			loc = append(loc, problem.Index(idx))
		}
		if cookie {
			r.Ctx = nil
		}
		errs = append(errs, r.At(loc, problem.AppendString(nil, string(shown))))
		return dst[:mark], false, errs
	}
	switch c.typ {
	case tInteger:
		n, err := strconv.ParseInt(bstr(trimPlus(v)), 10, 64)
		if err != nil {
			return fail(problem.Parsing("integer"))
		}
		dst = strconv.AppendInt(dst, n, 10)
		if r, bad := c.checkNumber(float64(n), dst[mark:]); bad {
			return fail(r)
		}
	case tNumber:
		f, err := strconv.ParseFloat(bstr(v), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fail(problem.Parsing("number"))
		}
		dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
		if r, bad := c.checkNumber(f, dst[mark:]); bad {
			return fail(r)
		}
	case tBoolean:
		b, ok := parseBool(v)
		if !ok {
			if len(v) != 0 || src != FromQuery {
				return fail(problem.Parsing("boolean"))
			}
			// An empty query value (?flag= or ?flag) is a flag
			// given no value: false, as an unchecked box reads.
		}
		dst = strconv.AppendBool(dst, b)
	default:
		s := bstr(v)
		switch c.format {
		case "uuid":
			if !isUUID(v) {
				return fail(problem.FormatParsing(c.format, string(shown)))
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return fail(problem.FormatParsing(c.format, string(shown)))
			}
		case "date-time":
			if !isDateTime(s) {
				return fail(problem.FormatParsing(c.format, string(shown)))
			}
		default:
			if !checkFormat(c.format, s) {
				return fail(problem.Format(c.format, string(shown)))
			}
		}
		n := utf8.RuneCount(v)
		if c.minLen >= 0 && n < c.minLen {
			return fail(problem.StringTooShort(c.minLen))
		}
		if c.maxLen >= 0 && n > c.maxLen {
			return fail(problem.StringTooLong(c.maxLen))
		}
		if c.pattern != nil && !c.pattern.Match(v) {
			if bytes.IndexByte(v, 0) >= 0 {
				return fail(problem.NulByte(string(shown)))
			}
			return fail(problem.PatternMismatch(c.pattern.String()))
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
		return fail(problem.Enum(c.enumHuman))
	}
	return dst, true, errs
}

// checkNumber applies minimum/maximum, their exclusive forms and
// multipleOf to f, whose JSON encoding is enc, and returns the rule of the
// first one violated.
func (c *check) checkNumber(f float64, enc []byte) (problem.Rule, bool) {
	if b := c.min; b != nil && f < b.v {
		return problem.GreaterThanEqual(b.raw), true
	}
	if b := c.xmin; b != nil && f <= b.v {
		return problem.GreaterThan(b.raw), true
	}
	if b := c.max; b != nil && f > b.v {
		return problem.LessThanEqual(b.raw), true
	}
	if b := c.xmax; b != nil && f >= b.v {
		return problem.LessThan(b.raw), true
	}
	if b := c.multOf; b != nil && !isMultiple(f, b.v) {
		return problem.MultipleOf(b.raw, enc), true
	}
	return problem.Rule{}, false
}

// isMultiple reports whether f is an integer multiple of m (m > 0), with
// a relative tolerance so decimal steps such as 0.1 behave as written.
func isMultiple(f, m float64) bool {
	q := f / m
	r := math.Round(q)
	return math.Abs(q-r) <= 1e-9*math.Max(1, math.Abs(q))
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
