package request

import (
	"encoding/json"
	"testing"

	"github.com/spikard/spikard/core/problem"
)

// errorsJSON renders the entries of one Extract as the "errors" array.
func errorsJSON(errs []problem.Entry) string {
	if len(errs) == 0 {
		return ""
	}
	doc := problem.Validation(errs)
	var v struct {
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(problem.Append(nil, &doc), &v); err != nil {
		return "invalid: " + err.Error()
	}
	return string(v.Errors)
}

// TestParameterRules checks one coercion or constraint rule per row: the
// params object on success, or the exact error entries on failure.
func TestParameterRules(t *testing.T) {
	cases := []struct {
		name, prop, query string
		headers           map[string]string
		want, errs        string
	}{
		{"repeated keys make a list", `"t":{"type":"array","items":{"type":"string"}}`, "t=a&t=b", nil, `{"t":["a","b"]}`, ""},
		{"empty value is empty string", `"t":{"type":"string"}`, "t=", nil, `{"t":""}`, ""},
		{"percent-decoded utf-8", `"t":{"type":"string"}`, "t=%C3%A9+x", nil, `{"t":"é x"}`, ""},
		{"scientific notation", `"x":{"type":"number"}`, "x=1.5e-3", nil, `{"x":0.0015}`, ""},
		{"bool textual forms", `"b":{"type":"boolean"}`, "b=YES", nil, `{"b":true}`, ""},
		{"header underscore to dash, loc uses wire name", `"x_api_key":{"type":"string","source":"header"}},"required":["x_api_key"],"z":{`, "", nil, "",
			`[{"type":"missing","loc":["headers","x-api-key"],"msg":"Field required","input":null}]`},
		{"alias names the loc", `"q":{"type":"integer","alias":"item-q"}`, "item-q=x", nil, "",
			`[{"type":"int_parsing","loc":["query","item-q"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"}]`},
		{"header found case-insensitively", `"x_api_key":{"type":"string","source":"header"}`, "", map[string]string{"x-api-key": "k"}, `{"x_api_key":"k"}`, ""},
		{"maximum", `"n":{"type":"integer","maximum":100}`, "n=101", nil, "",
			`[{"type":"less_than_equal","loc":["query","n"],"msg":"Input should be less than or equal to 100","input":"101","ctx":{"le":100}}]`},
		{"minimum", `"n":{"type":"integer","minimum":1}`, "n=0", nil, "",
			`[{"type":"greater_than_equal","loc":["query","n"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]`},
		{"exclusiveMaximum", `"n":{"type":"number","exclusiveMaximum":2.5}`, "n=2.5", nil, "",
			`[{"type":"less_than","loc":["query","n"],"msg":"Input should be less than 2.5","input":"2.5","ctx":{"lt":2.5}}]`},
		{"multipleOf fails", `"n":{"type":"integer","multipleOf":5}`, "n=17", nil, "",
			`[{"type":"validation_error","loc":["query","n"],"msg":"Value must be a multiple of 5","ctx":{"multiple_of":5,"value":17}}]`},
		{"decimal multipleOf", `"n":{"type":"number","multipleOf":0.01}`, "n=19.99", nil, `{"n":19.99}`, ""},
		{"minItems", `"i":{"type":"array","items":{"type":"integer"},"minItems":2}`, "i=1", nil, "",
			`[{"type":"validation_error","loc":["query","i"],"msg":"Array must contain at least 2 items","ctx":{"min_items":2,"actual_items":1}}]`},
		{"maxItems", `"i":{"type":"array","items":{"type":"integer"},"maxItems":1}`, "i=1&i=2", nil, "",
			`[{"type":"validation_error","loc":["query","i"],"msg":"Array must not contain more than 1 item","ctx":{"max_items":1,"actual_items":2}}]`},
		{"uniqueItems", `"i":{"type":"array","items":{"type":"integer"},"uniqueItems":true}`, "i=1&i=2&i=01", nil, "",
			`[{"type":"validation_error","loc":["query","i"],"msg":"Array items must be unique","ctx":{"unique_items":true,"duplicate_index":2,"duplicate_value":1}}]`},
		{"separator", `"c":{"type":"array","items":{"type":"string"},"separator":";"}`, "c=a;b", nil, `{"c":["a","b"]}`, ""},
		// How a parameter's schema is spelled does not change how its
		// failures read: a draft-3 boolean "required" inside the property
		// still makes it required, and nothing else.
		{"minLength however spelled", `"s":{"type":"string","minLength":3,"required":true}`, "s=ab", nil, "",
			`[{"type":"string_too_short","loc":["query","s"],"msg":"String should have at least 3 characters","input":"ab","ctx":{"min_length":3}}]`},
		{"maxLength counts runes", `"s":{"type":"string","maxLength":2,"required":true}`, "s=%C3%A9%C3%A9%C3%A9", nil, "",
			`[{"type":"string_too_long","loc":["query","s"],"msg":"String should have at most 2 characters","input":"ééé","ctx":{"max_length":2}}]`},
		{"pattern however spelled", `"s":{"type":"string","pattern":"^a+$","required":false}`, "s=ab", nil, "",
			`[{"type":"string_pattern_mismatch","loc":["query","s"],"msg":"String should match pattern '^a+$'","input":"ab","ctx":{"pattern":"^a+$"}}]`},
		{"maximum however spelled", `"n":{"type":"integer","maximum":100,"required":true}`, "n=101", nil, "",
			`[{"type":"less_than_equal","loc":["query","n"],"msg":"Input should be less than or equal to 100","input":"101","ctx":{"le":100}}]`},
		{"fractional minimum", `"n":{"type":"number","minimum":1.5,"required":true}`, "n=1", nil, "",
			`[{"type":"greater_than_equal","loc":["query","n"],"msg":"Input should be greater than or equal to 1.5","input":"1","ctx":{"ge":1.5}}]`},
		{"exclusiveMinimum", `"n":{"type":"integer","exclusiveMinimum":0,"required":true}`, "n=0", nil, "",
			`[{"type":"greater_than","loc":["query","n"],"msg":"Input should be greater than 0","input":"0","ctx":{"gt":0}}]`},
		{"boolean required true makes it required", `"n":{"type":"integer","required":true}`, "", nil, "",
			`[{"type":"missing","loc":["query","n"],"msg":"Field required","input":null}]`},
		{"array items", `"t":{"type":"array","items":{"type":"string","minLength":2},"required":true}`, "t=ab&t=c", nil, "",
			`[{"type":"string_too_short","loc":["query","t",1],"msg":"String should have at least 2 characters","input":"c","ctx":{"min_length":2}}]`},
		{"empty boolean is false", `"b":{"type":"boolean"}`, "b=", nil, `{"b":false}`, ""},
		{"bare boolean key is false", `"b":{"type":"boolean"}`, "b", nil, `{"b":false}`, ""},
		{"empty boolean item is false", `"b":{"type":"array","items":{"type":"boolean"}}`, "b=1&b=", nil, `{"b":[true,false]}`, ""},
		{"empty boolean header is still an error", `"b":{"type":"boolean","source":"header"}`, "", map[string]string{"b": ""}, "",
			`[{"type":"bool_parsing","loc":["headers","b"],"msg":"Input should be a valid boolean, unable to interpret input","input":""}]`},
		{"uniqueItems names the duplicate", `"t":{"type":"array","items":{"type":"string"},"uniqueItems":true}`, "t=a&t=b&t=a", nil, "",
			`[{"type":"validation_error","loc":["query","t"],"msg":"Array items must be unique","ctx":{"unique_items":true,"duplicate_index":2,"duplicate_value":"a"}}]`},
		{"typed minLength stays pydantic", `"s":{"type":"string","minLength":3}`, "s=ab", nil, "",
			`[{"type":"string_too_short","loc":["query","s"],"msg":"String should have at least 3 characters","input":"ab","ctx":{"min_length":3}}]`},
		{"NUL failing a pattern is named", `"s":{"type":"string","pattern":"^[a-z]+$"}`, "s=a%00b", nil, "",
			`[{"type":"validation_error","loc":["query","s"],"msg":"String contains null byte character","ctx":{"value":"a\\u0000b"}}]`},
		{"email", `"e":{"type":"string","format":"email"}`, "e=nope", nil, "",
			`[{"type":"validation_error","loc":["query","e"],"msg":"Invalid email format","ctx":{"format":"email","value":"nope"}}]`},
		{"email ok", `"e":{"type":"string","format":"email"}`, "e=a%40b.io", nil, `{"e":"a@b.io"}`, ""},
		{"ipv4", `"ip":{"type":"string","format":"ipv4"}`, "ip=999.1.1.1", nil, "",
			`[{"type":"validation_error","loc":["query","ip"],"msg":"Invalid IPv4 address format","ctx":{"format":"ipv4","value":"999.1.1.1"}}]`},
		{"hostname ok", `"h":{"type":"string","format":"hostname"}`, "h=api.example.com", nil, `{"h":"api.example.com"}`, ""},
		{"duration ok", `"d":{"type":"string","format":"duration"}`, "d=P3DT4H", nil, `{"d":"P3DT4H"}`, ""},
		{"time", `"d":{"type":"string","format":"time"}`, "d=25%3A00", nil, "",
			`[{"type":"validation_error","loc":["query","d"],"msg":"Invalid time format","ctx":{"format":"time","value":"25:00"}}]`},
		{"minLength stays pydantic", `"s":{"type":"string","minLength":3}`, "s=ab", nil, "",
			`[{"type":"string_too_short","loc":["query","s"],"msg":"String should have at least 3 characters","input":"ab","ctx":{"min_length":3}}]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := plan(t, "/x", `{"type":"object","properties":{`+c.prop+`}}`)
			var s Scratch
			out, errs := p.Extract(nil, &fakeInput{query: c.query, headers: c.headers}, &s, nil)
			if got := errorsJSON(errs); got != c.errs {
				t.Fatalf("errors\n got %s\nwant %s", got, c.errs)
			}
			if c.errs == "" && string(out) != c.want {
				t.Fatalf("params got %s want %s", out, c.want)
			}
		})
	}
}

// TestBodyRules checks the body error entries of the keywords the
// parameter rules do not cover.
func TestBodyRules(t *testing.T) {
	cases := []struct{ name, schema, body, want string }{
		{"additionalProperties", `{"type":"object","properties":{"a":{}},"additionalProperties":false}`, `{"a":1,"b":2}`,
			`[{"type":"validation_error","loc":["body","b"],"msg":"Additional properties are not allowed","ctx":{"additional_properties":false,"unexpected_field":"b"}}]`},
		{"minProperties", `{"type":"object","minProperties":2}`, `{"a":1}`,
			`[{"type":"validation_error","loc":["body"],"msg":"Object must have at least 2 properties","ctx":{"min_properties":2,"actual_properties":1}}]`},
		{"maxProperties", `{"type":"object","maxProperties":1}`, `{"a":1,"b":2}`,
			`[{"type":"validation_error","loc":["body"],"msg":"Object must have at most 1 property","ctx":{"max_properties":1,"actual_properties":2}}]`},
		{"dependentRequired", `{"type":"object","dependentRequired":{"a":["b"]}}`, `{"a":1}`,
			`[{"type":"validation_error","loc":["body"],"msg":"When 'a' is present, 'b' is required","ctx":{"dependency":"a","required_fields":["b"]}}]`},
		{"anyOf is one error", `{"type":"object","anyOf":[{"required":["x"]},{"required":["y"]}]}`, `{}`,
			`[{"type":"validation_error","loc":["body"],"msg":"Must match at least one schema (anyOf), but matched 0","ctx":{"matched_schemas":0}}]`},
		{"minItems", `{"type":"array","minItems":2}`, `[1]`,
			`[{"type":"validation_error","loc":["body"],"msg":"Array must contain at least 2 items","ctx":{"min_items":2,"actual_items":1}}]`},
		{"maxItems", `{"type":"array","maxItems":1}`, `[1,2]`,
			`[{"type":"validation_error","loc":["body"],"msg":"Array must not contain more than 1 item","ctx":{"max_items":1,"actual_items":2}}]`},
		{"uniqueItems names the duplicate", `{"type":"array","uniqueItems":true}`, `[{"a":1},2,{"a":1}]`,
			`[{"type":"validation_error","loc":["body"],"msg":"Array items must be unique","ctx":{"unique_items":true,"duplicate_index":2,"duplicate_value":{"a":1}}}]`},
		{"multipleOf", `{"type":"object","properties":{"q":{"type":"integer","multipleOf":5}}}`, `{"q":17}`,
			`[{"type":"validation_error","loc":["body","q"],"msg":"Value must be a multiple of 5","ctx":{"multiple_of":5,"value":17}}]`},
		{"oneOf none is one error", `{"type":"object","properties":{"v":{"oneOf":[{"type":"string"},{"type":"boolean"}]}}}`, `{"v":3}`,
			`[{"type":"validation_error","loc":["body","v"],"msg":"Must match exactly one schema (oneOf), but matched 0","ctx":{"matched_schemas":0}}]`},
		{"oneOf several counts them all", `{"oneOf":[{"type":"number"},{"type":"integer"},{"minimum":0}]}`, `3`,
			`[{"type":"validation_error","loc":["body"],"msg":"Must match exactly one schema (oneOf), but matched 3","ctx":{"matched_schemas":3}}]`},
		{"oneOf under $defs", `{"$defs":{"P":{"oneOf":[{"type":"integer"},{"type":"number"}]}},"properties":{"p":{"$ref":"#/$defs/P"}}}`, `{"p":2}`,
			`[{"type":"validation_error","loc":["body","p"],"msg":"Must match exactly one schema (oneOf), but matched 2","ctx":{"matched_schemas":2}}]`},
		{"not", `{"type":"object","properties":{"name":{"not":{"const":"admin"}}}}`, `{"name":"admin"}`,
			`[{"type":"validation_error","loc":["body","name"],"msg":"Value must not match the schema given in 'not'","ctx":{"not":{"const":"admin"},"value":"admin"}}]`},
		{"const", `{"type":"object","properties":{"v":{"const":"1.0"}}}`, `{"v":"2.0"}`,
			`[{"type":"validation_error","loc":["body","v"],"msg":"Value must be \"1.0\"","ctx":{"const":"1.0","value":"2.0"}}]`},
		{"const number", `{"const":3}`, `4`,
			`[{"type":"validation_error","loc":["body"],"msg":"Value must be 3","ctx":{"const":3,"value":4}}]`},
		{"null type", `{"type":"object","properties":{"n":{"type":"null"}}}`, `{"n":1}`,
			`[{"type":"none_required","loc":["body","n"],"msg":"Input should be None","input":1}]`},
		{"string for a number is a parse error", `{"type":"object","properties":{"i":{"type":"integer"},"f":{"type":"number"},"b":{"type":"boolean"}}}`, `{"i":"x","f":"y","b":"z"}`,
			`[{"type":"bool_parsing","loc":["body","b"],"msg":"Input should be a valid boolean, unable to interpret input","input":"z"},{"type":"float_parsing","loc":["body","f"],"msg":"Input should be a valid number, unable to parse string as a number","input":"y"},{"type":"int_parsing","loc":["body","i"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"}]`},
		{"sorted by location", `{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"string"}}}`, `{"b":1,"a":2}`,
			`[{"type":"string_type","loc":["body","a"],"msg":"Input should be a valid string","input":2},{"type":"string_type","loc":["body","b"],"msg":"Input should be a valid string","input":1}]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := CompileBody([]byte(c.schema))
			if err != nil {
				t.Fatal(err)
			}
			p := b.Validate([]byte(c.body))
			if p == nil {
				t.Fatal("valid, want an error")
			}
			if got := errorsJSON(p.Errors); got != c.want {
				t.Fatalf("errors\n got %s\nwant %s", got, c.want)
			}
		})
	}
	b, _ := CompileBody([]byte(`{"type":"object"}`))
	if p := b.Validate([]byte(`{"a":`)); p == nil || p.Status != 400 || string(problem.Append(nil, p)) != `{"type":"https://spikard.dev/errors/bad-request","title":"Bad Request","status":400,"detail":"Invalid request format"}` || p.MediaType() != problem.ContentType {
		t.Fatalf("malformed JSON: %+v", p)
	}
}

// TestBodyFormats checks that formats are assertions in bodies too, with
// the parameter rules' wording.
func TestBodyFormats(t *testing.T) {
	cases := []struct{ format, value, want string }{
		{"email", `"nope"`, `[{"type":"validation_error","loc":["body"],"msg":"Invalid email format","ctx":{"format":"email","value":"nope"}}]`},
		{"ipv4", `"1.2.3"`, `[{"type":"validation_error","loc":["body"],"msg":"Invalid IPv4 address format","ctx":{"format":"ipv4","value":"1.2.3"}}]`},
		{"uuid", `"x"`, `[{"type":"uuid_parsing","loc":["body"],"msg":"Input should be a valid UUID","input":"x"}]`},
		{"date", `"2024-13-01"`, `[{"type":"date_parsing","loc":["body"],"msg":"Input should be a valid date in the format YYYY-MM-DD","input":"2024-13-01"}]`},
		{"email", `"a@b.io"`, ""},
		{"binary", `"anything"`, ""}, // unknown formats stay annotations
	}
	for _, c := range cases {
		b, err := CompileBody([]byte(`{"type":"string","format":"` + c.format + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if p := b.Validate([]byte(c.value)); p != nil {
			got = errorsJSON(p.Errors)
		}
		if got != c.want {
			t.Errorf("%s %s:\n got %s\nwant %s", c.format, c.value, got, c.want)
		}
	}
}

// TestBodyQuirkRules checks the body rules beyond pydantic's shapes: a
// NUL failing a pattern is named, and an array item of the wrong type is
// pydantic's type error at the item's index.
func TestBodyQuirkRules(t *testing.T) {
	cases := []struct{ name, schema, body, errs string }{
		{"NUL failing a pattern", `{"properties":{"f":{"type":"string","pattern":"^[^\\x00]+$"}}}`, `{"f":"a\u0000b"}`,
			`[{"type":"validation_error","loc":["body","f"],"msg":"String contains null byte character","ctx":{"value":"a\\u0000b"}}]`},
		{"pattern without NUL stays pydantic", `{"properties":{"f":{"type":"string","pattern":"^a$"}}}`, `{"f":"b"}`,
			`[{"type":"string_pattern_mismatch","loc":["body","f"],"msg":"String should match pattern '^a$'","input":"b","ctx":{"pattern":"^a$"}}]`},
		{"array item type", `{"properties":{"t":{"type":"array","items":{"type":"string"}}}}`, `{"t":["a",2]}`,
			`[{"type":"string_type","loc":["body","t",1],"msg":"Input should be a valid string","input":2}]`},
		{"field type", `{"properties":{"t":{"type":"string"}}}`, `{"t":2}`,
			`[{"type":"string_type","loc":["body","t"],"msg":"Input should be a valid string","input":2}]`},
	}
	for _, c := range cases {
		b, err := CompileBody([]byte(c.schema))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		p := b.Validate([]byte(c.body))
		if p == nil {
			t.Errorf("%s: valid, want %s", c.name, c.errs)
			continue
		}
		if got := errorsJSON(p.Errors); got != c.errs {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.errs)
		}
	}
}
