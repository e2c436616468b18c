package openapi

import "testing"

// TestSecuritySchemesValidate: a document with guarded routes is valid
// OpenAPI 3.1, and scheme names are stable: a second route reading the
// same header reuses the scheme, another header gets the next name.
func TestSecuritySchemesValidate(t *testing.T) {
	jwt := Credential{Kind: "bearer"}
	key := Credential{Kind: "apiKey", In: "header", Name: "X-Key"}
	other := Credential{Kind: "apiKey", In: "header", Name: "X-Other"}
	d := build(t,
		Route{Method: "GET", Path: "/a", Security: []Credential{jwt, key}, Limited: true},
		Route{Method: "GET", Path: "/b", Security: []Credential{key}},
		Route{Method: "GET", Path: "/c", Security: []Credential{other, jwt}},
		Route{Method: "GET", Path: "/open"},
	)
	if got := compact(at(t, d, "components", "securitySchemes")); got != `{"apiKeyHeader":{"in":"header","name":"X-Key","type":"apiKey"},"apiKeyHeader2":{"in":"header","name":"X-Other","type":"apiKey"},"bearerAuth":{"bearerFormat":"JWT","scheme":"bearer","type":"http"}}` {
		t.Errorf("schemes %s", got)
	}
	for path, want := range map[string]string{
		"/a": `[{"bearerAuth":[]},{"apiKeyHeader":[]}]`,
		"/b": `[{"apiKeyHeader":[]}]`,
		"/c": `[{"apiKeyHeader2":[]},{"bearerAuth":[]}]`,
	} {
		if got := compact(at(t, d, "paths", path, "get", "security")); got != want {
			t.Errorf("%s security %s, want %s", path, got, want)
		}
	}
	if _, ok := at(t, d, "paths", "/open", "get").(map[string]any)["security"]; ok {
		t.Error("an unguarded route lists security")
	}
	if compact(at(t, d, "paths", "/a", "get", "responses", "429", "content")) != `{"application/problem+json":{"schema":{"$ref":"#/components/schemas/ProblemDetails"}}}` {
		t.Error("the rate-limited route's 429")
	}
	at(t, d, "components", "schemas", "ProblemDetails")
}
