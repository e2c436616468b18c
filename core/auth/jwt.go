package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTConfig is the "jwt_auth" configuration key as JSON carries it.
//
// Exactly the keys a token may be checked with are configured: Secret for the
// HS family; PublicKey (PEM text) or PublicKeyFile for one RSA or EC key; or
// JWKSFile, a local JSON Web Key Set whose key is chosen by the token's "kid".
// Algorithm names the one algorithm accepted; Algorithms, when given,
// replaces it with an allow-list. "none" is never accepted, and an algorithm
// is accepted only with the kind of key it needs, so a token that says HS256
// is never checked with an RSA public key used as an HMAC secret.
type JWTConfig struct {
	Secret        string   `json:"secret"`
	Algorithm     string   `json:"algorithm"`
	Algorithms    []string `json:"algorithms"`
	PublicKey     string   `json:"public_key"`
	PublicKeyFile string   `json:"public_key_file"`
	JWKSFile      string   `json:"jwks_file"`
	// Audience, when not empty, requires the token's aud (a string or a
	// list) to contain at least one of these (RFC 7519 §4.1.3).
	Audience []string `json:"audience"`
	// Issuer, when not empty, requires iss to equal it.
	Issuer string `json:"issuer"`
	// Leeway is the clock skew, in seconds, allowed on exp and nbf.
	Leeway float64 `json:"leeway"`
	// RequireExp refuses a token without exp; off by default, as RFC 7519
	// makes exp optional.
	RequireExp bool `json:"require_exp"`
	// Realm goes into the WWW-Authenticate challenge; "api" by default.
	Realm string `json:"realm"`
}

// Verifier checks bearer tokens against one JWTConfig. It is safe for
// concurrent use and allocates only what the JWT library needs per token.
type Verifier struct {
	parser    *jwt.Parser
	cache     *verifiedCache
	now       func() time.Time
	leeway    time.Duration
	secret    []byte
	keys      keySet
	issuer    string
	realm     string
	challenge string // the challenge of a request that carried no token
}

var hmacAlgs = map[string]bool{"HS256": true, "HS384": true, "HS512": true}
var publicAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
}

// NewVerifier checks cfg and builds a Verifier. now is the clock exp and nbf
// are judged by (time.Now when nil); tests inject their own. Every error
// names the configuration field at fault.
func NewVerifier(cfg JWTConfig, now func() time.Time) (*Verifier, error) {
	algs := cfg.Algorithms
	if len(algs) == 0 {
		if cfg.Algorithm == "" {
			cfg.Algorithm = "HS256"
		}
		algs = []string{cfg.Algorithm}
	} else if cfg.Algorithm != "" && !contains(algs, cfg.Algorithm) {
		return nil, fmt.Errorf("jwt_auth.algorithm %q is not in jwt_auth.algorithms", cfg.Algorithm)
	}
	wantHMAC, wantPublic := false, false
	for _, a := range algs {
		switch {
		case hmacAlgs[a]:
			wantHMAC = true
		case publicAlgs[a]:
			wantPublic = true
		case strings.EqualFold(a, "none"):
			return nil, errors.New(`jwt_auth.algorithm "none" is never accepted: an unsigned token proves nothing`)
		default:
			return nil, fmt.Errorf("jwt_auth.algorithm %q is not supported (HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512)", a)
		}
	}
	v := &Verifier{issuer: cfg.Issuer, realm: cfg.Realm}
	if v.realm == "" {
		v.realm = "api"
	}
	v.challenge = bearerChallenge(v.realm, "", "")
	if wantHMAC {
		if cfg.Secret == "" {
			return nil, fmt.Errorf("jwt_auth.secret is required for %s", firstOf(algs, hmacAlgs))
		}
		v.secret = []byte(cfg.Secret)
	} else if cfg.Secret != "" {
		return nil, fmt.Errorf("jwt_auth.secret is given but no HS algorithm is allowed (jwt_auth.algorithm)")
	}
	sources := 0
	for _, s := range []string{cfg.PublicKey, cfg.PublicKeyFile, cfg.JWKSFile} {
		if s != "" {
			sources++
		}
	}
	if sources > 1 {
		return nil, errors.New("jwt_auth: give one of public_key, public_key_file and jwks_file")
	}
	if wantPublic {
		var err error
		switch {
		case cfg.PublicKey != "":
			v.keys, err = pemKey("jwt_auth.public_key", []byte(cfg.PublicKey))
		case cfg.PublicKeyFile != "":
			var b []byte
			if b, err = os.ReadFile(cfg.PublicKeyFile); err != nil {
				return nil, fmt.Errorf("jwt_auth.public_key_file: %w", err)
			}
			v.keys, err = pemKey("jwt_auth.public_key_file", b)
		case cfg.JWKSFile != "":
			v.keys, err = loadJWKS(cfg.JWKSFile)
		default:
			return nil, fmt.Errorf("jwt_auth.public_key, public_key_file or jwks_file is required for %s", firstOf(algs, publicAlgs))
		}
		if err != nil {
			return nil, err
		}
	} else if sources > 0 {
		return nil, errors.New("jwt_auth: a public key is given but no RS/PS/ES algorithm is allowed (jwt_auth.algorithm)")
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("jwt_auth.leeway must be >= 0, got %v", cfg.Leeway)
	}
	if now == nil {
		now = time.Now
	}
	v.now, v.leeway, v.cache = now, time.Duration(cfg.Leeway*float64(time.Second)), newVerifiedCache()
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithTimeFunc(now),
		jwt.WithLeeway(v.leeway),
	}
	if len(cfg.Audience) > 0 {
		opts = append(opts, jwt.WithAudience(cfg.Audience...))
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.RequireExp {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// keyFor returns the key a token is checked with, chosen by its algorithm's
// family: the secret only for HS, a public key only for RS/PS/ES and only of
// the matching type. This, not the library, is what rules out key confusion.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if hmacAlgs[alg] {
		if v.secret == nil {
			return nil, errNoKey
		}
		return v.secret, nil
	}
	kid, _ := t.Header["kid"].(string)
	return v.keys.find(kid, alg)
}

