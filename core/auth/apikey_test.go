package auth

import (
	"strings"
	"testing"
)

func TestAPIKeys(t *testing.T) {
	k, err := NewAPIKeys(APIKeyConfig{Keys: []string{"new_1", "new_2"}, DeprecatedKeys: []string{"old"}})
	if err != nil {
		t.Fatal(err)
	}
	if k.Header != "X-API-Key" || k.Query != "api_key" {
		t.Fatalf("defaults %q %q", k.Header, k.Query)
	}
	for _, c := range []struct {
		key        string
		present    bool
		title      string
		deprecated bool
	}{
		{"new_1", true, "", false},
		{"new_2", true, "", false},
		{"old", true, "", true},
		{"new_", true, "Invalid API key", false},
		{"new_12", true, "Invalid API key", false},
		{"", true, "Invalid API key", false},
		{"", false, "Missing API key", false},
	} {
		dep, f := k.Check([]byte(c.key), c.present)
		title := ""
		if f != nil {
			title = f.Title
		}
		if title != c.title || dep != c.deprecated {
			t.Errorf("%q: %q %v", c.key, title, dep)
		}
	}
	_, f := k.Check(nil, false)
	if f.Detail != "Expected an API key in the 'X-API-Key' header or the 'api_key' query parameter" {
		t.Fatal(f.Detail)
	}
	k2, _ := NewAPIKeys(APIKeyConfig{Keys: []string{"a"}, HeaderName: "X-Token", QueryParamOff: true})
	if _, f := k2.Check(nil, false); k2.Query != "" || f.Detail != "Expected an API key in the 'X-Token' header" {
		t.Fatal(f.Detail)
	}
	for _, c := range []struct {
		cfg  APIKeyConfig
		want string
	}{
		{APIKeyConfig{}, "api_key_auth.keys must hold at least one key"},
		{APIKeyConfig{Keys: []string{"a", ""}}, "api_key_auth.keys[1] is empty"},
		{APIKeyConfig{Keys: []string{"a"}, HeaderName: "X Key"}, "api_key_auth.header_name"},
	} {
		if _, err := NewAPIKeys(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.cfg, err)
		}
	}
}

func TestQuoteSafe(t *testing.T) {
	if got := bearerChallenge("r", "invalid_token", `expected 'a"b\c'`); got != `Bearer realm="r", error="invalid_token", error_description="expected 'a b c'"` {
		t.Fatal(got)
	}
}
