package route

import (
	"errors"
	"fmt"
	"strings"
)

// MaxParams is the most placeholders one pattern may hold. It bounds
// Captures so that matching needs no allocation.
const MaxParams = 16

// Kind is the kind of one pattern segment.
type Kind uint8

// Segment kinds, in the order the matcher tries them at one position
// (literal first, then typed placeholders, then {x}, then {x:path}).
const (
	Literal Kind = iota // exact text
	Int                 // {x:int}: decimal digits, optional leading '-'
	UUID                // {x:uuid}: 8-4-4-4-12 hex digits
	Any                 // {x}: one non-empty segment
	Rest                // {x:path}: the rest of the path, slashes included
)

// Segment is one '/'-separated part of a pattern. Text is the literal text
// for Literal segments and the placeholder name otherwise.
type Segment struct {
	Kind Kind
	Text string
}

// Pattern is a parsed path pattern. It is immutable once parsed.
type Pattern struct {
	Raw      string
	Segments []Segment
}

// Params returns the placeholder names of p in capture order.
func (p Pattern) Params() []string {
	var names []string
	for _, s := range p.Segments {
		if s.Kind != Literal {
			names = append(names, s.Text)
		}
	}
	return names
}

// ParsePattern parses a path pattern such as "/users/{id:int}". It returns
// an error, never panics, on malformed input: a missing leading '/', a
// placeholder that is not a whole segment, an unknown type, a bad or
// duplicate name, {x:path} anywhere but last, or more than MaxParams
// placeholders.
func ParsePattern(s string) (Pattern, error) {
	if s == "" || s[0] != '/' {
		return Pattern{}, fmt.Errorf("route: pattern %q must start with '/'", s)
	}
	p := Pattern{Raw: s}
	if s == "/" {
		return p, nil
	}
	rest := s[1:]
	nparams := 0
	for {
		seg, tail, more := strings.Cut(rest, "/")
		sg, err := parseSegment(seg)
		if err != nil {
			return Pattern{}, fmt.Errorf("route: pattern %q: %w", s, err)
		}
		if sg.Kind != Literal {
			nparams++
			if nparams > MaxParams {
				return Pattern{}, fmt.Errorf("route: pattern %q: more than %d placeholders", s, MaxParams)
			}
			for _, prev := range p.Segments {
				if prev.Kind != Literal && prev.Text == sg.Text {
					return Pattern{}, fmt.Errorf("route: pattern %q: duplicate placeholder %q", s, sg.Text)
				}
			}
		}
		if sg.Kind == Rest && more {
			return Pattern{}, fmt.Errorf("route: pattern %q: {%s:path} must be the last segment", s, sg.Text)
		}
		p.Segments = append(p.Segments, sg)
		if !more {
			return p, nil
		}
		rest = tail
	}
}

func parseSegment(seg string) (Segment, error) {
	if !strings.ContainsAny(seg, "{}") {
		return Segment{Kind: Literal, Text: seg}, nil
	}
	if len(seg) < 3 || seg[0] != '{' || seg[len(seg)-1] != '}' {
		return Segment{}, fmt.Errorf("segment %q: a placeholder must be a whole segment", seg)
	}
	inner := seg[1 : len(seg)-1]
	name, typ, typed := strings.Cut(inner, ":")
	if err := checkName(name); err != nil {
		return Segment{}, fmt.Errorf("segment %q: %w", seg, err)
	}
	k := Any
	if typed {
		switch typ {
		case "int":
			k = Int
		case "uuid":
			k = UUID
		case "path":
			k = Rest
		case "str", "string":
			k = Any
		default:
			return Segment{}, fmt.Errorf("segment %q: unknown type %q (want int, uuid, path or str)", seg, typ)
		}
	}
	return Segment{Kind: k, Text: name}, nil
}

var errBadName = errors.New("placeholder name must match [A-Za-z_][A-Za-z0-9_]*")

func checkName(n string) error {
	if n == "" {
		return errBadName
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return errBadName
		}
	}
	return nil
}
