package problem

import (
	"strconv"
	"strings"
)

// The error vocabulary: what one validation failure says, whatever the
// value's source (path, query, header, cookie, body) and however its
// schema was written. Every part of core that reports a failure builds
// its entry from one of these rules, so the words are defined once.
//
// Two families:
//   - pydantic v2's type, message and ctx for the failures pydantic has
//     (what FastAPI and Litestar users read): missing, the parse and type
//     errors, string lengths, pattern, the four numeric bounds, enum, and
//     the uuid, date and date-time formats. These entries carry "input".
//   - "validation_error" for the keywords only JSON Schema has (anyOf,
//     oneOf, not, const, multipleOf, minItems/maxItems, uniqueItems,
//     additionalProperties, min/maxProperties, dependentRequired, the other
//     formats): a message saying what was required, the keyword's values
//     in ctx (and the offending value there, under "value", when it
//     helps), and no "input".
//
// Rules are built on the error path only; nothing here runs for a valid
// request.

// Native is the type of every JSON-Schema-only entry.
const Native = "validation_error"

// Rule is one failure without its location: an entry's type, message and
// ctx (an encoded JSON object, or nil).
type Rule struct {
	Type string
	Msg  string
	Ctx  []byte
}

// At places r at loc. input is the offending value as JSON; a
// validation_error entry leaves it out (its ctx carries what matters).
func (r Rule) At(loc []Loc, input []byte) Entry {
	if r.Type == Native {
		return Entry{Type: r.Type, Loc: loc, Msg: r.Msg, Ctx: r.Ctx, NoInput: true}
	}
	return Entry{Type: r.Type, Loc: loc, Msg: r.Msg, Input: input, Ctx: r.Ctx}
}

// Missing is a required value that is absent.
func Missing() Rule { return Rule{Type: "missing", Msg: "Field required"} }

// Parsing is a string that does not parse as want ("integer", "number",
// "boolean"); any other want is a type error.
func Parsing(want string) Rule {
	switch want {
	case "integer":
		return Rule{Type: "int_parsing", Msg: "Input should be a valid integer, unable to parse string as an integer"}
	case "number":
		return Rule{Type: "float_parsing", Msg: "Input should be a valid number, unable to parse string as a number"}
	case "boolean":
		return Rule{Type: "bool_parsing", Msg: "Input should be a valid boolean, unable to interpret input"}
	}
	return WrongType(want)
}

// WrongType is a JSON value of another type than want, a JSON Schema type
// name.
func WrongType(want string) Rule {
	switch want {
	case "string":
		return Rule{Type: "string_type", Msg: "Input should be a valid string"}
	case "integer":
		return Rule{Type: "int_type", Msg: "Input should be a valid integer"}
	case "number":
		return Rule{Type: "float_type", Msg: "Input should be a valid number"}
	case "boolean":
		return Rule{Type: "bool_type", Msg: "Input should be a valid boolean"}
	case "object":
		return Rule{Type: "model_attributes_type", Msg: "Input should be a valid dictionary or object to extract fields from"}
	case "array":
		return Rule{Type: "list_type", Msg: "Input should be a valid list"}
	case "null":
		return Rule{Type: "none_required", Msg: "Input should be None"}
	}
	return Rule{Type: Native, Msg: "Input is not of the type the schema allows"}
}

// StringTooShort is minLength.
func StringTooShort(min int) Rule {
	return Rule{Type: "string_too_short", Msg: "String should have at least " + Plural(min, "character"),
		Ctx: []byte(`{"min_length":` + strconv.Itoa(min) + `}`)}
}

// StringTooLong is maxLength.
func StringTooLong(max int) Rule {
	return Rule{Type: "string_too_long", Msg: "String should have at most " + Plural(max, "character"),
		Ctx: []byte(`{"max_length":` + strconv.Itoa(max) + `}`)}
}

// PatternMismatch is pattern.
func PatternMismatch(pattern string) Rule {
	return Rule{Type: "string_pattern_mismatch", Msg: "String should match pattern '" + pattern + "'",
		Ctx: append(AppendString([]byte(`{"pattern":`), pattern), '}')}
}

