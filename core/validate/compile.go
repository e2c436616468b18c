package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ErrUnsupported is returned by Compile for a schema that uses keywords
// outside the compiled subset; validate such schemas with the general
// validator.
var ErrUnsupported = errors.New("validate: schema outside the compiled subset")

// Type bits of a node's type set.
const (
	tNull uint8 = 1 << iota
	tBool
	tInt
	tNum // any number; implies tInt
	tStr
	tArr
	tObj
)

// node is one compiled schema. Nodes form a graph ($ref may make cycles)
// and are never modified after Compile returns.
type node struct {
	types    uint8  // 0 means any type
	typeWant string // the type named in a type error (first non-null)
	typeList string // every allowed type joined with " or ", for messages

	never bool // the false schema

	hasEnum   bool
	enum      []enumValue
	enumMsg   string // "'a', 'b' or 'c'"
	hasConst  bool
	constVal  enumValue
	constJSON []byte // the const as JSON, for messages
	format    func(string) bool
	formatKey string

	// object
	props    []prop
	byName   map[string]int
	required []int // indexes into props, in schema order
	addl     *node // additionalProperties schema, nil when absent or bool
	addlNo   bool  // additionalProperties: false
	minProps int   // -1 when absent
	maxProps int

	// array
	prefix   []*node
	items    *node
	minItems int
	maxItems int
	unique   bool

	// string
	minLen     int
	maxLen     int
	pattern    *regexp.Regexp
	patternSrc string
	needStr    bool // some keyword needs the decoded string

	// number
	min, max, exMin, exMax, multipleOf *number

	allOf, anyOf, oneOf []*node

	own   bool  // asserts something besides its combinators
	alias *node // set when n is a bare $ref: the node it stands for
}

func (n *node) branchy() bool { return len(n.allOf)+len(n.anyOf)+len(n.oneOf) > 0 }

type prop struct {
	name   string
	schema *node // nil: any value
}

// enumValue is a scalar from enum or const.
type enumValue struct {
	kind uint8 // tNull, tBool, tNum or tStr
	str  string
	b    bool
	num  number
}

// compiler turns the schema document into nodes.
type compiler struct {
	root  any
	nodes map[string]*node // by JSON pointer, for $ref
}

// assertions the general validator applies that the subset does not.
var outside = map[string]bool{
	"not": true, "if": true, "then": true, "else": true, "dependentRequired": true,
	"dependentSchemas": true, "dependencies": true, "patternProperties": true, "propertyNames": true,
	"contains": true, "minContains": true, "maxContains": true, "unevaluatedProperties": true,
	"unevaluatedItems": true, "$dynamicRef": true, "$dynamicAnchor": true, "$anchor": true,
	"$recursiveRef": true, "$recursiveAnchor": true, "$id": true, "id": true, "$vocabulary": true,
	"contentEncoding": true, "contentMediaType": true, "contentSchema": true, "additionalItems": true,
}

func parseSchema(schema []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after schema")
	}
	return v, nil
}

func (c *compiler) compilePtr(ptr string) (*node, error) {
	if n, ok := c.nodes[ptr]; ok {
		return n, nil
	}
	v, err := c.resolve(ptr)
	if err != nil {
		return nil, err
	}
	n := &node{}
	c.nodes[ptr] = n // before compiling, so recursive refs find it
	if err := c.fill(n, v, ptr); err != nil {
		return nil, err
	}
	return n, nil
}

func (c *compiler) resolve(ptr string) (any, error) {
	cur := c.root
	if ptr == "" {
		return cur, nil
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, fmt.Errorf("%w: $ref to missing #%s", ErrUnsupported, ptr)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil, fmt.Errorf("%w: $ref to missing #%s", ErrUnsupported, ptr)
			}
			cur = v[i]
		default:
			return nil, fmt.Errorf("%w: $ref to missing #%s", ErrUnsupported, ptr)
		}
	}
	return cur, nil
}

func unsupported(ptr, why string) error {
	return fmt.Errorf("%w: #%s: %s", ErrUnsupported, ptr, why)
}

func nonNegInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

func schemaNumber(v any) (*number, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	end, ni := scanNumber([]byte(n), 0)
	if end != len(n) {
		return nil, false
	}
	num := parseNumber(string(n), ni)
	if math.IsInf(num.f, 0) || num.huge || (num.f == 0 && sign(num.raw) != 0) {
		return nil, false // outside float64: the general validator decides
	}
	return &num, true
}

var typeBits = map[string]uint8{
	"null": tNull, "boolean": tBool, "integer": tInt, "number": tNum | tInt,
	"string": tStr, "array": tArr, "object": tObj,
}

// typeOrder is the order in which the general validator lists types in
// errors; the first non-null one names the error.
var typeOrder = []string{"null", "boolean", "number", "integer", "string", "array", "object"}

// fill compiles the schema value v (at pointer ptr) into n.
func (c *compiler) fill(n *node, v any, ptr string) error {
	n.minProps, n.maxProps, n.minItems, n.maxItems, n.minLen, n.maxLen = -1, -1, -1, -1, -1, -1
	switch v := v.(type) {
	case bool:
		n.never = !v
		return nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := c.keyword(n, k, v[k], v, ptr); err != nil {
				return err
			}
		}
		return nil
	}
	return unsupported(ptr, "schema is neither an object nor a boolean")
}

func (c *compiler) sub(v any, ptr string) (*node, error) {
	if _, ok := c.nodes[ptr]; ok {
		return c.nodes[ptr], nil
	}
	n := &node{}
	c.nodes[ptr] = n
	return n, c.fill(n, v, ptr)
}

