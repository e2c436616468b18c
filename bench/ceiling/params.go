package main

import (
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/protocol"
)

// The conversions of path, query and form values into typed values. Each
// refuses what the Python apps refuse for the same type, so that a wrong
// value is a 422 here as it is there.

func toInt(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

// toFloat refuses NaN and the infinities, which JSON cannot carry back.
func toFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		err = errors.New("not a finite number")
	}
	return f, err
}

func toBool(s string) (bool, error) { return strconv.ParseBool(s) }

// toDate accepts an ISO calendar date and gives it back in the same form.
func toDate(s string) (string, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return "", err
	}
	return t.Format(time.DateOnly), nil
}

// toUUID accepts a UUID as 32 hex digits, hyphenated 8-4-4-4-12 or not, and
// gives it back in canonical form (lower case, hyphenated), as Python's
// str(uuid.UUID(s)) does.
func toUUID(s string) (string, error) {
	var raw [16]byte
	var digits [32]byte
	switch len(s) {
	case 32:
		copy(digits[:], s)
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", errors.New("not a UUID")
		}
		copy(digits[:], s[0:8])
		copy(digits[8:], s[9:13])
		copy(digits[12:], s[14:18])
		copy(digits[16:], s[19:23])
		copy(digits[20:], s[24:36])
	default:
		return "", errors.New("not a UUID")
	}
	if _, err := hex.Decode(raw[:], digits[:]); err != nil {
		return "", errors.New("not a UUID")
	}
	var out [36]byte
	hex.Encode(out[0:8], raw[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], raw[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], raw[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], raw[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], raw[10:16])
	return string(out[:]), nil
}

// fields reads required, typed values from a query string or a url-encoded
// body. It keeps the first failure so a handler reads every field and then
// checks err once.
type fields struct {
	args *protocol.Args
	err  error
}

// raw is the value of a required field; a field given as "name=" is
// present and empty, which a str field accepts.
func (f *fields) raw(name string) (string, bool) {
	v := f.args.Peek(name)
	if v == nil && !f.args.Has(name) {
		f.fail(name, errors.New("required"))
		return "", false
	}
	return string(v), true
}

func (f *fields) fail(name string, err error) {
	if f.err == nil {
		f.err = errors.New(name + ": " + err.Error())
	}
}

func (f *fields) str(name string) string {
	v, _ := f.raw(name)
	return v
}

func (f *fields) int(name string) int64 {
	s, ok := f.raw(name)
	if !ok {
		return 0
	}
	v, err := toInt(s)
	if err != nil {
		f.fail(name, err)
	}
	return v
}

func (f *fields) float(name string) float64 {
	s, ok := f.raw(name)
	if !ok {
		return 0
	}
	v, err := toFloat(s)
	if err != nil {
		f.fail(name, err)
	}
	return v
}

func (f *fields) bool(name string) bool {
	s, ok := f.raw(name)
	if !ok {
		return false
	}
	v, err := toBool(s)
	if err != nil {
		f.fail(name, err)
	}
	return v
}

// strs is every value of a repeated field, in order; at least one is required.
func (f *fields) strs(name string) []string {
	var out []string
	f.args.VisitAll(func(k, v []byte) {
		if string(k) == name {
			out = append(out, string(v))
		}
	})
	if out == nil {
		f.fail(name, errors.New("required"))
	}
	return out
}
