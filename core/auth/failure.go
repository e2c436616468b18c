// Package auth verifies the credentials a request carries — a JWT bearer
// token or an API key — before any handler sees the request. It is pure Go
// with no HTTP server in it: core calls it with the header and query bytes it
// already has and turns a Failure into a 401 problem document.
package auth

// ProblemType is the RFC 9457 type URI of every authentication failure; the
// fixture corpus fixes it.
const ProblemType = "https://spikard.dev/errors/unauthorized"

// Failure says why a request was refused, in the words the answer carries.
// Title and Detail become the problem document's fields; Challenge is the
// whole WWW-Authenticate value (RFC 9110 §11.6.1 requires one on a 401).
type Failure struct {
	Title     string
	Detail    string
	Challenge string
}

// bearerChallenge builds the RFC 6750 §3 challenge. A request that carried
// no token gets no error code (§3.1: "the resource server SHOULD NOT include
// an error code"); every other refusal is invalid_token with the detail as
// its description.
func bearerChallenge(realm, code, description string) string {
	c := `Bearer realm="` + quoteSafe(realm) + `"`
	if code != "" {
		c += `, error="` + code + `"`
	}
	if description != "" {
		c += `, error_description="` + quoteSafe(description) + `"`
	}
	return c
}

// quoteSafe keeps a value inside an RFC 9110 quoted-string: RFC 6750 limits
// error_description to %x20-21 / %x23-5B / %x5D-7E, so '"' and '\' and
// anything outside printable ASCII become a space.
func quoteSafe(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = ' '
		}
	}
	return string(b)
}
