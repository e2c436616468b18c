package auth

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkAuthorizeHS256 is the per-request cost of a guarded route's JWT
// check: one Authorization header with a valid HS256 token.
func BenchmarkAuthorizeHS256(b *testing.B) {
	v, err := NewVerifier(JWTConfig{Secret: secret, Audience: []string{"api"}, Issuer: "iss"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "aud": "api", "iss": "iss"}).SignedString([]byte(secret))
	header := []byte("Bearer " + tok)
	b.ReportAllocs()
	for b.Loop() {
		if _, f := v.Authorize(header); f != nil {
			b.Fatal(f.Detail)
		}
	}
}
