// Package request turns the raw parts of an HTTP request into what a host
// receives: the route's parameters extracted, coerced and validated into a
// compact JSON object, and the body checked against its JSON Schema.
//
// Schemas are compiled once, when a route is added, into a Plan or a Body;
// per request the work is a scan over the inputs that appends into
// caller-owned buffers, so a valid request allocates nothing here.
package request

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/route"
)

// Source says where a parameter comes from.
type Source uint8

// Parameter sources, as named by a property's "source" keyword.
const (
	FromPath Source = iota
	FromQuery
	FromHeader
	FromCookie
)

// locNames are the first element of an error's loc for each source, as
// clients of FastAPI-style errors read them ("headers" is plural there).
var locNames = [...]string{"path", "query", "headers", "cookie"}

type jsonType uint8

const (
	tString jsonType = iota
	tInteger
	tNumber
	tBoolean
	tArray
)

// field is one compiled parameter.
type field struct {
	name     string // output key
	locName  string // name in an error's loc: the name on the wire
	key      []byte // `"name":`, pre-encoded
	wire     string // name on the wire (query key, header name, cookie name)
	src      Source
	capture  int // capture index for path parameters
	required bool
	def      []byte // default value as compact JSON, or nil
	doc      []byte // the property's schema as declared, for Describe; nil for an undeclared placeholder
	check           // how to coerce and validate a value
}

// check is the coercion and constraints of one value (a parameter, or the
// items of an array parameter).
type check struct {
	typ       jsonType
	format    string
	items     *check
	min, max  *bound
	xmin      *bound // exclusiveMinimum
	xmax      *bound // exclusiveMaximum
	minLen    int    // -1 when unset
	maxLen    int    // -1 when unset
	pattern   *regexp.Regexp
	enum      [][]byte // allowed values as compact JSON
	enumHuman string   // "'a', 'b' or 'c'" for the enum message
	multOf    *bound   // multipleOf
	minItems  int      // -1 when unset
	maxItems  int      // -1 when unset
	unique    bool     // uniqueItems
	separator byte     // arrays: one value split on this byte, 0 when unset
}

type bound struct {
	v   float64
	raw string // as written in the schema, for messages
}

// Plan is a route's compiled parameter schema. It is immutable and safe
// for concurrent use.
type Plan struct {
	fields []field
}

// Empty reports whether the plan extracts nothing.
func (p *Plan) Empty() bool { return p == nil || len(p.fields) == 0 }

type propSchema struct {
	Type             json.RawMessage   `json:"type"`
	Source           string            `json:"source"`
	Alias            string            `json:"alias"`
	Format           string            `json:"format"`
	Default          json.RawMessage   `json:"default"`
	Items            *propSchema       `json:"items"`
	Enum             []json.RawMessage `json:"enum"`
	Minimum          json.RawMessage   `json:"minimum"`
	Maximum          json.RawMessage   `json:"maximum"`
	ExclusiveMinimum json.RawMessage   `json:"exclusiveMinimum"`
	ExclusiveMaximum json.RawMessage   `json:"exclusiveMaximum"`
	MinLength        *int              `json:"minLength"`
	MaxLength        *int              `json:"maxLength"`
	Pattern          string            `json:"pattern"`
	MultipleOf       json.RawMessage   `json:"multipleOf"`
	MinItems         *int              `json:"minItems"`
	MaxItems         *int              `json:"maxItems"`
	UniqueItems      bool              `json:"uniqueItems"`
	Separator        string            `json:"separator"`
	Required         json.RawMessage   `json:"required"`
	AnyOf            []propSchema      `json:"anyOf"`
	OneOf            []propSchema      `json:"oneOf"`
}

type objSchema struct {
	Type       string                     `json:"type"`
	Properties map[string]json.RawMessage `json:"properties"`
	Required   []string                   `json:"required"`
}

