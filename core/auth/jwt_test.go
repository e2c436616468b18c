package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const secret = "test-secret-key-do-not-use-in-production"

var t0 = time.Unix(1_800_000_000, 0)

func clock() func() time.Time { return func() time.Time { return t0 } }

func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustVerifier(t *testing.T, cfg JWTConfig) *Verifier {
	t.Helper()
	v, err := NewVerifier(cfg, clock())
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func wantDetail(t *testing.T, v *Verifier, token, detail string) {
	t.Helper()
	_, f := v.Verify(token)
	switch {
	case detail == "" && f != nil:
		t.Fatalf("refused: %s", f.Detail)
	case detail != "" && f == nil:
		t.Fatalf("accepted, want %q", detail)
	case detail != "" && f.Detail != detail:
		t.Fatalf("detail %q, want %q", f.Detail, detail)
	}
}

func TestHMACClaims(t *testing.T) {
	v := mustVerifier(t, JWTConfig{Secret: secret, Algorithm: "HS256", Audience: []string{"a", "b"}, Issuer: "iss", Leeway: 30})
	at := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(t0.Add(d)) }
	ok := jwt.MapClaims{"sub": "u1", "aud": "b", "iss": "iss", "exp": at(time.Minute)}
	cases := []struct {
		name   string
		claims jwt.MapClaims
		detail string
	}{
		{"valid, aud a string", ok, ""},
		{"aud a list, one matches", jwt.MapClaims{"aud": []string{"x", "a"}, "iss": "iss"}, ""},
		{"aud matches none", jwt.MapClaims{"aud": []string{"x"}, "iss": "iss"}, "Token audience is invalid"},
		{"aud missing", jwt.MapClaims{"iss": "iss"}, "Token is missing a required claim"},
		{"wrong issuer", jwt.MapClaims{"aud": "a", "iss": "evil"}, "Token issuer is invalid, expected 'iss'"},
		{"expired within leeway", jwt.MapClaims{"aud": "a", "iss": "iss", "exp": at(-29 * time.Second)}, ""},
		{"expired past leeway", jwt.MapClaims{"aud": "a", "iss": "iss", "exp": at(-31 * time.Second)}, "Token has expired"},
		{"nbf within leeway", jwt.MapClaims{"aud": "a", "iss": "iss", "nbf": at(29 * time.Second)}, ""},
		{"nbf past leeway", jwt.MapClaims{"aud": "a", "iss": "iss", "nbf": at(31 * time.Second)}, "JWT not valid yet, not before claim is in the future"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantDetail(t, v, sign(t, jwt.SigningMethodHS256, []byte(secret), c.claims, nil), c.detail)
		})
	}
	claims, f := v.Verify(sign(t, jwt.SigningMethodHS256, []byte(secret), ok, nil))
	if f != nil || !strings.Contains(string(claims.Payload), `"sub":"u1"`) || claims.Subject != "u1" {
		t.Fatalf("claims %+v, failure %v", claims, f)
	}
	wantDetail(t, v, sign(t, jwt.SigningMethodHS256, []byte("other"), ok, nil), "Token signature is invalid")
	// Allowed is HS256 only: an HS512 token with the right secret is refused.
	wantDetail(t, v, sign(t, jwt.SigningMethodHS512, []byte(secret), ok, nil), "Token signature is invalid")
}

func TestRequireExp(t *testing.T) {
	v := mustVerifier(t, JWTConfig{Secret: secret, RequireExp: true})
	wantDetail(t, v, sign(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "x"}, nil), "Token is missing a required claim")
}

func TestAuthorizeHeader(t *testing.T) {
	v := mustVerifier(t, JWTConfig{Secret: secret})
	for _, h := range []string{"", "Bearer", "Bearer ", "Basic abc", "Token x.y.z"} {
		_, f := v.Authorize([]byte(h))
		if f == nil || f.Title != "Missing or invalid Authorization header" || f.Challenge != `Bearer realm="api"` {
			t.Fatalf("%q: %+v", h, f)
		}
	}
	_, f := v.Authorize([]byte("bearer invalid.token"))
	if f == nil || f.Title != "Malformed JWT token" || f.Detail != "Malformed JWT token: expected 3 parts separated by dots, found 2" {
		t.Fatalf("%+v", f)
	}
	if f.Challenge != `Bearer realm="api", error="invalid_token", error_description="Malformed JWT token: expected 3 parts separated by dots, found 2"` {
		t.Fatal(f.Challenge)
	}
	good := sign(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "x"}, nil)
	if _, f := v.Authorize([]byte("Bearer " + good)); f != nil {
		t.Fatal(f.Detail)
	}
}

