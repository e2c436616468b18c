package request

import (
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/spikard/spikard/core/problem"
)

// flatten turns the validator's error tree into pydantic-style entries,
// one per leaf, located under "body", ordered by location so the order
// does not depend on the validator's traversal.
func flatten(ve *jsonschema.ValidationError, root any, out []problem.Entry) []problem.Entry {
	start := len(out)
	out = flattenInto(ve, root, out)
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

func flattenInto(ve *jsonschema.ValidationError, root any, out []problem.Entry) []problem.Entry {
	loc, val := locate(root, ve.InstanceLocation)
	// A failed anyOf is one error about the value, not one per branch.
	if _, ok := ve.ErrorKind.(*kind.AnyOf); ok {
		return append(out, problem.Entry{Type: "validation_error", Loc: loc,
			Msg: "Must match at least one schema (anyOf), but matched 0", Ctx: []byte(`{"matched_schemas":0}`), NoInput: true})
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = flattenInto(c, root, out)
		}
		return out
	}
	input := encodeInput(val)
	native := func(msg string, ctx []byte) []problem.Entry {
		return append(out, problem.Entry{Type: "validation_error", Loc: loc, Msg: msg, Ctx: ctx, NoInput: true})
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Pattern:
		if str, ok := val.(string); ok && strings.IndexByte(str, 0) >= 0 {
			msg, ctx := nulError(str)
			return native(msg, ctx)
		}
	case *kind.Type:
		if n := len(loc); n > 1 && loc[n-1].IsIndex {
			// An array item of the wrong type takes the reference
			// implementation's shape, which clients of the corpus match
			// on: "type_error", the index as a JSON Pointer token (a
			// string) and no named type. A compatibility quirk, kept to
			// array items only; every other type error is pydantic's.
			l := append(append([]problem.Loc(nil), loc[:n-1]...), problem.Key(strconv.Itoa(loc[n-1].Index)))
			return append(out, problem.Entry{Type: "type_error", Loc: l, Msg: "Input should be a valid unknown", Input: input})
		}
	case *kind.Required:
		for _, m := range k.Missing {
			l := append(append([]problem.Loc(nil), loc...), problem.Key(m))
			out = append(out, problem.Entry{Type: "missing", Loc: l, Msg: "Field required", Input: input})
		}
		return out
	case *kind.AdditionalProperties:
		for _, m := range k.Properties {
			l := append(append([]problem.Loc(nil), loc...), problem.Key(m))
			ctx := append(problem.AppendString([]byte(`{"additional_properties":false,"unexpected_field":`), m), '}')
			out = append(out, problem.Entry{Type: "validation_error", Loc: l, Msg: "Additional properties are not allowed", Ctx: ctx, NoInput: true})
		}
		return out
	case *kind.MinProperties:
		return native("Object must have at least "+plural(k.Want, "property"),
			[]byte(`{"min_properties":`+strconv.Itoa(k.Want)+`,"actual_properties":`+strconv.Itoa(k.Got)+`}`))
	case *kind.MaxProperties:
		return native("Object must have at most "+plural(k.Want, "property"),
			[]byte(`{"max_properties":`+strconv.Itoa(k.Want)+`,"actual_properties":`+strconv.Itoa(k.Got)+`}`))
	case *kind.Dependency:
		return native(dependencyMsg(k.Prop, k.Missing), dependencyCtx(k.Prop, k.Missing))
	case *kind.DependentRequired:
		return native(dependencyMsg(k.Prop, k.Missing), dependencyCtx(k.Prop, k.Missing))
	case *kind.Format:
		str, _ := val.(string)
		switch k.Want {
		case "uuid":
			return append(out, problem.Entry{Type: "uuid_parsing", Loc: loc, Msg: "Input should be a valid UUID", Input: input})
		case "date":
			return append(out, problem.Entry{Type: "date_parsing", Loc: loc, Msg: "Input should be a valid date in the format YYYY-MM-DD", Input: input})
		case "date-time":
			return append(out, problem.Entry{Type: "datetime_parsing", Loc: loc, Msg: "Input should be a valid datetime", Input: input})
		}
		return native("Invalid "+formatNoun(k.Want)+" format", formatCtx(k.Want, str))
	case *kind.MinItems:
		return native("Array must contain at least "+plural(k.Want, "item"),
			[]byte(`{"min_items":`+strconv.Itoa(k.Want)+`,"actual_items":`+strconv.Itoa(k.Got)+`}`))
	case *kind.MaxItems:
		return append(out, problem.Entry{Type: "validation_error", Loc: loc,
			Msg: string(input) + " has more than " + plural(k.Want, "item"), Input: input})
	}
	e := problem.Entry{Loc: loc, Input: input}
	e.Type, e.Msg, e.Ctx = describe(ve.ErrorKind)
	return append(out, e)
}