// NulByte is a string holding U+0000 that fails a pattern: the NUL is the
// likely cause (a truncation or injection attempt), so it is named instead
// of the pattern, and the value is shown with each NUL spelled \u0000 so
// logs and terminals stay intact.
func NulByte(value string) Rule {
	shown := strings.ReplaceAll(value, "\x00", `\u0000`)
	return Rule{Type: Native, Msg: "String contains null byte character",
		Ctx: append(AppendString([]byte(`{"value":`), shown), '}')}
}

// The numeric bounds; b is the bound as written in the schema (a JSON
// number).

// GreaterThanEqual is minimum.
func GreaterThanEqual(b string) Rule {
	return Rule{Type: "greater_than_equal", Msg: "Input should be greater than or equal to " + b, Ctx: []byte(`{"ge":` + b + `}`)}
}

// GreaterThan is exclusiveMinimum.
func GreaterThan(b string) Rule {
	return Rule{Type: "greater_than", Msg: "Input should be greater than " + b, Ctx: []byte(`{"gt":` + b + `}`)}
}

// LessThanEqual is maximum.
func LessThanEqual(b string) Rule {
	return Rule{Type: "less_than_equal", Msg: "Input should be less than or equal to " + b, Ctx: []byte(`{"le":` + b + `}`)}
}

// LessThan is exclusiveMaximum.
func LessThan(b string) Rule {
	return Rule{Type: "less_than", Msg: "Input should be less than " + b, Ctx: []byte(`{"lt":` + b + `}`)}
}

// MultipleOf is multipleOf; m is the divisor as written, value the number
// as JSON.
func MultipleOf(m string, value []byte) Rule {
	ctx := append([]byte(`{"multiple_of":`+m+`,"value":`), value...)
	return Rule{Type: Native, Msg: "Value must be a multiple of " + m, Ctx: append(ctx, '}')}
}

// Enum is enum; expected lists the values as "'a', 'b' or 1".
func Enum(expected string) Rule {
	return Rule{Type: "enum", Msg: "Input should be " + expected,
		Ctx: append(AppendString([]byte(`{"expected":`), expected), '}')}
}

// Const is const: want and value as JSON.
func Const(want, value []byte) Rule {
	ctx := append(append([]byte(`{"const":`), want...), `,"value":`...)
	return Rule{Type: Native, Msg: "Value must be " + string(want), Ctx: append(append(ctx, value...), '}')}
}

// Not is not: the value matches the schema it must not match (schema as
// JSON).
func Not(schema, value []byte) Rule {
	ctx := append(append([]byte(`{"not":`), schema...), `,"value":`...)
	return Rule{Type: Native, Msg: "Value must not match the schema given in 'not'", Ctx: append(append(ctx, value...), '}')}
}

// AnyOf is anyOf with no branch matching.
func AnyOf() Rule {
	return Rule{Type: Native, Msg: "Must match at least one schema (anyOf), but matched 0", Ctx: []byte(`{"matched_schemas":0}`)}
}

// OneOf is oneOf with matched branches matching, none or more than one.
func OneOf(matched int) Rule {
	n := strconv.Itoa(matched)
	return Rule{Type: Native, Msg: "Must match exactly one schema (oneOf), but matched " + n,
		Ctx: []byte(`{"matched_schemas":` + n + `}`)}
}

// Format is a string that is not of a format other than uuid, date and
// date-time (those are pydantic's parse errors: see FormatParsing).
func Format(format, value string) Rule {
	ctx := AppendString(append(AppendString([]byte(`{"format":`), format), `,"value":`...), value)
	return Rule{Type: Native, Msg: "Invalid " + FormatNoun(format) + " format", Ctx: append(ctx, '}')}
}

// FormatParsing is the rule for a string that is not of format; for uuid,
// date and date-time it is pydantic's parse error, for the others Format.
func FormatParsing(format, value string) Rule {
	switch format {
	case "uuid":
		return Rule{Type: "uuid_parsing", Msg: "Input should be a valid UUID"}
	case "date":
		return Rule{Type: "date_parsing", Msg: "Input should be a valid date in the format YYYY-MM-DD"}
	case "date-time":
		return Rule{Type: "datetime_parsing", Msg: "Input should be a valid datetime"}
	}
	return Format(format, value)
}

