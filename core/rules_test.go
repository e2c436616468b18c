package core

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTypedPlaceholderMismatch checks that a segment a typed placeholder
// cannot parse, where no other route matches, is that parameter's 422,
// not a 404 (route.Mismatch).
func TestTypedPlaceholderMismatch(t *testing.T) {
	ok := func(*Request) Response { return Response{Status: 200} }
	_, base := startApp(t, nil,
		RouteSpec{Method: "GET", Path: "/items/{id:int}", Handler: ok},
		RouteSpec{Method: "GET", Path: "/users/{uid:uuid}", Handler: ok},
		RouteSpec{Method: "GET", Path: "/docs/{id:int}", Handler: ok,
			ParameterSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string","source":"path"}}}`)},
		RouteSpec{Method: "PUT", Path: "/p/{x}", Handler: ok},
		RouteSpec{Method: "GET", Path: "/p/{x:int}", Handler: ok},
	)
	cases := []struct {
		url    string
		status int
		want   string
	}{
		{"/items/abc", 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"int_parsing","loc":["path","id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]}`},
		{"/users/42", 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"uuid_parsing","loc":["path","uid"],"msg":"Input should be a valid UUID","input":"42"}]}`},
		{"/items/7", 200, ""},
		{"/items/abc/x", 404, ""},
		// The route's schema takes any string: nothing was wrong with a value.
		{"/docs/abc", 404, ""},
		// Another route matches the path for another method: a 405.
		{"/p/x", 405, ""},
	}
	for _, c := range cases {
		r := get(t, base+c.url)
		if r.status != c.status {
			t.Errorf("GET %s: status %d, want %d: %s", c.url, r.status, c.status, r.body)
			continue
		}
		if c.want != "" {
			jsonEq(t, r.body, c.want)
		}
	}
}

// TestMaxJSONDepth checks that a JSON body nested past max_json_depth is
// the 400 problem naming the limit, with or without a body schema, and
// that the limit is the app's.
func TestMaxJSONDepth(t *testing.T) {
	echo := func(r *Request) Response { return Response{Status: 200, Body: r.Body} }
	_, base := startApp(t, func(c *Config) { c.MaxJSONDepth = 3 },
		RouteSpec{Method: "POST", Path: "/typed", BodySchema: json.RawMessage(`{"type":"object"}`), Handler: echo},
		RouteSpec{Method: "POST", Path: "/raw", Handler: echo},
	)
	const tooDeep = `{"type":"https://spikard.dev/errors/bad-request","title":"Bad Request","status":400,"detail":"JSON body nesting exceeds max_json_depth (3 levels)"}`
	cases := []struct {
		path, ctype, body string
		status            int
		want              string
	}{
		{"/typed", "application/json", `{"a":{"b":[1]}}`, 200, `{"a":{"b":[1]}}`},
		{"/typed", "application/json", `{"a":{"b":[[1]]}}`, 400, tooDeep},
		{"/typed", "", `{"a":{"b":[[1]]}}`, 400, tooDeep},
		{"/raw", "application/json", `[[[[1]]]]`, 400, tooDeep},
		// Without a schema and without a JSON content type, the body is
		// the host's bytes, never read as JSON.
		{"/raw", "text/plain", `[[[[1]]]]`, 200, ""},
	}
	for _, c := range cases {
		r := do(t, "POST", base+c.path, c.ctype, c.body)
		if r.status != c.status {
			t.Errorf("POST %s %q: status %d, want %d: %s", c.path, c.body, r.status, c.status, r.body)
			continue
		}
		if c.want != "" {
			jsonEq(t, r.body, c.want)
		}
	}

	if _, err := ParseConfig([]byte(`{"max_json_depth":0}`)); err == nil || !strings.Contains(err.Error(), `"max_json_depth": must be an integer in 1..10000`) {
		t.Errorf("max_json_depth 0: %v", err)
	}
	cfg, err := ParseConfig([]byte(`{"max_json_depth":512}`))
	if err != nil || cfg.MaxJSONDepth != 512 {
		t.Errorf("max_json_depth 512: %v %d", err, cfg.MaxJSONDepth)
	}
	if DefaultConfig().MaxJSONDepth != 128 {
		t.Errorf("default max_json_depth %d", DefaultConfig().MaxJSONDepth)
	}
}

// TestPayloadTooLargeNamesTheLimit checks the 413's detail.
func TestPayloadTooLargeNamesTheLimit(t *testing.T) {
	echo := func(r *Request) Response { return Response{Status: 200, Body: r.Body} }
	_, base := startApp(t, func(c *Config) { c.MaxBodySize = 8 },
		RouteSpec{Method: "POST", Path: "/b", Handler: echo})
	r := do(t, "POST", base+"/b", "text/plain", "0123456789")
	if r.status != 413 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	jsonEq(t, r.body, `{"type":"https://spikard.dev/errors/payload-too-large","title":"Payload Too Large","status":413,"detail":"Request body exceeds max_body_size (8 bytes)"}`)
}
