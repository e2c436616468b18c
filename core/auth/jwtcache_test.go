package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// movingClock is a clock a test sets.
type movingClock struct{ t time.Time }

func (c *movingClock) now() time.Time { return c.t }

// TestCachedTokenWindow: a remembered token is judged against the clock on
// every use, leeway included, the same as the first time: valid until
// exp+leeway, then refused with the library's wording; not before
// nbf-leeway, even after it was accepted later on.
func TestCachedTokenWindow(t *testing.T) {
	c := &movingClock{t: t0}
	v, err := NewVerifier(JWTConfig{Secret: secret, Leeway: 5}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{
		"sub": "u1", "nbf": t0.Unix() + 10, "exp": t0.Unix() + 100,
	}, nil)
	header := []byte("Bearer " + tok)
	steps := []struct {
		at     int64 // seconds after t0
		detail string
	}{
		{0, "JWT not valid yet, not before claim is in the future"}, // before nbf-leeway: refused, not remembered
		{5, ""},   // nbf-leeway: accepted, remembered
		{50, ""},  // from the cache
		{104, ""}, // exp+leeway-1
		{4, "JWT not valid yet, not before claim is in the future"}, // back before the window: the cache does not answer
		{105, "Token has expired"},                                  // exp+leeway
		{60, ""},
	}
	for _, s := range steps {
		c.t = t0.Add(time.Duration(s.at) * time.Second)
		claims, f := v.Authorize(header)
		switch {
		case s.detail == "" && f != nil:
			t.Fatalf("t0+%ds: refused: %s", s.at, f.Detail)
		case s.detail != "" && (f == nil || f.Detail != s.detail):
			t.Fatalf("t0+%ds: %+v, want %q", s.at, f, s.detail)
		case s.detail == "" && (claims.Subject != "u1" || claims.LimitKey != "sub:u1" || !strings.Contains(string(claims.Payload), `"sub":"u1"`)):
			t.Fatalf("t0+%ds: claims %+v", s.at, claims)
		}
	}
}

// TestCacheComparesWholeToken: a token that differs from a remembered one
// only in its signature, or only in its payload, is checked in full and
// refused; refusals are not remembered.
func TestCacheComparesWholeToken(t *testing.T) {
	v := mustVerifier(t, JWTConfig{Secret: secret})
	good := sign(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "u1"}, nil)
	wantDetail(t, v, good, "")
	wantDetail(t, v, good, "")
	forged := good[:strings.LastIndexByte(good, '.')+1] + "AAAA" + good[strings.LastIndexByte(good, '.')+5:]
	other := sign(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "admin"}, nil)
	swapped := other[:strings.LastIndexByte(other, '.')] + good[strings.LastIndexByte(good, '.'):]
	for range 2 {
		wantDetail(t, v, forged, "Token signature is invalid")
		wantDetail(t, v, swapped, "Token signature is invalid")
	}
	// Another verifier (another secret) shares nothing with this one.
	v2 := mustVerifier(t, JWTConfig{Secret: secret + "2"})
	wantDetail(t, v2, good, "Token signature is invalid")
}

// TestLongTokenNotCached: a token over maxCachedToken is still verified,
// every time, and never stored.
func TestLongTokenNotCached(t *testing.T) {
	v := mustVerifier(t, JWTConfig{Secret: secret})
	long := sign(t, jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "u1", "pad": strings.Repeat("x", maxCachedToken)}, nil)
	for range 2 {
		wantDetail(t, v, long, "")
	}
	if v.cache.find([]byte(long)) != nil {
		t.Fatal("a token over maxCachedToken was remembered")
	}
}
