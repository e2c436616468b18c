package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// CORSConfig is a CORS policy: the config's app-wide "cors" object, or a
// route document's "cors" (which replaces the app's for that route; false
// turns it off there). See cors.go for what core does with it.
type CORSConfig struct {
	// AllowOrigins lists the origins allowed: exact origins as browsers send
	// them (scheme://host[:port], compared byte for byte, case included), "*"
	// for any, "null" for the opaque origin. Required, not empty, unless
	// AllowOriginRegex has entries.
	AllowOrigins []string
	// AllowOriginRegex are patterns (Go RE2 syntax) an origin may match
	// whole instead; the document spells them {"regex": "..."} inside
	// allow_origins.
	AllowOriginRegex []*regexp.Regexp
	// AllowMethods a preflight may ask for; "*" any. Default: GET, HEAD,
	// POST, PUT, PATCH, DELETE, OPTIONS.
	AllowMethods []string
	// AllowHeaders a preflight may ask for, lower case; "*" any. The
	// CORS-safelisted accept, accept-language, content-language and
	// content-type are always allowed. Default: none beyond those.
	AllowHeaders []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true; the
	// origin is then echoed, never "*".
	AllowCredentials bool
	// ExposeHeaders go in Access-Control-Expose-Headers of actual answers.
	ExposeHeaders []string
	// MaxAge is Access-Control-Max-Age in seconds on a preflight's answer;
	// -1 sends none. Default 600.
	MaxAge int
	// AllowPrivateNetwork answers a preflight's
	// Access-Control-Request-Private-Network: true with
	// Access-Control-Allow-Private-Network: true.
	AllowPrivateNetwork bool
}

// defaultCORSMethods is CORSConfig.AllowMethods when the document lists
// none.
var defaultCORSMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// corsKeys are the keys of a "cors" object.
var corsKeys = []string{"allow_origins", "allow_methods", "allow_headers", "allow_credentials",
	"expose_headers", "max_age", "allow_private_network"}

// parseCORS reads a "cors" object. A route's may be false (no CORS on that
// route: nil policy, off true).
func parseCORS(raw json.RawMessage, route bool) (cfg *CORSConfig, off bool, err error) {
	var on bool
	if route && decode(raw, &on) {
		if on {
			return nil, false, errors.New(`must be an object (a policy) or false (none on this route)`)
		}
		return nil, true, nil
	}
	var m map[string]json.RawMessage
	if !decode(raw, &m) {
		if route {
			return nil, false, errors.New(`must be an object (a policy) or false (none on this route)`)
		}
		return nil, false, errors.New(`must be an object: {"allow_origins": ["https://app.example"], ...}`)
	}
	c := &CORSConfig{AllowMethods: defaultCORSMethods, MaxAge: 600}
	for k, v := range m {
		switch k {
		case "allow_origins":
			c.AllowOrigins, c.AllowOriginRegex, err = corsOrigins(v)
		case "allow_methods":
			c.AllowMethods, err = corsNames(v, true)
		case "allow_headers":
			c.AllowHeaders, err = corsNames(v, false)
			for i, h := range c.AllowHeaders {
				c.AllowHeaders[i] = strings.ToLower(h)
			}
		case "expose_headers":
			c.ExposeHeaders, err = corsNames(v, false)
		case "allow_credentials":
			c.AllowCredentials, err = boolean(v)
		case "allow_private_network":
			c.AllowPrivateNetwork, err = boolean(v)
		case "max_age":
			var n int64
			n, err = integer(v, -1, math.MaxInt32)
			c.MaxAge = int(n)
		default:
			return nil, false, fmt.Errorf("unknown key %q (known: %q)", k, corsKeys)
		}
		if err != nil {
			return nil, false, fmt.Errorf("%q: %v", k, err)
		}
	}
	if len(c.AllowOrigins) == 0 && len(c.AllowOriginRegex) == 0 {
		return nil, false, errors.New(`"allow_origins": must list at least one origin (it is required)`)
	}
	return c, false, nil
}