// The corpus's own tokens, against its own configurations: its expected
// words come out of the library's verdicts, not of the token's spelling.
func TestCorpusTokens(t *testing.T) {
	dir := "../../../shared/conformance/fixtures/auth"
	files, _ := filepath.Glob(filepath.Join(dir, "*_jwt_*.json"))
	if len(files) == 0 {
		t.Skip("fixture corpus not beside the worktree")
	}
	for _, f := range files {
		var fx struct {
			Handler struct {
				Middleware struct {
					JWT JWTConfig `json:"jwt_auth"`
				} `json:"middleware"`
			} `json:"handler"`
			Request struct {
				Headers map[string]string `json:"headers"`
			} `json:"request"`
			Expected struct {
				Status int `json:"status_code"`
				Body   struct{ Title, Detail string }
			} `json:"expected_response"`
		}
		b, _ := os.ReadFile(f)
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatal(f, err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			v, err := NewVerifier(fx.Handler.Middleware.JWT, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, fail := v.Authorize([]byte(fx.Request.Headers["Authorization"]))
			if fx.Expected.Status == 200 {
				if fail != nil {
					t.Fatalf("refused: %+v", fail)
				}
				return
			}
			if fail == nil || fail.Title != fx.Expected.Body.Title || fail.Detail != fx.Expected.Body.Detail {
				t.Fatalf("got %+v, want %q / %q", fail, fx.Expected.Body.Title, fx.Expected.Body.Detail)
			}
		})
	}
}

