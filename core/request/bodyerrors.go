package request

import (
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/spikard/spikard/core/problem"
)

// flatten turns the validator's error tree into entries of the shared
// vocabulary (core/problem/vocabulary.go), one per leaf, located under
// "body", ordered by location so the order does not depend on the
// validator's traversal.
func (b *Body) flatten(ve *jsonschema.ValidationError, root any, out []problem.Entry) []problem.Entry {
	start := len(out)
	out = b.flattenInto(ve, root, out)
	sort.SliceStable(out[start:], func(i, j int) bool { return locLess(out[start+i].Loc, out[start+j].Loc) })
	return out
}

// locLess orders locations element by element: keys by bytes, indexes by
// number, a key before an index, a prefix first.
func locLess(a, b []problem.Loc) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		switch {
		case x.IsIndex && y.IsIndex:
			if x.Index != y.Index {
				return x.Index < y.Index
			}
		case x.IsIndex != y.IsIndex:
			return !x.IsIndex
		case x.Key != y.Key:
			return x.Key < y.Key
		}
	}
	return len(a) < len(b)
}

func (b *Body) flattenInto(ve *jsonschema.ValidationError, root any, out []problem.Entry) []problem.Entry {
	loc, val := locate(root, ve.InstanceLocation)
	at := func(r problem.Rule) []problem.Entry { return append(out, r.At(loc, encodeInput(val))) }
	// A failed anyOf or oneOf is one error about the value, not one per
	// branch: the value did not take any branch.
	switch k := ve.ErrorKind.(type) {
	case *kind.AnyOf:
		return at(problem.AnyOf())
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			return at(problem.OneOf(0))
		}
		return at(problem.OneOf(b.oneOfMatches(ve.SchemaURL, val, len(k.Subschemas))))
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = b.flattenInto(c, root, out)
		}
		return out
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			l := append(append([]problem.Loc(nil), loc...), problem.Key(m))
			out = append(out, problem.Missing().At(l, encodeInput(val)))
		}
		return out
	case *kind.AdditionalProperties:
		for _, m := range k.Properties {
			l := append(append([]problem.Loc(nil), loc...), problem.Key(m))
			out = append(out, problem.AdditionalProperty(m).At(l, nil))
		}
		return out
	}
	return at(b.rule(ve, val))
}

// rule maps one leaf error of the general validator to its rule; val is
// the value it is about.
func (b *Body) rule(ve *jsonschema.ValidationError, val any) problem.Rule {
	switch k := ve.ErrorKind.(type) {
	case *kind.Type:
		want := ""
		for _, w := range k.Want {
			if w != "null" {
				want = w
				break
			}
		}
		if want == "" && len(k.Want) > 0 {
			want = k.Want[0]
		}
		if k.Got == "string" {
			// A string where a scalar was wanted: pydantic words it as a
			// failed parse of that string.
			return problem.Parsing(want)
		}
		return problem.WrongType(want)
	case *kind.MinLength:
		return problem.StringTooShort(k.Want)
	case *kind.MaxLength:
		return problem.StringTooLong(k.Want)
	case *kind.Pattern:
		if s, ok := val.(string); ok && strings.IndexByte(s, 0) >= 0 {
			return problem.NulByte(s)
		}
		return problem.PatternMismatch(k.Want)
	case *kind.Minimum:
		return problem.GreaterThanEqual(ratString(k.Want))
	case *kind.Maximum:
		return problem.LessThanEqual(ratString(k.Want))
	case *kind.ExclusiveMinimum:
		return problem.GreaterThan(ratString(k.Want))
	case *kind.ExclusiveMaximum:
		return problem.LessThan(ratString(k.Want))
	case *kind.MultipleOf:
		return problem.MultipleOf(ratString(k.Want), encodeInput(val))
	case *kind.Enum:
		var human []string
		for _, w := range k.Want {
			if s, ok := w.(string); ok {
				human = append(human, "'"+s+"'")
			} else {
				human = append(human, string(encodeInput(w)))
			}
		}
		return problem.Enum(joinOr(human))
	case *kind.Const:
		return problem.Const(encodeInput(k.Want), encodeInput(val))
	case *kind.Not:
		return problem.Not(encodeInput(b.schemaAt(ve.SchemaURL, "not")), encodeInput(val))
	case *kind.Format:
		s, _ := val.(string)
		return problem.FormatParsing(k.Want, s)
	case *kind.MinItems:
		return problem.MinItems(k.Want, k.Got)
	case *kind.MaxItems:
		return problem.MaxItems(k.Want, k.Got)
	case *kind.UniqueItems:
		var dup []byte
		if list, ok := val.([]any); ok && k.Duplicates[1] < len(list) {
			dup = encodeInput(list[k.Duplicates[1]])
		}
		return problem.UniqueItems(k.Duplicates[1], dup)
	case *kind.MinProperties:
		return problem.MinProperties(k.Want, k.Got)
	case *kind.MaxProperties:
		return problem.MaxProperties(k.Want, k.Got)
	case *kind.Dependency:
		return problem.DependentRequired(k.Prop, k.Missing)
	case *kind.DependentRequired:
		return problem.DependentRequired(k.Prop, k.Missing)
	case *kind.FalseSchema:
		return problem.FalseSchema()
	}
	kw := ""
	if p := ve.ErrorKind.KeywordPath(); len(p) > 0 {
		kw = p[0]
	}
	return problem.Keyword(kw, ve.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
}

// bodyURL is the resource the body schema is compiled as; validator
// errors name schema locations under it.
const bodyURL = "spikard:///body.json"

// schemaPointer returns the JSON Pointer of a schema location the
// validator reports (bodyURL#/properties/a), or false.
func schemaPointer(url string) (string, bool) {
	return strings.CutPrefix(url, bodyURL+"#")
}

// schemaAt returns member kw of the schema at url, as the schema document
// spells it (nil when it cannot be found).
func (b *Body) schemaAt(url, kw string) any {
	ptr, ok := schemaPointer(url)
	if !ok {
		return nil
	}
	cur := b.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	if m, ok := cur.(map[string]any); ok {
		return m[kw]
	}
	return nil
}

// oneOfMatches counts the branches of the oneOf at url that val matches;
// the validator stops at the second, so seen is the fallback.
func (b *Body) oneOfMatches(url string, val any, seen int) int {
	ptr, _ := schemaPointer(url)
	branches, ok := b.oneOf[ptr]
	if !ok {
		return seen
	}
	n := 0
	for _, s := range branches {
		if s.Validate(val) == nil {
			n++
		}
	}
	return n
}

// ratString writes a schema bound as a JSON number: an integer exactly,
// a fraction as the shortest decimal that reads back as the same float
// (1.5, not the rational 3/2).
func ratString(r *big.Rat) string {
	if r == nil {
		return "null"
	}
	if r.IsInt() {
		return r.RatString()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// locate converts a JSON-pointer-like instance location into loc elements
// (integers for array indexes) and returns the value found there.
func locate(root any, path []string) ([]problem.Loc, any) {
	loc := make([]problem.Loc, 0, len(path)+1)
	loc = append(loc, problem.Key("body"))
	cur := root
	for _, tok := range path {
		switch c := cur.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err == nil && i >= 0 && i < len(c) {
				loc = append(loc, problem.Index(i))
				cur = c[i]
				continue
			}
			cur = nil
		case map[string]any:
			cur = c[tok]
		default:
			cur = nil
		}
		loc = append(loc, problem.Key(tok))
	}
	return loc, cur
}
