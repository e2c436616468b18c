package validate

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/spikard/spikard/core/problem"
)

// render prints entries compactly: type loc msg input ctx, one per line.
func render(es []problem.Entry) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Type)
		b.WriteString(" ")
		for i, l := range e.Loc {
			if i > 0 {
				b.WriteString("/")
			}
			if l.IsIndex {
				b.WriteString("#" + strconv.Itoa(l.Index))
			} else {
				b.WriteString(l.Key)
			}
		}
		b.WriteString(" | " + e.Msg + " | " + string(e.Input))
		if e.Ctx != nil {
			b.WriteString(" | " + string(e.Ctx))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestKeywords(t *testing.T) {
	tests := []struct {
		name, schema, doc string
		want              string // rendered entries; "" for valid
	}{
		{"type string ok", `{"type":"string"}`, `"a"`, ""},
		{"type string", `{"type":"string"}`, `1`, "string_type body | Input should be a valid string | 1\n"},
		{"type integer", `{"type":"integer"}`, `1.5`, "int_type body | Input should be a valid integer | 1.5\n"},
		{"integer 1.0", `{"type":"integer"}`, `1.0`, ""},
		{"integer 1e2", `{"type":"integer"}`, `1e2`, ""},
		{"integer 1.5e1", `{"type":"integer"}`, `1.5e1`, ""},
		{"integer 15e-1", `{"type":"integer"}`, `15e-1`, "int_type body | Input should be a valid integer | 15e-1\n"},
		{"number", `{"type":"number"}`, `"x"`, "float_parsing body | Input should be a valid number, unable to parse string as a number | \"x\"\n"},
		{"boolean", `{"type":"boolean"}`, `null`, "bool_type body | Input should be a valid boolean | null\n"},
		{"object", `{"type":"object"}`, `[1, 2]`, "model_attributes_type body | Input should be a valid dictionary or object to extract fields from | [1,2]\n"},
		{"array", `{"type":"array"}`, `{}`, "list_type body | Input should be a valid list | {}\n"},
		{"nullable ok", `{"type":["string","null"]}`, `null`, ""},
		{"nullable", `{"type":["string","null"]}`, `3`, "string_type body | Input should be a valid string | 3\n"},
		{"null only", `{"type":"null"}`, `3`, "none_required body | Input should be None | 3\n"},
		{"required", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a","b"]}`, `{"c": 1}`,
			"missing body/a | Field required | {\"c\":1}\nmissing body/b | Field required | {\"c\":1}\n"},
		{"properties", `{"properties":{"a":{"type":"string"},"b":{"type":"integer"}}}`, `{"b":"x","a":1}`,
			"int_parsing body/b | Input should be a valid integer, unable to parse string as an integer | \"x\"\nstring_type body/a | Input should be a valid string | 1\n"},
		{"escaped key", `{"properties":{"a/b":{"type":"string"}}}`, `{"a\/b":1}`, "string_type body/a/b | Input should be a valid string | 1\n"},
		{"additional false", `{"properties":{"a":{}},"additionalProperties":false}`, `{"a":1,"x":[ 1 ]}`,
			"validation_error body/x | Additional properties are not allowed |  | {\"additional_properties\":false,\"unexpected_field\":\"x\"}\n"},
		{"additional schema", `{"additionalProperties":{"type":"integer"}}`, `{"a":1,"b":"2"}`,
			"int_parsing body/b | Input should be a valid integer, unable to parse string as an integer | \"2\"\n"},
		{"items", `{"items":{"type":"string"}}`, `["a", 2]`, "string_type body/#1 | Input should be a valid string | 2\n"},
		{"prefixItems", `{"prefixItems":[{"type":"integer"}],"items":{"type":"string"}}`, `[1,"a",3]`,
			"string_type body/#2 | Input should be a valid string | 3\n"},
		{"enum", `{"enum":["a","b",1]}`, `"c"`, "enum body | Input should be 'a', 'b' or 1 | \"c\" | {\"expected\":\"'a', 'b' or 1\"}\n"},
		{"enum number", `{"enum":[1,2]}`, `2.0`, ""},
		{"enum object", `{"enum":["a"]}`, `{}`, "enum body | Input should be 'a' | {} | {\"expected\":\"'a'\"}\n"},
		{"const", `{"const":"x"}`, `"y"`, "validation_error body | Value must be \"x\" |  | {\"const\":\"x\",\"value\":\"y\"}\n"},
		{"const null", `{"const":null}`, `0`, "validation_error body | Value must be null |  | {\"const\":null,\"value\":0}\n"},
		{"minimum", `{"minimum":1}`, `0`, "greater_than_equal body | Input should be greater than or equal to 1 | 0 | {\"ge\":1}\n"},
		{"minimum equal", `{"minimum":1}`, `1.0`, ""},
		{"maximum", `{"maximum":1.0}`, `1.5`, "less_than_equal body | Input should be less than or equal to 1 | 1.5 | {\"le\":1}\n"},
		{"exclusiveMinimum", `{"exclusiveMinimum":0}`, `0`, "greater_than body | Input should be greater than 0 | 0 | {\"gt\":0}\n"},
		{"exclusiveMaximum", `{"exclusiveMaximum":2.5}`, `2.5`, "less_than body | Input should be less than 2.5 | 2.5 | {\"lt\":2.5}\n"},
		{"exact compare", `{"maximum":0.1}`, `0.1000000000000000000001`, "less_than_equal body | Input should be less than or equal to 0.1 | 0.1000000000000000000001 | {\"le\":0.1}\n"},
		{"multipleOf", `{"multipleOf":5}`, `17`, "validation_error body | Value must be a multiple of 5 |  | {\"multiple_of\":5,\"value\":17}\n"},
		{"multipleOf frac", `{"multipleOf":0.1}`, `0.3`, ""},
		{"minLength code points", `{"minLength":3}`, `"é\u00e9"`, "string_too_short body | String should have at least 3 characters | \"é\\u00e9\" | {\"min_length\":3}\n"},
		{"maxLength", `{"maxLength":1}`, `"ab"`, "string_too_long body | String should have at most 1 character | \"ab\" | {\"max_length\":1}\n"},
		{"pattern", `{"pattern":"^[0-9]{3,}$"}`, `"12"`, "string_pattern_mismatch body | String should match pattern '^[0-9]{3,}$' | \"12\" | {\"pattern\":\"^[0-9]{3,}$\"}\n"},
		{"pattern escaped", `{"pattern":"^a\n$"}`, `"a\n"`, ""},
		{"minItems", `{"minItems":2}`, `[1]`, "validation_error body | Array must contain at least 2 items |  | {\"min_items\":2,\"actual_items\":1}\n"},
		{"maxItems", `{"maxItems":1}`, `[1,2]`, "validation_error body | Array must not contain more than 1 item |  | {\"max_items\":1,\"actual_items\":2}\n"},
		{"uniqueItems", `{"uniqueItems":true}`, `[1,"a",1.0]`, "validation_error body | Array items must be unique |  | {\"unique_items\":true,\"duplicate_index\":2,\"duplicate_value\":1.0}\n"},
		{"uniqueItems escaped", `{"uniqueItems":true}`, `["a","\u0061"]`, "validation_error body | Array items must be unique |  | {\"unique_items\":true,\"duplicate_index\":1,\"duplicate_value\":\"\\u0061\"}\n"},
		{"minProperties", `{"minProperties":2}`, `{"a":1}`, "validation_error body | Object must have at least 2 properties |  | {\"min_properties\":2,\"actual_properties\":1}\n"},
		{"maxProperties", `{"maxProperties":0}`, `{"a":1}`, "validation_error body | Object must have at most 0 properties |  | {\"max_properties\":0,\"actual_properties\":1}\n"},
		{"format uuid", `{"format":"uuid"}`, `"7f1c6a1e-9c2b-4c3e-8a55-1f0c2d3e4b5a"`, ""},
		{"format uuid bad", `{"format":"uuid"}`, `"nope"`, "uuid_parsing body | Input should be a valid UUID | \"nope\"\n"},
		{"format non-string", `{"format":"uuid"}`, `1`, ""},
		{"format date", `{"format":"date"}`, `"2023-02-29"`, "date_parsing body | Input should be a valid date in the format YYYY-MM-DD | \"2023-02-29\"\n"},
		{"format date-time", `{"format":"date-time"}`, `"2026-11-24T10:00:00.5+01:00"`, ""},
		{"format time", `{"format":"time"}`, `"23:59:60Z"`, ""},
		{"format duration", `{"format":"duration"}`, `"P1DT2H"`, ""},
		{"format email", `{"format":"email"}`, `"not-an-email"`, "validation_error body | Invalid email format |  | {\"format\":\"email\",\"value\":\"not-an-email\"}\n"},
		{"format ipv4", `{"format":"ipv4"}`, `"999.1.1.1"`, "validation_error body | Invalid IPv4 address format |  | {\"format\":\"ipv4\",\"value\":\"999.1.1.1\"}\n"},
		{"format ipv6", `{"format":"ipv6"}`, `"::1"`, ""},
		{"format uri", `{"format":"uri"}`, `"/relative"`, "validation_error body | Invalid URI format |  | {\"format\":\"uri\",\"value\":\"/relative\"}\n"},
		{"ref", `{"$defs":{"S":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/S"}}}`, `{"a":1}`, "string_type body/a | Input should be a valid string | 1\n"},
		{"recursive ref", `{"$defs":{"N":{"properties":{"next":{"$ref":"#/$defs/N"},"v":{"type":"integer"}}}},"$ref":"#/$defs/N"}`,
			`{"next":{"next":{"v":"x"}}}`, "int_parsing body/next/next/v | Input should be a valid integer, unable to parse string as an integer | \"x\"\n"},
		{"ref with siblings", `{"$defs":{"S":{"type":"string"}},"$ref":"#/$defs/S","maxLength":1}`, `"ab"`,
			"string_too_long body | String should have at most 1 character | \"ab\" | {\"max_length\":1}\n"},
		{"anyOf ok", `{"anyOf":[{"type":"number"},{"type":"null"}]}`, `null`, ""},
		{"anyOf none", `{"anyOf":[{"type":"integer"},{"type":"string"}]}`, `true`,
			"validation_error body | Must match at least one schema (anyOf), but matched 0 |  | {\"matched_schemas\":0}\n"},
		{"oneOf one", `{"oneOf":[{"type":"integer"},{"type":"string"}]}`, `"a"`, ""},
		{"oneOf none", `{"oneOf":[{"type":"string"},{"type":"boolean"}]}`, `3`, "validation_error body | Must match exactly one schema (oneOf), but matched 0 |  | {\"matched_schemas\":0}\n"},
		{"oneOf three counted", `{"oneOf":[{"type":"number"},{"type":"integer"},{"minimum":0}]}`, `3`, "validation_error body | Must match exactly one schema (oneOf), but matched 3 |  | {\"matched_schemas\":3}\n"},
		{"pattern with NUL", `{"pattern":"^[a-z]+$"}`, `"a\u0000b"`, "validation_error body | String contains null byte character |  | {\"value\":\"a\\\\u0000b\"}\n"},
		{"oneOf two", `{"oneOf":[{"type":"number"},{"type":"integer"}]}`, `1`, "validation_error body | Must match exactly one schema (oneOf), but matched 2 |  | {\"matched_schemas\":2}\n"},
		{"allOf", `{"allOf":[{"type":"number"},{"minimum":2}]}`, `1`, "greater_than_equal body | Input should be greater than or equal to 2 | 1 | {\"ge\":2}\n"},
		{"false schema", `{"properties":{"a":false}}`, `{"a":1}`, "validation_error body/a | No value is allowed here |  | {\"schema\":false}\n"},
		{"true schema", `true`, `[1,{"a":null}]`, ""},
		{"document order", `{"properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["z"]}`, `{"b":1,"a":2}`,
			"string_type body/b | Input should be a valid string | 1\nstring_type body/a | Input should be a valid string | 2\nmissing body/z | Field required | {\"b\":1,\"a\":2}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustCompile(t, []byte(tt.schema))
			got, err := v.Validate([]byte(tt.doc), nil)
			if err != nil {
				t.Fatalf("schema %s doc %s: %v", tt.schema, tt.doc, err)
			}
			if r := render(got); r != tt.want {
				t.Errorf("schema %s doc %s\ngot:\n%swant:\n%s", tt.schema, tt.doc, r, tt.want)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	for _, s := range []string{
		`{"not":{}}`, `{"patternProperties":{"a":{}}}`, `{"pattern":"(?=a)"}`, `{"format":"hostname"}`,
		`{"$ref":"other.json"}`, `{"$ref":"#"}`, `{"enum":[[1]]}`, `{"dependentRequired":{"a":["b"]}}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#"}`, `{"if":true}`,
	} {
		if _, err := Compile([]byte(s)); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Compile(%s) = %v, want ErrUnsupported", s, err)
		}
	}
	if _, err := Compile([]byte(`{"type":`)); err == nil || errors.Is(err, ErrUnsupported) {
		t.Errorf("Compile(malformed) = %v, want a schema error", err)
	}
}

func TestMalformed(t *testing.T) {
	v := mustCompile(t, []byte(`{"type":"object","properties":{"a":{"type":"string"}}}`))
	for _, doc := range []string{
		``, ` `, `{`, `{"a":}`, `{"a":"b",}`, `[1,]`, `{"a":"b"} x`, `{"a":"b"}{}`, `01`, `1.`, `-`, `1e`, `.5`,
		`{"a":"\x"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", `{"a":"\u12"}`, `tru`, `nul`, `{a:1}`, `{"a" 1}`,
		`"abc`, `NaN`, `+1`, "\xef\xbb\xbf{}", `{"a":"x"`, `[` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth+1),
	} {
		if _, err := v.Validate([]byte(doc), nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("Validate(%q) = %v, want ErrMalformed", doc, err)
		}
	}
	for _, doc := range []string{` {"a" : "b" } `, `{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, `{"b":[1e5,-0.0,true,false,null,{}]}`} {
		if got, err := v.Validate([]byte(doc), nil); err != nil || len(got) != 0 {
			t.Errorf("Validate(%q) = %v, %v; want valid", doc, got, err)
		}
	}
}

func TestCheckDepth(t *testing.T) {
	v := mustCompile(t, []byte(`{"type":"object","properties":{"a":{"type":"array"}}}`))
	cases := []struct {
		doc   string
		limit int
		want  error
	}{
		{`{"a":[[1]]}`, 3, nil},
		{`{"a":[[1]]}`, 2, ErrTooDeep},
		{`{"b":{"c":{}}}`, 2, ErrTooDeep}, // an unconstrained member counts too
		{`{"a":"x","b":[[[]]]}`, 3, ErrTooDeep},
		{`{"a":"x"}`, 1, ErrInvalid},
		{`{"a":[1]`, 5, ErrMalformed},
		{`[` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth+1), maxDepth, ErrMalformed},
	}
	for _, c := range cases {
		if err := v.CheckDepth([]byte(c.doc), c.limit); !errors.Is(err, c.want) && err != c.want {
			t.Errorf("CheckDepth(%.40s, %d) = %v, want %v", c.doc, c.limit, err, c.want)
		}
	}
	doc := []byte(`{"a":[1,{"b":2}]}`)
	if n := testing.AllocsPerRun(100, func() { _ = v.CheckDepth(doc, 64) }); n != 0 {
		t.Errorf("CheckDepth allocates %v times", n)
	}
}

func TestUndecided(t *testing.T) {
	v := mustCompile(t, []byte(`{"properties":{"a":{"type":"string"}},"additionalProperties":false,"items":{"uniqueItems":true}}`))
	for _, doc := range []string{`{"a":1,"a":"x"}`, `{"b":1,"b":2}`} {
		if _, err := v.Validate([]byte(doc), nil); !errors.Is(err, ErrUndecided) {
			t.Errorf("Validate(%s) = %v, want ErrUndecided", doc, err)
		}
	}
	u := mustCompile(t, []byte(`{"uniqueItems":true}`))
	if _, err := u.Validate([]byte(`[[1],[1]]`), nil); !errors.Is(err, ErrUndecided) {
		t.Errorf("uniqueItems over arrays = %v, want ErrUndecided", err)
	}
}

// TestHugeNumbers pins the decisions taken without exact arithmetic for
// exponents beyond hugeExp, which must still be exact and fast.
func TestHugeNumbers(t *testing.T) {
	tests := []struct {
		schema, doc string
		valid       bool
	}{
		{`{"multipleOf":5}`, `1e2000`, true},
		{`{"multipleOf":7}`, `1e2000`, false},
		{`{"multipleOf":7}`, `7e2000`, true},
		{`{"multipleOf":0.5}`, `3e-2000`, false},
		{`{"multipleOf":1}`, `0e-99999999`, true},
		{`{"multipleOf":3}`, `1.2e999999999`, true},
		{`{"type":"integer"}`, `1.5e999999999`, true},
		{`{"type":"integer"}`, `15e-999999999`, false},
		{`{"exclusiveMinimum":0}`, `1e-5000`, true},
		{`{"exclusiveMinimum":0}`, `-1e-5000`, false},
		{`{"minimum":0}`, `-0e-5000`, true},
		{`{"maximum":100}`, `1e999999999`, false},
		{`{"enum":[0]}`, `0.0e-99999`, true},
	}
	for _, tt := range tests {
		v := mustCompile(t, []byte(tt.schema))
		got, err := v.Validate([]byte(tt.doc), nil)
		if err != nil || (len(got) == 0) != tt.valid {
			t.Errorf("schema %s doc %s: %v %s, want valid=%v", tt.schema, tt.doc, err, render(got), tt.valid)
		}
	}
	for _, s := range []string{`{"maximum":1e400}`, `{"minimum":1e-400}`, `{"enum":[1e999]}`} {
		if _, err := Compile([]byte(s)); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Compile(%s) = %v, want ErrUnsupported", s, err)
		}
	}
}