func (c *compiler) list(v any, ptr, kw string) ([]*node, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, unsupported(ptr, kw+" is not a non-empty array")
	}
	out := make([]*node, len(arr))
	for i, s := range arr {
		var err error
		if out[i], err = c.sub(s, ptr+"/"+kw+"/"+strconv.Itoa(i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (c *compiler) keyword(n *node, k string, v any, obj map[string]any, ptr string) error {
	bad := func() error { return unsupported(ptr, "bad or unsupported "+k) }
	var ok bool
	switch k {
	case "$schema":
		if s, _ := v.(string); s != "https://json-schema.org/draft/2020-12/schema" || ptr != "" {
			return bad()
		}
	case "type":
		var names []string
		switch t := v.(type) {
		case string:
			names = []string{t}
		case []any:
			for _, x := range t {
				s, ok := x.(string)
				if !ok {
					return bad()
				}
				names = append(names, s)
			}
		default:
			return bad()
		}
		if len(names) == 0 {
			return nil
		}
		for _, s := range names {
			b, ok := typeBits[s]
			if !ok {
				return bad()
			}
			n.types |= b
		}
		var allowed []string
		for _, s := range typeOrder {
			if contains(names, s) {
				allowed = append(allowed, s)
				if n.typeWant == "" && s != "null" {
					n.typeWant = s
				}
			}
		}
		n.typeList = strings.Join(allowed, " or ")
	case "properties":
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		names := make([]string, 0, len(m))
		for name := range m {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			s, err := c.sub(m[name], ptr+"/properties/"+escapePtr(name))
			if err != nil {
				return err
			}
			n.propIndex(name)
			n.props[n.byName[name]].schema = s
		}
	case "required":
		arr, ok := v.([]any)
		if !ok {
			return bad()
		}
		for _, x := range arr {
			s, ok := x.(string)
			if !ok {
				return bad()
			}
			n.required = append(n.required, n.propIndex(s))
		}
	case "additionalProperties":
		if b, isBool := v.(bool); isBool {
			n.addlNo = !b
			return nil
		}
		s, err := c.sub(v, ptr+"/additionalProperties")
		if err != nil {
			return err
		}
		n.addl = s
	case "items":
		s, err := c.sub(v, ptr+"/items")
		if err != nil {
			return err
		}
		n.items = s
	case "prefixItems":
		l, err := c.list(v, ptr, k)
		if err != nil {
			return err
		}
		n.prefix = l
	case "enum":
		arr, ok := v.([]any)
		if !ok {
			return bad()
		}
		n.hasEnum = true
		var human []string
		for _, x := range arr {
			ev, ok := scalar(x)
			if !ok {
				return bad()
			}
			n.enum = append(n.enum, ev)
			if ev.kind == tStr {
				human = append(human, "'"+ev.str+"'")
			} else {
				b, _ := json.Marshal(x)
				human = append(human, string(b))
			}
		}
		n.enumMsg = joinOr(human)
		n.needStr = true
	case "const":
		ev, ok := scalar(v)
		if !ok {
			return bad()
		}
		n.hasConst, n.constVal = true, ev
		n.constJSON, _ = json.Marshal(v)
		n.needStr = true
	case "format":
		s, _ := v.(string)
		if f, ok := formatCheckers[s]; ok {
			n.format, n.formatKey = f, s
			n.needStr = true
		} else if generalFormats[s] {
			return bad()
		}
	case "minimum":
		n.min, ok = schemaNumber(v)
	case "maximum":
		n.max, ok = schemaNumber(v)
	case "exclusiveMinimum":
		n.exMin, ok = schemaNumber(v)
	case "exclusiveMaximum":
		n.exMax, ok = schemaNumber(v)
	case "multipleOf":
		n.multipleOf, ok = schemaNumber(v)
		if ok && n.multipleOf.f <= 0 {
			ok = false
		}
	case "minLength":
		n.minLen, ok = nonNegInt(v)
	case "maxLength":
		n.maxLen, ok = nonNegInt(v)
	case "minItems":
		n.minItems, ok = nonNegInt(v)
	case "maxItems":
		n.maxItems, ok = nonNegInt(v)
	case "minProperties":
		n.minProps, ok = nonNegInt(v)
	case "maxProperties":
		n.maxProps, ok = nonNegInt(v)
	case "uniqueItems":
		n.unique, ok = v.(bool)
	case "pattern":
		s, isStr := v.(string)
		if !isStr {
			return bad()
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return bad() // not RE2: leave it to the general validator
		}
		n.pattern, n.patternSrc, n.needStr = re, s, true
	case "allOf", "anyOf", "oneOf":
		l, err := c.list(v, ptr, k)
		if err != nil {
			return err
		}
		switch k {
		case "allOf":
			n.allOf = append(n.allOf, l...)
		case "anyOf":
			n.anyOf = l
		default:
			n.oneOf = l
		}
	case "$ref":
		s, isStr := v.(string)
		if !isStr || !strings.HasPrefix(s, "#") || strings.ContainsRune(s, '%') {
			return bad()
		}
		target, err := c.compilePtr(s[1:])
		if err != nil {
			return err
		}
		// A $ref applies beside the other keywords, like an allOf branch;
		// the walker collapses a node that holds nothing else.
		n.allOf = append([]*node{target}, n.allOf...)
	default:
		if outside[k] {
			return bad()
		}
		return nil // annotation ($defs, title, ...) or unknown keyword: ignored, as the general validator does
	}
	switch k {
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
		"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "uniqueItems":
		if !ok {
			return bad()
		}
	}
	return nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (n *node) propIndex(name string) int {
	if n.byName == nil {
		n.byName = map[string]int{}
	}
	if i, ok := n.byName[name]; ok {
		return i
	}
	n.props = append(n.props, prop{name: name})
	n.byName[name] = len(n.props) - 1
	return len(n.props) - 1
}

func scalar(v any) (enumValue, bool) {
	switch x := v.(type) {
	case nil:
		return enumValue{kind: tNull}, true
	case bool:
		return enumValue{kind: tBool, b: x}, true
	case string:
		return enumValue{kind: tStr, str: x}, true
	case json.Number:
		num, ok := schemaNumber(x)
		if !ok {
			return enumValue{}, false
		}
		return enumValue{kind: tNum, num: *num}, true
	}
	return enumValue{}, false
}

// joinOr joins items as "a, b or c".
func joinOr(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
