// Package openapi builds the OpenAPI 3.1 document of an app from what its
// routes already declare, and serves it with Swagger UI and ReDoc pages
// whose scripts and stylesheets are embedded in the library (assets/), so
// the pages work with no network beyond the app itself.
//
// The package is pure: it knows routes only as Route values, which core
// fills from its compiled routes at start (core/openapi.go).
package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Config is the app config's "openapi" object. The zero value is off.
type Config struct {
	Enabled       bool
	Title         string // info.title, default "API"
	Version       string // info.version (the API's, not OpenAPI's), default "1.0.0"
	Description   string // info.description; empty: none
	OpenAPIPath   string // where the document is served, default "/openapi.json"
	SwaggerUIPath string // the Swagger UI page, default "/docs"; empty: no page
	RedocPath     string // the ReDoc page, default "/redoc"; empty: no page
}

// Defaults is the Config an "openapi" object starts from: giving the
// object is the opt-in, so Enabled is true unless it says false.
func Defaults() Config {
	return Config{Enabled: true, Title: "API", Version: "1.0.0", OpenAPIPath: "/openapi.json",
		SwaggerUIPath: "/docs", RedocPath: "/redoc"}
}

// configKeys are the keys of the "openapi" object.
var configKeys = []string{"enabled", "title", "version", "description", "openapi_path", "swagger_ui_path", "redoc_path"}

// ParseConfig reads the "openapi" object on top of Defaults. Errors name
// the key and say what it must be (`"title": must be a string`); the
// caller adds the document's name.
func ParseConfig(raw json.RawMessage) (Config, error) {
	c := Defaults()
	var m map[string]json.RawMessage
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) || json.Unmarshal(raw, &m) != nil {
		return c, errors.New(`must be an object: {"enabled", "title", "version", "description", "openapi_path", "swagger_ui_path", "redoc_path"}`)
	}
	for k, v := range m {
		var err error
		switch k {
		case "enabled":
			if !decode(v, &c.Enabled) {
				err = errors.New("must be true or false")
			}
		case "title":
			c.Title, err = nonEmpty(v)
		case "version":
			c.Version, err = nonEmpty(v)
		case "description":
			if !decode(v, &c.Description) {
				err = errors.New("must be a string")
			}
		case "openapi_path":
			c.OpenAPIPath, err = pagePath(v, false)
		case "swagger_ui_path":
			c.SwaggerUIPath, err = pagePath(v, true)
		case "redoc_path":
			c.RedocPath, err = pagePath(v, true)
		default:
			return c, fmt.Errorf("unknown key %q (known: %q)", k, configKeys)
		}
		if err != nil {
			return c, fmt.Errorf("%q: %v", k, err)
		}
	}
	seen := map[string]string{}
	for _, p := range [][2]string{{"openapi_path", c.OpenAPIPath}, {"swagger_ui_path", c.SwaggerUIPath}, {"redoc_path", c.RedocPath}} {
		if p[1] == "" {
			continue
		}
		if other, dup := seen[p[1]]; dup {
			return c, fmt.Errorf("%q and %q are both %q", other, p[0], p[1])
		}
		seen[p[1]] = p[0]
	}
	return c, nil
}

func decode(raw json.RawMessage, v any) bool {
	return !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) && json.Unmarshal(raw, v) == nil
}

func nonEmpty(raw json.RawMessage) (string, error) {
	var s string
	if !decode(raw, &s) || s == "" {
		return "", errors.New("must be a non-empty string")
	}
	return s, nil
}

// pagePath reads a path the app serves: "/" and literal segments, no
// placeholder, query or fragment. A page's may be "" (no page).
func pagePath(raw json.RawMessage, mayBeEmpty bool) (string, error) {
	var s string
	if !decode(raw, &s) {
		return "", errors.New("must be a string")
	}
	if s == "" && mayBeEmpty {
		return "", nil
	}
	if !strings.HasPrefix(s, "/") || strings.ContainsAny(s, "{}?#% \t") || strings.Contains(s, "//") {
		what := "a path such as \"/docs\""
		if mayBeEmpty {
			what += ", or \"\" for no page"
		}
		return "", fmt.Errorf("must be %s (literal segments, no placeholder, query or fragment)", what)
	}
	if len(s) > 1 {
		s = strings.TrimSuffix(s, "/")
	}
	return s, nil
}