// Compile builds the plan for a route whose pattern is pat from its
// parameter_schema (which may be empty). Path placeholders the schema does
// not declare are still extracted: as integers for {x:int}, as strings
// otherwise. It fails on a schema it cannot honour.
func Compile(schema []byte, pat route.Pattern) (*Plan, error) {
	names := pat.Params()
	kinds := make([]route.Kind, 0, len(names))
	for _, s := range pat.Segments {
		if s.Kind != route.Literal {
			kinds = append(kinds, s.Kind)
		}
	}
	p := &Plan{}
	declared := make([]bool, len(names))
	if len(bytes.TrimSpace(schema)) > 0 && string(bytes.TrimSpace(schema)) != "null" {
		var obj objSchema
		if err := json.Unmarshal(schema, &obj); err != nil {
			return nil, fmt.Errorf("parameter_schema: %v", err)
		}
		if obj.Type != "" && obj.Type != "object" {
			return nil, fmt.Errorf("parameter_schema: type must be \"object\"")
		}
		required := map[string]bool{}
		for _, r := range obj.Required {
			required[r] = true
		}
		// Keep the schema's property order so Params is deterministic: the
		// map from encoding/json loses it, so re-read the keys in order.
		order, err := objectKeys(schema, "properties")
		if err != nil {
			return nil, fmt.Errorf("parameter_schema: %v", err)
		}
		for _, name := range order {
			raw := obj.Properties[name]
			var ps propSchema
			if err := json.Unmarshal(raw, &ps); err != nil {
				return nil, fmt.Errorf("parameter_schema: property %q: %v", name, err)
			}
			f := field{name: name, required: required[name] || isTrue(ps.Required), capture: -1, doc: raw}
			switch ps.Source {
			case "path":
				f.src = FromPath
			case "query", "":
				f.src = FromQuery
			case "header":
				f.src = FromHeader
			case "cookie":
				f.src = FromCookie
			default:
				return nil, fmt.Errorf("parameter_schema: property %q: unknown source %q", name, ps.Source)
			}
			f.wire = name
			if ps.Alias != "" {
				f.wire = ps.Alias
			} else if f.src == FromHeader {
				f.wire = strings.ReplaceAll(strings.ToLower(name), "_", "-")
			}
			if f.src == FromPath {
				for i, n := range names {
					if n == f.wire {
						f.capture = i
						declared[i] = true
					}
				}
				if f.capture < 0 {
					return nil, fmt.Errorf("parameter_schema: path parameter %q is not in pattern %q", f.wire, pat.Raw)
				}
				f.required = true
			}
			c, err := compileCheck(&ps)
			if err != nil {
				return nil, fmt.Errorf("parameter_schema: property %q: %v", name, err)
			}
			if c.typ == tArray && f.src != FromQuery {
				return nil, fmt.Errorf("parameter_schema: property %q: arrays are supported for query parameters only", name)
			}
			f.check = c
			if len(ps.Default) > 0 {
				var buf bytes.Buffer
				if err := json.Compact(&buf, ps.Default); err != nil {
					return nil, fmt.Errorf("parameter_schema: property %q: default: %v", name, err)
				}
				f.def = buf.Bytes()
			}
			p.fields = append(p.fields, f)
		}
	}
	for i, n := range names {
		if declared[i] {
			continue
		}
		f := field{name: n, wire: n, src: FromPath, capture: i, required: true}
		f.minLen, f.maxLen, f.minItems, f.maxItems = -1, -1, -1, -1
		if kinds[i] == route.Int {
			f.typ = tInteger
		} else if kinds[i] == route.UUID {
			f.format = "uuid"
		}
		p.fields = append(p.fields, f)
	}
	for i := range p.fields {
		f := &p.fields[i]
		f.key = append(problem.AppendString(nil, f.name), ':')
		// Clients know a parameter by its wire name (alias, dashed
		// header), so errors locate it that way, as FastAPI does.
		f.locName = f.wire
	}
	return p, nil
}

// isTrue reports whether raw is the JSON literal true.
func isTrue(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "true" }

// primaryType resolves "type", a ["x","null"] list, or the first non-null
// anyOf/oneOf branch, to one type name.
func primaryType(ps *propSchema) (string, *propSchema) {
	if len(ps.Type) > 0 {
		var s string
		if json.Unmarshal(ps.Type, &s) == nil {
			return s, ps
		}
		var list []string
		if json.Unmarshal(ps.Type, &list) == nil {
			for _, t := range list {
				if t != "null" {
					return t, ps
				}
			}
		}
	}
	for _, branches := range [][]propSchema{ps.AnyOf, ps.OneOf} {
		for i := range branches {
			if t, b := primaryType(&branches[i]); t != "" && t != "null" {
				return t, b
			}
		}
	}
	return "", ps
}