// FormatNoun names a format in a message ("Invalid IPv4 address format").
func FormatNoun(format string) string {
	switch format {
	case "ipv4":
		return "IPv4 address"
	case "ipv6":
		return "IPv6 address"
	case "uri":
		return "URI"
	}
	return format
}

// MinItems is minItems: want at least, got items.
func MinItems(want, got int) Rule {
	return Rule{Type: Native, Msg: "Array must contain at least " + Plural(want, "item"),
		Ctx: []byte(`{"min_items":` + strconv.Itoa(want) + `,"actual_items":` + strconv.Itoa(got) + `}`)}
}

// MaxItems is maxItems: want at most, got items.
func MaxItems(want, got int) Rule {
	return Rule{Type: Native, Msg: "Array must not contain more than " + Plural(want, "item"),
		Ctx: []byte(`{"max_items":` + strconv.Itoa(want) + `,"actual_items":` + strconv.Itoa(got) + `}`)}
}

// UniqueItems is uniqueItems: the item at index repeats an earlier one;
// value is that item as JSON (nil to leave it out).
func UniqueItems(index int, value []byte) Rule {
	ctx := []byte(`{"unique_items":true,"duplicate_index":` + strconv.Itoa(index))
	if value != nil {
		ctx = append(append(ctx, `,"duplicate_value":`...), value...)
	}
	return Rule{Type: Native, Msg: "Array items must be unique", Ctx: append(ctx, '}')}
}

// AdditionalProperty is additionalProperties: false; the entry sits at
// the unexpected member.
func AdditionalProperty(name string) Rule {
	return Rule{Type: Native, Msg: "Additional properties are not allowed",
		Ctx: append(AppendString([]byte(`{"additional_properties":false,"unexpected_field":`), name), '}')}
}

// MinProperties is minProperties.
func MinProperties(want, got int) Rule {
	return Rule{Type: Native, Msg: "Object must have at least " + Plural(want, "property"),
		Ctx: []byte(`{"min_properties":` + strconv.Itoa(want) + `,"actual_properties":` + strconv.Itoa(got) + `}`)}
}

// MaxProperties is maxProperties.
func MaxProperties(want, got int) Rule {
	return Rule{Type: Native, Msg: "Object must have at most " + Plural(want, "property"),
		Ctx: []byte(`{"max_properties":` + strconv.Itoa(want) + `,"actual_properties":` + strconv.Itoa(got) + `}`)}
}

// DependentRequired is dependentRequired (and draft-7 dependencies):
// prop is present, missing are not.
func DependentRequired(prop string, missing []string) Rule {
	quoted := make([]string, len(missing))
	for i, m := range missing {
		quoted[i] = "'" + m + "'"
	}
	verb := " is required"
	if len(missing) > 1 {
		verb = " are required"
	}
	ctx := append(AppendString([]byte(`{"dependency":`), prop), `,"required_fields":[`...)
	for i, m := range missing {
		if i > 0 {
			ctx = append(ctx, ',')
		}
		ctx = AppendString(ctx, m)
	}
	return Rule{Type: Native, Msg: "When '" + prop + "' is present, " + strings.Join(quoted, ", ") + verb, Ctx: append(ctx, "]}"...)}
}

// FalseSchema is a value where the schema allows none.
func FalseSchema() Rule {
	return Rule{Type: Native, Msg: "No value is allowed here", Ctx: []byte(`{"schema":false}`)}
}

// Keyword is any other JSON Schema keyword's failure, in msg's words.
func Keyword(keyword, msg string) Rule {
	return Rule{Type: Native, Msg: msg, Ctx: append(AppendString([]byte(`{"keyword":`), keyword), '}')}
}

// Plural writes n and the noun, in the plural unless n is 1 ("2
// properties").
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		noun = noun[:len(noun)-1] + "ie"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
