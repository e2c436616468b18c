package core

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBody(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"},"price":{"type":"number","minimum":0},"tags":{"type":"array","items":{"type":"string"}}},"required":["name","price"]}`)
	echo := func(r *Request) Response { return Response{Status: 200, Body: r.Body} }
	_, base := startApp(t, func(c *Config) { c.MaxBodySize = 1024 },
		RouteSpec{Method: "POST", Path: "/items", BodySchema: schema, Handler: echo},
		RouteSpec{Method: "POST", Path: "/raw", Handler: echo},
	)
	ok := `{"name":"x",  "price":1.5}`
	cases := []struct {
		ctype, body string
		status      int
		want        string
	}{
		{"application/json", ok, 200, ok},
		{"Application/JSON; charset=UTF-8", ok, 200, ok},
		{"application/vnd.api+json", ok, 200, ok},
		{"text/plain", ok, 415, `{"type":"https://spikard.dev/errors/unsupported-media-type","title":"Unsupported Media Type","status":415,"detail":"Unsupported media type"}`},
		{"", ok, 200, ok}, // no Content-Type: read as JSON
		{"application/json; charset=utf-16", ok, 415, `{"type":"https://spikard.dev/errors/unsupported-charset","title":"Unsupported Charset","status":415,"detail":"Unsupported charset 'utf-16' for JSON. Only UTF-8 is supported."}`},
		{"application/json", `{"name":`, 400, ``},
		{"application/json", ``, 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}`},
		{"application/json", `{"price":1}`, 422, ``},
		{"application/json", `{"name":3,"price":-1,"tags":["a",2]}`, 422, ``},
	}
	for _, c := range cases {
		r := do(t, "POST", base+"/items", c.ctype, c.body)
		if r.status != c.status {
			t.Errorf("POST %q %q: status %d, want %d: %s", c.ctype, c.body, r.status, c.status, r.body)
			continue
		}
		if c.want != "" && r.body != c.want {
			t.Errorf("POST %q %q:\n got %s\nwant %s", c.ctype, c.body, r.body, c.want)
		}
		if c.status == 400 {
			var p map[string]any
			json.Unmarshal([]byte(r.body), &p)
			if p["detail"] != "Invalid request format" {
				t.Errorf("400 body %s", r.body)
			}
		}
	}
	r := do(t, "POST", base+"/items", "application/json", `{"price":1}`)
	if !strings.Contains(r.body, `{"type":"missing","loc":["body","name"],"msg":"Field required"`) {
		t.Errorf("missing field: %s", r.body)
	}
	r = do(t, "POST", base+"/items", "application/json", `{"name":3,"price":-1,"tags":["a",2]}`)
	for _, want := range []string{`"type":"string_type","loc":["body","name"]`, `"type":"greater_than_equal","loc":["body","price"]`, `{"type":"string_type","loc":["body","tags",1],"msg":"Input should be a valid string","input":2}`, `"detail":"3 validation errors in request"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("body errors lack %s: %s", want, r.body)
		}
	}

	// Without a body schema any content type and bytes pass through.
	if r := do(t, "POST", base+"/raw", "text/plain", "héllo"); r.status != 200 || r.body != "héllo" {
		t.Errorf("raw: %d %q", r.status, r.body)
	}
	// Oversized bodies, with and without a schema: 413 problem details.
	big := `{"name":"` + strings.Repeat("x", 4000) + `","price":1}`
	for _, path := range []string{"/items", "/raw"} {
		r := do(t, "POST", base+path, "application/json", big)
		if r.status != 413 || !strings.Contains(r.body, `"type":"https://spikard.dev/errors/payload-too-large"`) {
			t.Errorf("POST %s oversized: %d %s", path, r.status, r.body)
		}
	}
	// Exactly at the limit is fine.
	exact := strings.Repeat("y", 1024)
	if r := do(t, "POST", base+"/raw", "text/plain", exact); r.status != 200 || r.body != exact {
		t.Errorf("at limit: %d", r.status)
	}
}

func TestBodyTooLargeChunked(t *testing.T) {
	_, base := startApp(t, func(c *Config) { c.MaxBodySize = 100 },
		RouteSpec{Method: "POST", Path: "/raw", Handler: func(r *Request) Response { return Response{Status: 200, Body: r.Body} }})
	// An io.Reader without a known length makes net/http send chunked.
	r := doReader(t, "POST", base+"/raw", strings.NewReader(strings.Repeat("z", 5000)))
	if r.status != 413 {
		t.Fatalf("chunked oversized: %d %s", r.status, r.body)
	}
	r = doReader(t, "POST", base+"/raw", strings.NewReader("small"))
	if r.status != 200 || r.body != "small" {
		t.Fatalf("chunked small: %d %s", r.status, r.body)
	}
}