func compileCheck(ps *propSchema) (check, error) {
	c := check{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}
	t, src := primaryType(ps)
	switch t {
	case "string", "":
		c.typ = tString
	case "integer":
		c.typ = tInteger
	case "number":
		c.typ = tNumber
	case "boolean":
		c.typ = tBoolean
	case "array":
		c.typ = tArray
		items := src.Items
		if items == nil {
			items = &propSchema{}
		}
		ic, err := compileCheck(items)
		if err != nil {
			return c, fmt.Errorf("items: %v", err)
		}
		if ic.typ == tArray {
			return c, fmt.Errorf("nested arrays are not supported")
		}
		c.items = &ic
	default:
		return c, fmt.Errorf("unsupported type %q", t)
	}
	if src != ps {
		// Constraints written beside anyOf apply too; prefer the branch's.
		merge(src, ps)
	}
	c.format = src.Format
	var err error
	if c.min, err = parseBound(src.Minimum); err != nil {
		return c, err
	}
	if c.max, err = parseBound(src.Maximum); err != nil {
		return c, err
	}
	if c.xmin, err = parseBound(src.ExclusiveMinimum); err != nil {
		return c, err
	}
	if c.xmax, err = parseBound(src.ExclusiveMaximum); err != nil {
		return c, err
	}
	if c.multOf, err = parseBound(src.MultipleOf); err != nil {
		return c, err
	}
	if c.multOf != nil && c.multOf.v <= 0 {
		return c, fmt.Errorf("multipleOf must be positive")
	}
	if src.MinItems != nil {
		c.minItems = *src.MinItems
	}
	if src.MaxItems != nil {
		c.maxItems = *src.MaxItems
	}
	c.unique = src.UniqueItems
	switch len(src.Separator) {
	case 0:
	case 1:
		c.separator = src.Separator[0]
	default:
		return c, fmt.Errorf("separator must be one byte")
	}
	if src.MinLength != nil {
		c.minLen = *src.MinLength
	}
	if src.MaxLength != nil {
		c.maxLen = *src.MaxLength
	}
	if src.Pattern != "" {
		re, err := regexp.Compile(src.Pattern)
		if err != nil {
			return c, fmt.Errorf("pattern: %v", err)
		}
		c.pattern = re
	}
	if len(src.Enum) > 0 {
		var human []string
		for _, e := range src.Enum {
			var buf bytes.Buffer
			if err := json.Compact(&buf, e); err != nil {
				return c, fmt.Errorf("enum: %v", err)
			}
			c.enum = append(c.enum, buf.Bytes())
			var s string
			if json.Unmarshal(e, &s) == nil {
				human = append(human, "'"+s+"'")
			} else {
				human = append(human, buf.String())
			}
		}
		c.enumHuman = joinOr(human)
	}
	return c, nil
}

func merge(dst, from *propSchema) {
	if dst.Format == "" {
		dst.Format = from.Format
	}
	if dst.Minimum == nil {
		dst.Minimum = from.Minimum
	}
	if dst.Maximum == nil {
		dst.Maximum = from.Maximum
	}
	if dst.ExclusiveMinimum == nil {
		dst.ExclusiveMinimum = from.ExclusiveMinimum
	}
	if dst.ExclusiveMaximum == nil {
		dst.ExclusiveMaximum = from.ExclusiveMaximum
	}
	if dst.MinLength == nil {
		dst.MinLength = from.MinLength
	}
	if dst.MaxLength == nil {
		dst.MaxLength = from.MaxLength
	}
	if dst.Pattern == "" {
		dst.Pattern = from.Pattern
	}
	if dst.Enum == nil {
		dst.Enum = from.Enum
	}
	if dst.MultipleOf == nil {
		dst.MultipleOf = from.MultipleOf
	}
	if dst.MinItems == nil {
		dst.MinItems = from.MinItems
	}
	if dst.MaxItems == nil {
		dst.MaxItems = from.MaxItems
	}
	dst.UniqueItems = dst.UniqueItems || from.UniqueItems
	if dst.Separator == "" {
		dst.Separator = from.Separator
	}
}

func parseBound(raw json.RawMessage) (*bound, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	s := strings.TrimSpace(string(raw))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("bound %s is not a number", s)
	}
	return &bound{v: v, raw: s}, nil
}

// joinOr renders a, b, c as "a, b or c", pydantic's wording.
func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// objectKeys returns the keys of the object at member `member` of doc in
// document order.
func objectKeys(doc []byte, member string) ([]string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, err
	}
	raw, ok := top[member]
	if !ok {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s must be an object", member)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
