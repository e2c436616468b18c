package request

import (
	"strings"
	"testing"

	"github.com/spikard/spikard/core/problem"
)

// TestOneVocabulary checks that a rule reads the same whatever the value's
// source: the same property schema and the same text fail with the same
// type, message and ctx in the path, the query, a header and a JSON body
// (a cookie's entry shows nothing of the value and carries no ctx).
func TestOneVocabulary(t *testing.T) {
	cases := []struct {
		name, schema, text string
		body               string // the same value in a JSON body
	}{
		{"minLength", `{"type":"string","minLength":3}`, "ab", `"ab"`},
		{"maxLength", `{"type":"string","maxLength":2}`, "abc", `"abc"`},
		{"pattern", `{"type":"string","pattern":"^[0-9]+$"}`, "x1", `"x1"`},
		{"NUL and pattern", `{"type":"string","pattern":"^[a-z]+$"}`, "a\x00b", `"a\u0000b"`},
		{"minimum", `{"type":"integer","minimum":10}`, "3", `3`},
		{"exclusiveMaximum", `{"type":"number","exclusiveMaximum":1.5}`, "1.5", `1.5`},
		{"multipleOf", `{"type":"integer","multipleOf":5}`, "17", `17`},
		{"enum", `{"type":"string","enum":["a","b"]}`, "c", `"c"`},
		{"email", `{"type":"string","format":"email"}`, "nope", `"nope"`},
		{"ipv4", `{"type":"string","format":"ipv4"}`, "1.2.3", `"1.2.3"`},
		{"uuid", `{"type":"string","format":"uuid"}`, "x", `"x"`},
		{"date", `{"type":"string","format":"date"}`, "2024-13-01", `"2024-13-01"`},
		{"integer from text", `{"type":"integer"}`, "x", `"x"`},
		{"boolean from text", `{"type":"boolean"}`, "maybe", `"maybe"`},
	}
	sources := []struct {
		source string
		in     func(text string) *fakeInput
	}{
		{"path", func(s string) *fakeInput { return &fakeInput{path: [][]byte{[]byte(s)}} }},
		{"query", func(s string) *fakeInput { return &fakeInput{query: "v=" + strings.ReplaceAll(s, "\x00", "%00")} }},
		{"header", func(s string) *fakeInput { return &fakeInput{headers: map[string]string{"v": s}} }},
		{"cookie", func(s string) *fakeInput { return &fakeInput{cookies: map[string]string{"v": s}} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := CompileBody([]byte(`{"type":"object","properties":{"v":` + c.schema + `}}`))
			if err != nil {
				t.Fatal(err)
			}
			p := b.Validate([]byte(`{"v":` + c.body + `}`))
			if p == nil || len(p.Errors) != 1 {
				t.Fatalf("body: want one error, got %+v", p)
			}
			want := p.Errors[0]
			for _, s := range sources {
				schema := c.schema[:len(c.schema)-1] + `,"source":"` + s.source + `"}`
				pattern := "/x"
				if s.source == "path" {
					pattern = "/x/{v}"
				}
				pl := plan(t, pattern, `{"type":"object","properties":{"v":`+schema+`},"required":["v"]}`)
				var sc Scratch
				_, errs := pl.Extract(nil, s.in(c.text), &sc, nil)
				if len(errs) != 1 {
					t.Fatalf("%s: want one error, got %s", s.source, errorsJSON(errs))
				}
				got := errs[0]
				wantCtx := string(want.Ctx)
				if s.source == "cookie" {
					wantCtx = ""
				}
				if got.Type != want.Type || got.Msg != want.Msg || string(got.Ctx) != wantCtx || got.NoInput != want.NoInput {
					t.Errorf("%s:\n got %s\nbody %s", s.source, errorsJSON(errs), errorsJSON(p.Errors))
				}
			}
		})
	}
}

// TestTooDeep checks the nesting count of max_json_depth.
func TestTooDeep(t *testing.T) {
	cases := []struct {
		doc   string
		limit int
		want  bool
	}{
		{`{}`, 1, false},
		{`{"a":[1]}`, 2, false},
		{`{"a":[1]}`, 1, true},
		{`[[[]]]`, 3, false},
		{`[[[]]]`, 2, true},
		{`{"s":"[[[[[[\"{{{{"}`, 1, false}, // brackets inside strings do not count
		{`["\\",[]]`, 1, true},             // an escaped backslash ends no string
		{strings.Repeat("[", 129) + strings.Repeat("]", 129), DefaultMaxJSONDepth, true},
		{strings.Repeat("[", 128) + strings.Repeat("]", 128), DefaultMaxJSONDepth, false},
		{`[[[`, 2, true}, // malformed: still counted, the parser is never reached
		{`"unterminated [[[`, 1, false},
	}
	for _, c := range cases {
		if got := TooDeep([]byte(c.doc), c.limit); got != c.want {
			t.Errorf("TooDeep(%.40q, %d) = %v, want %v", c.doc, c.limit, got, c.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { TooDeep([]byte(`{"a":[{"b":"c"}]}`), 64) }); n != 0 {
		t.Errorf("TooDeep allocates %v times", n)
	}
	// A body's limit holds on both validation paths: the compiled one
	// decides it in its own pass, the general one scans first.
	for _, schema := range []string{`{"type":"object"}`, `{"type":"object","not":{"required":["x"]}}`} {
		b, err := CompileBodyDepth([]byte(schema), 3)
		if err != nil {
			t.Fatal(err)
		}
		if p := b.Validate([]byte(`{"a":{"b":[1]}}`)); p != nil {
			t.Errorf("%s: 3 levels refused: %+v", schema, p)
		}
		p := b.Validate([]byte(`{"a":{"b":[[1]]}}`))
		if p == nil || p.Status != 400 || p.Detail != "JSON body nesting exceeds max_json_depth (3 levels)" {
			t.Errorf("%s: 4 levels: %+v", schema, p)
		}
	}
}

// TestLimitProblems checks that limits answer with the reason phrase as
// title and a detail that names the limit.
func TestLimitProblems(t *testing.T) {
	for _, c := range []struct {
		p             problem.Problem
		status        int
		title, detail string
	}{
		{problem.PayloadTooLarge(64), 413, "Payload Too Large", "Request body exceeds max_body_size (64 bytes)"},
		{problem.TooDeep(128), 400, "Bad Request", "JSON body nesting exceeds max_json_depth (128 levels)"},
	} {
		if c.p.Status != c.status || c.p.Title != c.title || c.p.Detail != c.detail {
			t.Errorf("%+v", c.p)
		}
	}
}