// nulError is the error for a string that contains U+0000 and fails a
// pattern: the NUL is the likely cause (a truncation or injection
// attempt), so it is named instead of the pattern, and the value is shown
// with each NUL spelled \u0000 so logs and terminals stay intact.
func nulError(s string) (string, []byte) {
	shown := strings.ReplaceAll(s, "\x00", `\u0000`)
	return "String contains null byte character", append(problem.AppendString([]byte(`{"value":`), shown), '}')
}

// dependencyMsg words a failed dependentRequired: "When 'a' is present,
// 'b' is required".
func dependencyMsg(prop string, missing []string) string {
	quoted := make([]string, len(missing))
	for i, m := range missing {
		quoted[i] = "'" + m + "'"
	}
	verb := " is required"
	if len(missing) > 1 {
		verb = " are required"
	}
	return "When '" + prop + "' is present, " + strings.Join(quoted, ", ") + verb
}

func dependencyCtx(prop string, missing []string) []byte {
	out := append(problem.AppendString([]byte(`{"dependency":`), prop), `,"required_fields":[`...)
	for i, m := range missing {
		if i > 0 {
			out = append(out, ',')
		}
		out = problem.AppendString(out, m)
	}
	return append(out, "]}"...)
}

// describe maps one error kind to pydantic's type, message and ctx.
func describe(k jsonschema.ErrorKind) (string, string, []byte) {
	switch k := k.(type) {
	case *kind.Type:
		want := ""
		for _, w := range k.Want {
			if w != "null" {
				want = w
				break
			}
		}
		if k.Got == "string" {
			// A string where a scalar was wanted: pydantic words it as a
			// failed parse of that string.
			switch want {
			case "integer":
				return "int_parsing", "Input should be a valid integer, unable to parse string as an integer", nil
			case "number":
				return "float_parsing", "Input should be a valid number, unable to parse string as a number", nil
			case "boolean":
				return "bool_parsing", "Input should be a valid boolean, unable to interpret input", nil
			}
		}
		switch want {
		case "string":
			return "string_type", "Input should be a valid string", nil
		case "integer":
			return "int_type", "Input should be a valid integer", nil
		case "number":
			return "float_type", "Input should be a valid number", nil
		case "boolean":
			return "bool_type", "Input should be a valid boolean", nil
		case "object":
			return "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", nil
		case "array":
			return "list_type", "Input should be a valid list", nil
		}
	case *kind.MinLength:
		return "string_too_short", "String should have at least " + plural(k.Want, "character"), []byte(`{"min_length":` + strconv.Itoa(k.Want) + `}`)
	case *kind.MaxLength:
		return "string_too_long", "String should have at most " + plural(k.Want, "character"), []byte(`{"max_length":` + strconv.Itoa(k.Want) + `}`)
	case *kind.MinItems:
		return "too_short", "List should have at least " + plural(k.Want, "item") + " after validation, not " + strconv.Itoa(k.Got), []byte(`{"field_type":"List","min_length":` + strconv.Itoa(k.Want) + `,"actual_length":` + strconv.Itoa(k.Got) + `}`)
	case *kind.MaxItems:
		return "too_long", "List should have at most " + plural(k.Want, "item") + " after validation, not " + strconv.Itoa(k.Got), []byte(`{"field_type":"List","max_length":` + strconv.Itoa(k.Want) + `,"actual_length":` + strconv.Itoa(k.Got) + `}`)
	case *kind.Pattern:
		return "string_pattern_mismatch", "String should match pattern '" + k.Want + "'", append(problem.AppendString([]byte(`{"pattern":`), k.Want), '}')
	case *kind.Minimum:
		w := ratString(k.Want)
		return "greater_than_equal", "Input should be greater than or equal to " + w, []byte(`{"ge":` + w + `}`)
	case *kind.Maximum:
		w := ratString(k.Want)
		return "less_than_equal", "Input should be less than or equal to " + w, []byte(`{"le":` + w + `}`)
	case *kind.ExclusiveMinimum:
		w := ratString(k.Want)
		return "greater_than", "Input should be greater than " + w, []byte(`{"gt":` + w + `}`)
	case *kind.ExclusiveMaximum:
		w := ratString(k.Want)
		return "less_than", "Input should be less than " + w, []byte(`{"lt":` + w + `}`)
	case *kind.Enum:
		var human []string
		for _, w := range k.Want {
			if s, ok := w.(string); ok {
				human = append(human, "'"+s+"'")
			} else {
				human = append(human, string(encodeInput(w)))
			}
		}
		exp := joinOr(human)
		return "enum", "Input should be " + exp, append(problem.AppendString([]byte(`{"expected":`), exp), '}')
	}
	return "value_error", k.LocalizedString(message.NewPrinter(language.English)), nil
}

type rat interface{ RatString() string }

func ratString(r rat) string {
	if r == nil {
		return "null"
	}
	return r.RatString()
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