// corsOrigins reads allow_origins: strings and {"regex": "..."} objects.
func corsOrigins(raw json.RawMessage) ([]string, []*regexp.Regexp, error) {
	var items []json.RawMessage
	if !decode(raw, &items) {
		return nil, nil, errors.New(`must be a list of origins ("https://app.example", "*", "null" or {"regex": "^https://.*\\.example$"})`)
	}
	var exact []string
	var res []*regexp.Regexp
	for _, item := range items {
		var s string
		if decode(item, &s) {
			o, err := corsOrigin(s)
			if err != nil {
				return nil, nil, err
			}
			if !slices.Contains(exact, o) {
				exact = append(exact, o)
			}
			continue
		}
		var m map[string]string
		if !decode(item, &m) || len(m) != 1 || m["regex"] == "" {
			return nil, nil, fmt.Errorf(`%s is neither an origin nor {"regex": "pattern"}`, bytes.TrimSpace(item))
		}
		re, err := regexp.Compile(`^(?:` + m["regex"] + `)$`)
		if err != nil {
			return nil, nil, fmt.Errorf("regex %q: %v", m["regex"], err)
		}
		res = append(res, re)
	}
	return exact, res, nil
}

// corsOrigin checks one exact origin and lowers its case, as browsers send
// it.
func corsOrigin(o string) (string, error) {
	if o == "*" || o == "null" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port], no path or trailing slash), \"*\" or \"null\"", o)
	}
	return strings.ToLower(o), nil
}

// corsNames reads a list of distinct tokens (methods, header names) or
// ["*"].
func corsNames(raw json.RawMessage, methods bool) ([]string, error) {
	var names []string
	if !decode(raw, &names) {
		return nil, errors.New(`must be a list of names, or ["*"]`)
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n != "*" && !isToken([]byte(n)) {
			return nil, fmt.Errorf("%q is not a token", n)
		}
		if methods && n != "*" {
			n = strings.ToUpper(n)
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, n) }) {
			out = append(out, n)
		}
	}
	return out, nil
}

// corsPolicy is a compiled CORSConfig: the header values it sends are
// built once, here. Immutable; shared by the routes that use it.
type corsPolicy struct {
	exact        []string
	regex        []*regexp.Regexp
	anyOrigin    bool
	nullOrigin   bool
	anyMethod    bool
	methods      []string
	anyHeader    bool
	headers      []string
	credentials  bool
	privateNet   bool
	methodsValue []byte // Access-Control-Allow-Methods, unless anyMethod
	exposeValue  []byte // Access-Control-Expose-Headers, or nil
	maxAgeValue  []byte // Access-Control-Max-Age, or nil
	// star: the policy answers "*" to any origin (any origin, no
	// credentials), so its answers do not vary by Origin.
	star bool
}

// compileCORS compiles c; nil stays nil.
func compileCORS(c *CORSConfig) *corsPolicy {
	if c == nil {
		return nil
	}
	p := &corsPolicy{regex: c.AllowOriginRegex, credentials: c.AllowCredentials, privateNet: c.AllowPrivateNetwork}
	for _, o := range c.AllowOrigins {
		switch o {
		case "*":
			p.anyOrigin = true
		case "null":
			p.nullOrigin = true
		default:
			p.exact = append(p.exact, o)
		}
	}
	p.star = p.anyOrigin && !p.credentials
	methods := c.AllowMethods
	if methods == nil {
		methods = defaultCORSMethods
	}
	p.anyMethod = slices.Contains(methods, "*")
	p.methods = methods
	p.methodsValue = []byte(strings.Join(methods, ", "))
	p.anyHeader = slices.Contains(c.AllowHeaders, "*")
	p.headers = c.AllowHeaders
	if len(c.ExposeHeaders) > 0 {
		p.exposeValue = []byte(strings.Join(c.ExposeHeaders, ", "))
	}
	if c.MaxAge >= 0 {
		p.maxAgeValue = []byte(strconv.Itoa(c.MaxAge))
	}
	return p
}