var errNoKey = errors.New("no key for this token")

// Claims are a verified token's claims.
type Claims struct {
	// Payload is the JSON text of the token's payload, as the token
	// carried it.
	Payload []byte
	// Subject is its "sub" claim, "" when absent.
	Subject string
	// LimitKey is "sub:" + Subject, a rate limit's key for the token.
	LimitKey string
}

// Authorize checks an Authorization header value. It returns the token's
// verified claims, or why it was refused.
func (v *Verifier) Authorize(header []byte) (Claims, *Failure) {
	const scheme = "bearer "
	if len(header) <= len(scheme) || !strings.EqualFold(string(header[:len(scheme)]), scheme) {
		return Claims{}, &Failure{
			Title:     "Missing or invalid Authorization header",
			Detail:    "Expected 'Authorization: Bearer <token>'",
			Challenge: v.challenge,
		}
	}
	token := bytes.TrimSpace(header[len(scheme):])
	if e := v.cache.find(token); e != nil && e.current(v.now()) {
		return e.claims, nil
	}
	return v.Verify(string(token))
}

// Verify checks a compact JWS token and returns its claims. A token that
// passes is remembered (jwtcache.go).
func (v *Verifier) Verify(token string) (Claims, *Failure) {
	if e := v.cache.find([]byte(token)); e != nil && e.current(v.now()) {
		return e.claims, nil
	}
	if n := strings.Count(token, ".") + 1; n != 3 {
		return Claims{}, v.fail("Malformed JWT token", fmt.Sprintf("Malformed JWT token: expected 3 parts separated by dots, found %d", n))
	}
	tok, err := v.parser.Parse(token, v.keyFor)
	if err != nil {
		return Claims{}, v.fail("JWT validation failed", v.describe(err))
	}
	sub, _ := tok.Claims.GetSubject()
	// The library decoded the payload into a map; handlers get its JSON as
	// the token carried it (already verified), not a re-encoding.
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(token[strings.IndexByte(token, '.')+1:strings.LastIndexByte(token, '.')], "="))
	if err != nil {
		return Claims{}, v.fail("Malformed JWT token", "Malformed JWT token: the payload is not base64url")
	}
	claims := Claims{Payload: payload, Subject: sub, LimitKey: "sub:" + sub}
	e := &verifiedToken{token: token, claims: claims}
	if nbf, _ := tok.Claims.GetNotBefore(); nbf != nil {
		e.from = nbf.Add(-v.leeway)
	}
	if exp, _ := tok.Claims.GetExpirationTime(); exp != nil {
		e.until = exp.Add(v.leeway)
	}
	v.cache.store(e)
	return claims, nil
}

func (v *Verifier) fail(title, detail string) *Failure {
	return &Failure{Title: title, Detail: detail, Challenge: bearerChallenge(v.realm, "invalid_token", detail)}
}

// describe words a library error as the fixture corpus does; the order is
// the order a client should fix things in.
func (v *Verifier) describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "Token is malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "Token cannot be verified: no key matches it"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "Token signature is invalid"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "Token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "JWT not valid yet, not before claim is in the future"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "Token audience is invalid"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "Token issuer is invalid, expected '" + v.issuer + "'"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "Token is missing a required claim"
	default:
		return "Token claims are invalid"
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

func firstOf(algs []string, family map[string]bool) string {
	for _, a := range algs {
		if family[a] {
			return a
		}
	}
	return ""
}
