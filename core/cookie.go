package core

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/protocol"
)

// Cookies are core's to write, so that every binding's Set-Cookie reads the
// same: a host passes the response header "spikard-cookie" whose value is a
// JSON object, and core renders it as one Set-Cookie header (RFC 6265bis):
//
//	{"name": string, "value": string, "max_age": int seconds, "expires":
//	 int Unix seconds, "path": string, "domain": string, "secure": bool,
//	 "httponly": bool, "samesite": "strict" | "lax" | "none",
//	 "partitioned": bool}
//
// name is required and must be a token; value (default "") must be cookie
// octets (no space, '"', ',', ';' or '\'); path and domain no ';' or
// control bytes. Attributes are written in that order, Expires as an
// IMF-fixdate. SameSite=None needs secure. Anything else is refused
// (ErrInvalid: the standard 500).

// cookieHeader is the response header name core renders as Set-Cookie.
const cookieHeader = "spikard-cookie"

// isCookieHeader reports whether name is cookieHeader, in any case; one
// length test for every other header.
func isCookieHeader(name []byte) bool {
	return len(name) == len(cookieHeader) && bytes.EqualFold(name, []byte(cookieHeader))
}

// renderCookie turns a "spikard-cookie" value into a Set-Cookie value.
func renderCookie(doc []byte) (string, error) {
	var c struct {
		Name        *string `json:"name"`
		Value       string  `json:"value"`
		MaxAge      *int64  `json:"max_age"`
		Expires     *int64  `json:"expires"`
		Path        string  `json:"path"`
		Domain      string  `json:"domain"`
		Secure      bool    `json:"secure"`
		HTTPOnly    bool    `json:"httponly"`
		SameSite    string  `json:"samesite"`
		Partitioned bool    `json:"partitioned"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return "", fmt.Errorf("respond: spikard-cookie: %v: %w", err, ErrInvalid)
	}
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("respond: spikard-cookie: %s: %w", why, ErrInvalid)
	}
	switch {
	case c.Name == nil || !isToken([]byte(*c.Name)):
		return bad(`"name" must be a token`)
	case !cookieOctets(c.Value):
		return bad(`"value" may not hold spaces, '"', ',', ';', '\' or control bytes`)
	case !attrValue(c.Path) || !attrValue(c.Domain):
		return bad(`"path" and "domain" may not hold ';' or control bytes`)
	}
	var b strings.Builder
	b.WriteString(*c.Name)
	b.WriteByte('=')
	b.WriteString(c.Value)
	if c.MaxAge != nil {
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.FormatInt(max(*c.MaxAge, 0), 10))
	}
	if c.Expires != nil {
		b.WriteString("; Expires=")
		b.WriteString(time.Unix(*c.Expires, 0).UTC().Format(http.TimeFormat))
	}
	if c.Path != "" {
		b.WriteString("; Path=" + c.Path)
	}
	if c.Domain != "" {
		b.WriteString("; Domain=" + c.Domain)
	}
	if c.Secure {
		b.WriteString("; Secure")
	}
	if c.HTTPOnly {
		b.WriteString("; HttpOnly")
	}
	switch strings.ToLower(c.SameSite) {
	case "":
	case "strict":
		b.WriteString("; SameSite=Strict")
	case "lax":
		b.WriteString("; SameSite=Lax")
	case "none":
		if !c.Secure {
			return bad(`"samesite": "none" needs "secure": true`)
		}
		b.WriteString("; SameSite=None")
	default:
		return bad(`"samesite" must be "strict", "lax" or "none"`)
	}
	if c.Partitioned {
		if !c.Secure {
			return bad(`"partitioned" needs "secure": true`)
		}
		b.WriteString("; Partitioned")
	}
	return b.String(), nil
}

func cookieOctets(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '"' || c == ',' || c == ';' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return true
}

func attrValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == ';' || c == 0x7f {
			return false
		}
	}
	return true
}

// checkCookies refuses an answer whose cookie headers core cannot render,
// before anything of it is applied.
func checkCookies(hs []Header) error {
	for i := range hs {
		if isCookieHeader(hs[i].Name) {
			if _, err := renderCookie(hs[i].Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// addHeaders adds hs to h, a checked cookie header as its Set-Cookie.
func addHeaders(h *protocol.ResponseHeader, hs []Header) {
	for i := range hs {
		name, value := bstr(hs[i].Name), bstr(hs[i].Value)
		if isCookieHeader(hs[i].Name) {
			v, _ := renderCookie(hs[i].Value) // checkCookies passed
			h.Add("Set-Cookie", v)
			continue
		}
		h.Add(name, value)
	}
}
