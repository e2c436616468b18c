package request

import (
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/spikard/spikard/core/problem"
)

// flatten turns the validator's error tree into pydantic-style entries,
// one per leaf, located under "body".
func flatten(ve *jsonschema.ValidationError, root any, out []problem.Entry) []problem.Entry {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = flatten(c, root, out)
		}
		return out
	}
	loc, val := locate(root, ve.InstanceLocation)
	input := encodeInput(val)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			l := append(append([]problem.Loc(nil), loc...), problem.Key(m))
			out = append(out, problem.Entry{Type: "missing", Loc: l, Msg: "Field required", Input: input})
		}
		return out
	case *kind.AdditionalProperties:
		for _, m := range k.Properties {
			l := append(append([]problem.Loc(nil), loc...), problem.Key(m))
			var extra any
			if obj, ok := val.(map[string]any); ok {
				extra = obj[m]
			}
			out = append(out, problem.Entry{Type: "extra_forbidden", Loc: l, Msg: "Extra inputs are not permitted", Input: encodeInput(extra)})
		}
		return out
	}
	e := problem.Entry{Loc: loc, Input: input}
	e.Type, e.Msg, e.Ctx = describe(ve.ErrorKind)
	return append(out, e)
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
