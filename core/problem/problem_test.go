package problem

import (
	"encoding/json"
	"testing"
)

func TestAppend(t *testing.T) {
	cases := []struct {
		p    Problem
		want string
	}{
		{Internal(), `{"type":"https://spikard.dev/errors/internal-server-error","title":"Internal Server Error","status":500,"detail":"Internal server error"}`},
		{UnsupportedMediaType(), `{"type":"https://spikard.dev/errors/unsupported-media-type","title":"Unsupported Media Type","status":415,"detail":"Unsupported media type"}`},
		{UnsupportedCharset("utf-16"), `{"type":"https://spikard.dev/errors/unsupported-charset","title":"Unsupported Charset","status":415,"detail":"Unsupported charset 'utf-16' for JSON. Only UTF-8 is supported."}`},
		{Validation([]Entry{{Type: "int_parsing", Loc: []Loc{Key("path"), Key("item_id")}, Msg: "Input should be a valid integer, unable to parse string as an integer", Input: []byte(`"foobar"`)}}),
			`{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"foobar"}]}`},
		{Validation([]Entry{{Type: "missing", Loc: []Loc{Key("query"), Key("q")}, Msg: "Field required"}, {Type: "x", Loc: []Loc{Key("body"), Index(2)}, Msg: "m", Input: []byte(`1`), Ctx: []byte(`{"ge":1}`)}}),
			`{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"2 validation errors in request","errors":[{"type":"missing","loc":["query","q"],"msg":"Field required","input":null},{"type":"x","loc":["body",2],"msg":"m","input":1,"ctx":{"ge":1}}]}`},
	}
	for _, c := range cases {
		if got := string(Append(nil, &c.p)); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\ nl\n tab\t ctl\x01", "ünï", "bad\xffutf8"} {
		out := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Errorf("AppendString(%q) = %s: invalid JSON: %v", s, out, err)
		}
	}
}

func TestNoInputAndMalformedJSON(t *testing.T) {
	e := Entry{Type: "validation_error", Loc: []Loc{Key("query"), Key("n")}, Msg: "m", Ctx: []byte(`{"a":1}`), NoInput: true}
	p := Validation([]Entry{e})
	got := string(Append(nil, &p))
	want := `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"validation_error","loc":["query","n"],"msg":"m","ctx":{"a":1}}]}`
	if got != want || p.MediaType() != ContentType {
		t.Fatalf("got %s", got)
	}
	b := MalformedJSON()
	if got := string(Append(nil, &b)); got != `{"type":"https://spikard.dev/errors/bad-request","title":"Bad Request","status":400,"detail":"Invalid request format"}` || b.MediaType() != ContentType {
		t.Fatalf("malformed JSON: %s", got)
	}
}

// TestAppendStringOutputRules: the escapes of docs/bindings.md, byte for byte.
func TestAppendStringOutputRules(t *testing.T) {
	for in, want := range map[string]string{
		"q\" b\\":            `"q\" b\\"`,
		"\b\f\n\r\t":         `"\b\f\n\r\t"`,
		"\x00\x01\x1f":       `"\u0000\u0001\u001f"`,
		"/ \x7f \u2028 é 日本": "\"/ \x7f \u2028 é 日本\"",
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
}
