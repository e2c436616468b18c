package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// APIKeyConfig is the "api_key_auth" configuration key as JSON carries it.
type APIKeyConfig struct {
	// Keys are all accepted; several at once let a key be rotated without
	// a moment where neither the old nor the new one works.
	Keys []string `json:"keys"`
	// DeprecatedKeys are still accepted, and an answer to a request that
	// used one carries "X-API-Key-Deprecated: true" so the client knows to
	// move to a key of Keys.
	DeprecatedKeys []string `json:"deprecated_keys"`
	// HeaderName is read first ("X-API-Key" by default); QueryParam second
	// ("api_key" by default; "" in JSON means the default, and
	// QueryParamOff turns the query string off).
	HeaderName    string `json:"header_name"`
	QueryParam    string `json:"query_param"`
	QueryParamOff bool   `json:"query_param_off"`
}

// APIKeys checks API keys against one APIKeyConfig. Keys are kept as SHA-256
// digests and every configured digest is compared on every check, so neither
// the time taken nor the length of a candidate says which key was close.
type APIKeys struct {
	digests    [][sha256.Size]byte
	deprecated []bool
	Header     string // canonical header name to read
	Query      string // query parameter to read, "" for none
	missing    *Failure
	invalid    *Failure
}

// NewAPIKeys checks cfg; every error names the field at fault.
func NewAPIKeys(cfg APIKeyConfig) (*APIKeys, error) {
	if len(cfg.Keys)+len(cfg.DeprecatedKeys) == 0 {
		return nil, errors.New("api_key_auth.keys must hold at least one key")
	}
	k := &APIKeys{Header: cfg.HeaderName, Query: cfg.QueryParam}
	if k.Header == "" {
		k.Header = "X-API-Key"
	}
	if !tokenChars(k.Header) {
		return nil, fmt.Errorf("api_key_auth.header_name %q is not an HTTP field name", k.Header)
	}
	if k.Query == "" && !cfg.QueryParamOff {
		k.Query = "api_key"
	}
	if cfg.QueryParamOff {
		k.Query = ""
	}
	add := func(field string, keys []string, old bool) error {
		for i, s := range keys {
			if s == "" {
				return fmt.Errorf("api_key_auth.%s[%d] is empty", field, i)
			}
			k.digests = append(k.digests, sha256.Sum256([]byte(s)))
			k.deprecated = append(k.deprecated, old)
		}
		return nil
	}
	if err := add("keys", cfg.Keys, false); err != nil {
		return nil, err
	}
	if err := add("deprecated_keys", cfg.DeprecatedKeys, true); err != nil {
		return nil, err
	}
	where := "the '" + k.Header + "' header"
	if k.Query != "" {
		where += " or the '" + k.Query + "' query parameter"
	}
	challenge := `APIKey realm="api", header="` + k.Header + `"`
	k.missing = &Failure{Title: "Missing API key", Detail: "Expected an API key in " + where, Challenge: challenge}
	k.invalid = &Failure{Title: "Invalid API key", Detail: "The provided API key is not valid", Challenge: challenge}
	return k, nil
}

// Check judges the key a request carried (from the header, else the query
// parameter; the caller reads both). present says whether one was carried
// at all. deprecated reports a key of DeprecatedKeys.
func (k *APIKeys) Check(key []byte, present bool) (deprecated bool, f *Failure) {
	if !present {
		return false, k.missing
	}
	d := sha256.Sum256(key)
	match := 0
	for i := range k.digests {
		eq := subtle.ConstantTimeCompare(d[:], k.digests[i][:])
		match |= eq
		if eq == 1 && k.deprecated[i] {
			deprecated = true
		}
	}
	if match == 0 {
		return false, k.invalid
	}
	return deprecated, nil
}

func tokenChars(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c > 0x7e || c <= 0x20 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}