func pemOf(t *testing.T, pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestPublicKeys(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ek384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	claims := jwt.MapClaims{"sub": "x"}
	rsaPEM := pemOf(t, &rk.PublicKey)

	v := mustVerifier(t, JWTConfig{Algorithms: []string{"RS256", "RS512", "PS256"}, PublicKey: rsaPEM})
	wantDetail(t, v, sign(t, jwt.SigningMethodRS256, rk, claims, nil), "")
	wantDetail(t, v, sign(t, jwt.SigningMethodRS512, rk, claims, nil), "")
	wantDetail(t, v, sign(t, jwt.SigningMethodPS256, rk, claims, nil), "")
	wantDetail(t, v, sign(t, jwt.SigningMethodRS384, rk, claims, nil), "Token signature is invalid") // not allowed
	// Key confusion: the RSA public key's PEM text used as an HMAC secret.
	wantDetail(t, v, sign(t, jwt.SigningMethodHS256, []byte(rsaPEM), claims, nil), "Token signature is invalid")
	vAll := mustVerifier(t, JWTConfig{Algorithms: []string{"RS256", "HS256"}, PublicKey: rsaPEM, Secret: "s"})
	wantDetail(t, vAll, sign(t, jwt.SigningMethodHS256, []byte(rsaPEM), claims, nil), "Token signature is invalid")
	// alg none, even if a caller managed to allow-list it through the library.
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims, nil)
	wantDetail(t, v, none, "Token signature is invalid")

	file := filepath.Join(t.TempDir(), "ec.pem")
	os.WriteFile(file, []byte(pemOf(t, &ek.PublicKey)), 0o600)
	ve := mustVerifier(t, JWTConfig{Algorithms: []string{"ES256", "ES384"}, PublicKeyFile: file})
	wantDetail(t, ve, sign(t, jwt.SigningMethodES256, ek, claims, nil), "")
	// ES384 is allowed but the key is P-256: no key fits.
	wantDetail(t, ve, sign(t, jwt.SigningMethodES384, ek384, claims, nil), "Token cannot be verified: no key matches it")
	ve384 := mustVerifier(t, JWTConfig{Algorithm: "ES384", PublicKey: pemOf(t, &ek384.PublicKey)})
	wantDetail(t, ve384, sign(t, jwt.SigningMethodES384, ek384, claims, nil), "")
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestJWKS(t *testing.T) {
	rk1, _ := rsa.GenerateKey(rand.Reader, 2048)
	rk2, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPub, _ := ek.PublicKey.Bytes() // 04 || X || Y
	set := map[string]any{"keys": []map[string]any{
		{"kty": "RSA", "kid": "r1", "n": b64(rk1.N.Bytes()), "e": "AQAB", "use": "sig"},
		{"kty": "RSA", "kid": "r2", "n": b64(rk2.N.Bytes()), "e": "AQAB", "alg": "RS256"},
		{"kty": "EC", "kid": "e1", "crv": "P-256", "x": b64(ecPub[1:33]), "y": b64(ecPub[33:])},
		{"kty": "RSA", "kid": "enc", "n": b64(rk1.N.Bytes()), "e": "AQAB", "use": "enc"},
	}}
	b, _ := json.Marshal(set)
	file := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(file, b, 0o600)
	v := mustVerifier(t, JWTConfig{Algorithms: []string{"RS256", "PS256", "ES256"}, JWKSFile: file})
	claims := jwt.MapClaims{"sub": "x"}
	wantDetail(t, v, sign(t, jwt.SigningMethodRS256, rk1, claims, map[string]any{"kid": "r1"}), "")
	wantDetail(t, v, sign(t, jwt.SigningMethodRS256, rk2, claims, map[string]any{"kid": "r2"}), "")
	wantDetail(t, v, sign(t, jwt.SigningMethodES256, ek, claims, map[string]any{"kid": "e1"}), "")
	// r2 pins RS256: a PS256 token under kid r2 finds no key.
	wantDetail(t, v, sign(t, jwt.SigningMethodPS256, rk2, claims, map[string]any{"kid": "r2"}), "Token cannot be verified: no key matches it")
	// The wrong kid's key does not verify another key's signature.
	wantDetail(t, v, sign(t, jwt.SigningMethodRS256, rk1, claims, map[string]any{"kid": "r2"}), "Token signature is invalid")
	wantDetail(t, v, sign(t, jwt.SigningMethodRS256, rk1, claims, map[string]any{"kid": "nope"}), "Token cannot be verified: no key matches it")
	// No kid, two RSA keys fit: refused rather than guessed.
	wantDetail(t, v, sign(t, jwt.SigningMethodRS256, rk1, claims, nil), "Token cannot be verified: no key matches it")
	// No kid, one EC key: used.
	wantDetail(t, v, sign(t, jwt.SigningMethodES256, ek, claims, nil), "")
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"keys":[{"kty":"RSA","n":"AQAB"}]}`), 0o600)
	for _, c := range []struct {
		cfg  JWTConfig
		want string
	}{
		{JWTConfig{}, "jwt_auth.secret is required for HS256"},
		{JWTConfig{Algorithm: "none"}, `jwt_auth.algorithm "none" is never accepted`},
		{JWTConfig{Algorithm: "HS1", Secret: "s"}, `jwt_auth.algorithm "HS1" is not supported`},
		{JWTConfig{Algorithm: "RS256"}, "jwt_auth.public_key, public_key_file or jwks_file is required for RS256"},
		{JWTConfig{Algorithm: "RS256", PublicKey: "nope"}, "jwt_auth.public_key: no PEM block found"},
		{JWTConfig{Algorithm: "RS256", PublicKeyFile: filepath.Join(dir, "missing.pem")}, "jwt_auth.public_key_file: open"},
		{JWTConfig{Algorithm: "RS256", JWKSFile: bad}, "keys[0]: e is missing"},
		{JWTConfig{Algorithm: "RS256", Secret: "s", PublicKey: "x"}, "jwt_auth.secret is given but no HS algorithm"},
		{JWTConfig{Algorithm: "HS256", Secret: "s", PublicKey: "x"}, "a public key is given but no RS/PS/ES"},
		{JWTConfig{Secret: "s", Leeway: -1}, "jwt_auth.leeway must be >= 0"},
		{JWTConfig{Algorithm: "HS512", Algorithms: []string{"HS256"}, Secret: "s"}, `jwt_auth.algorithm "HS512" is not in jwt_auth.algorithms`},
	} {
		_, err := NewVerifier(c.cfg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 1024)
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}))
	if _, err := NewVerifier(JWTConfig{Algorithm: "RS256", PublicKey: priv}, nil); err == nil || !strings.Contains(err.Error(), "not a public key") {
		t.Errorf("private key accepted: %v", err)
	}
}
