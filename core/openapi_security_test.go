package core

import (
	"encoding/json"
	"testing"
)

// TestOpenAPISecuritySchemes: the guards' credentials become security
// schemes, each guarded operation lists the ones that will do and its 401
// (and 429 under a rate limit); a route that opts out lists none; the
// document and the pages stay public under an app-wide JWT.
func TestOpenAPISecuritySchemes(t *testing.T) {
	secure := func(c *Config) {
		withOpenAPI(c)
		cfg, err := ParseConfig([]byte(`{"jwt_auth":{"secret":"s3cret"},"api_key_auth":{"keys":["k1"],"header_name":"X-Key"},"rate_limit":{"per_second":100,"burst":100}}`))
		if err != nil {
			t.Fatal(err)
		}
		c.JWTAuth, c.APIKeyAuth, c.RateLimit = cfg.JWTAuth, cfg.APIKeyAuth, cfg.RateLimit
	}
	guarded, err := ParseRouteSpec([]byte(`{"method":"GET","path":"/orders"}`))
	if err != nil {
		t.Fatal(err)
	}
	open, err := ParseRouteSpec([]byte(`{"method":"GET","path":"/health","jwt_auth":false,"api_key_auth":false,"rate_limit":false}`))
	if err != nil {
		t.Fatal(err)
	}
	own, err := ParseRouteSpec([]byte(`{"method":"GET","path":"/partner","jwt_auth":false,"rate_limit":false,"api_key_auth":{"keys":["p"],"header_name":"X-Partner-Key","query_param_off":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, base := startApp(t, secure, guarded, open, own)

	res, body := docsGet(t, base+"/openapi.json")
	if res.StatusCode != 200 {
		t.Fatalf("the document is public: %d", res.StatusCode)
	}
	if res, _ := docsGet(t, base+"/docs"); res.StatusCode != 200 {
		t.Fatalf("the docs page is public: %d", res.StatusCode)
	}
	var d struct {
		Paths      map[string]map[string]map[string]json.RawMessage
		Components struct {
			SecuritySchemes map[string]json.RawMessage
			Schemas         map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	schemes := map[string]string{}
	for k, v := range d.Components.SecuritySchemes {
		schemes[k] = string(v)
	}
	want := map[string]string{
		"bearerAuth":    `{"bearerFormat":"JWT","scheme":"bearer","type":"http"}`,
		"apiKeyHeader":  `{"in":"header","name":"X-Key","type":"apiKey"}`,
		"apiKeyQuery":   `{"in":"query","name":"api_key","type":"apiKey"}`,
		"apiKeyHeader2": `{"in":"header","name":"X-Partner-Key","type":"apiKey"}`,
	}
	if len(schemes) != len(want) {
		t.Errorf("schemes %v, want %v", schemes, want)
	}
	for k, v := range want {
		if schemes[k] != v {
			t.Errorf("scheme %s = %s, want %s", k, schemes[k], v)
		}
	}
	if _, ok := d.Components.Schemas["ProblemDetails"]; !ok {
		t.Errorf("401 and 429 refer to ProblemDetails, which is missing: %v", d.Components.Schemas)
	}
	for path, wantSec := range map[string]string{
		"/orders":  `[{"bearerAuth":[]},{"apiKeyHeader":[]},{"apiKeyQuery":[]}]`,
		"/partner": `[{"apiKeyHeader2":[]}]`,
		"/health":  ``,
	} {
		op := d.Paths[path]["get"]
		if string(op["security"]) != wantSec {
			t.Errorf("%s security %s, want %s", path, op["security"], wantSec)
		}
		var responses map[string]json.RawMessage
		_ = json.Unmarshal(op["responses"], &responses)
		_, has401 := responses["401"]
		_, has429 := responses["429"]
		if has401 != (wantSec != "") || has429 != (path == "/orders") {
			t.Errorf("%s responses %v: want 401 %v, 429 %v", path, keys(responses), wantSec != "", path == "/orders")
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
