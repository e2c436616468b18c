// Package problem encodes RFC 9457 problem-details documents, the body of
// every error response Spikard produces itself. Encoding appends bytes by
// hand: field order is fixed (type, title, status, detail, errors, then
// extras) so documents are byte-identical across runs and hosts.
package problem

import (
	"strconv"
	"unicode/utf8"
)

// ContentType is the media type of a problem-details document.
const ContentType = "application/problem+json"

// TypeBase prefixes every problem type URI.
const TypeBase = "https://spikard.dev/errors/"

// Problem is one problem-details document. It is a plain value: safe to
// copy and share read-only.
type Problem struct {
	Type   string // full URI
	Title  string
	Status int
	Detail string
	Errors []Entry
}

// Entry is one validation error, in pydantic's shape so hosts can reuse
// their existing error handling. Input and Ctx hold already-encoded JSON
// (nil Input encodes as null; nil Ctx is omitted). A constraint error of
// the "validation_error" kind carries its value in Ctx instead and sets
// NoInput, which leaves "input" out of the document.
type Entry struct {
	Type    string
	Loc     []Loc
	Msg     string
	Input   []byte
	Ctx     []byte
	NoInput bool
	NoLoc   bool   // an entry about no request field (a dependency's): no "loc"
	Extra   []byte // encoded members appended last (`,"dependency_key":"db"`), or nil
}

// Loc is one element of an entry's location: a key, or an array index
// when IsIndex is set.
type Loc struct {
	Key     string
	Index   int
	IsIndex bool
}

// Key returns a key location element.
func Key(s string) Loc { return Loc{Key: s} }

// Index returns an array-index location element.
func Index(i int) Loc { return Loc{Index: i, IsIndex: true} }

// MediaType is the Content-Type of p's encoding.
func (p *Problem) MediaType() string {
	return ContentType
}

// Append appends p's JSON encoding to dst.
func Append(dst []byte, p *Problem) []byte {
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, p.Type)
	dst = append(dst, `,"title":`...)
	dst = AppendString(dst, p.Title)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(p.Status), 10)
	dst = append(dst, `,"detail":`...)
	dst = AppendString(dst, p.Detail)
	if p.Errors != nil {
		dst = append(dst, `,"errors":[`...)
		for i := range p.Errors {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendEntry(dst, &p.Errors[i])
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendEntry(dst []byte, e *Entry) []byte {
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, e.Type)
	if !e.NoLoc {
		dst = append(dst, `,"loc":[`...)
		for i, l := range e.Loc {
			if i > 0 {
				dst = append(dst, ',')
			}
			if l.IsIndex {
				dst = strconv.AppendInt(dst, int64(l.Index), 10)
			} else {
				dst = AppendString(dst, l.Key)
			}
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"msg":`...)
	dst = AppendString(dst, e.Msg)
	if !e.NoInput {
		dst = append(dst, `,"input":`...)
		if e.Input == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, e.Input...)
		}
	}
	if e.Ctx != nil {
		dst = append(dst, `,"ctx":`...)
		dst = append(dst, e.Ctx...)
	}
	dst = append(dst, e.Extra...)
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string by the JSON output rules of
// docs/bindings.md (the escapes JSON.stringify writes). Invalid UTF-8
// becomes U+FFFD so the output is always valid JSON.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
