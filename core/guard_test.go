package core

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Guards (guard.go) over real HTTP: JWT and API-key 401s, claims reaching
// hosts, rate-limit 429s with their headers, per-route choices, trusted
// proxies, and a limit shared through a real redis-server.

const testSecret = "test-secret-key-do-not-use-in-production"

// fakeClock is a clock tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Unix(1_800_000_000, 0).UnixNano())
	return c
}
func (c *fakeClock) now() time.Time           { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) add(d time.Duration)      { c.ns.Add(int64(d)) }
func (c *fakeClock) at(d time.Duration) int64 { return c.now().Add(d).Unix() }

func hsToken(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func doH(t *testing.T, url string, h map[string]string) result {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return result{resp.StatusCode, resp.Header, b.String()}
}

// claimsHandler answers with the claims core handed over.
func claimsHandler(r *Request) Response {
	body := r.Claims
	if body == nil {
		body = []byte("null")
	}
	return Response{Status: 200, Headers: []Header{{Name: []byte("content-type"), Value: []byte("application/json")}}, Body: body}
}

func mustRoute(t *testing.T, doc string) RouteSpec {
	t.Helper()
	s, err := ParseRouteSpec([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustConfig(t *testing.T, doc string) Config {
	t.Helper()
	c, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGuardJWT(t *testing.T) {
	clk := newClock()
	cfg := mustConfig(t, `{"jwt_auth": {"secret": "`+testSecret+`", "algorithm": "HS256",
		"audience": ["api.example.com"], "issuer": "auth.example.com", "leeway": 30}}`)
	p := mustRoute(t, `{"method": "GET", "path": "/p", "facts": ["claims"]}`)
	p.Handler = claimsHandler
	health := mustRoute(t, `{"method": "GET", "path": "/health", "jwt_auth": false}`)
	health.Handler = claimsHandler
	// Its own requirement: another issuer.
	own := mustRoute(t, `{"method": "GET", "path": "/own", "facts": ["claims"], "jwt_auth": {"secret": "`+testSecret+`", "issuer": "other"}}`)
	own.Handler = claimsHandler
	_, url := startApp(t, func(c *Config) {
		c.JWTAuth = cfg.JWTAuth
		c.Now = clk.now
	}, p, health, own)

	ok := jwt.MapClaims{"sub": "user123", "aud": "api.example.com", "iss": "auth.example.com", "exp": clk.at(time.Minute)}
	r := doH(t, url+"/p", map[string]string{"Authorization": "Bearer " + hsToken(t, ok)})
	if r.status != 200 {
		t.Fatalf("valid token: %d %s", r.status, r.body)
	}
	jsonEq(t, r.body, `{"sub":"user123","aud":"api.example.com","iss":"auth.example.com","exp":`+strconv.FormatInt(clk.at(time.Minute), 10)+`}`)

	r = doH(t, url+"/p", nil)
	if r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer realm="api"` || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("no token: %d %v %s", r.status, r.header, r.body)
	}
	jsonEq(t, r.body, `{"type":"https://spikard.dev/errors/unauthorized","title":"Missing or invalid Authorization header","status":401,"detail":"Expected 'Authorization: Bearer <token>'"}`)

	wrongAud := jwt.MapClaims{"sub": "u", "aud": []string{"x", "y"}, "iss": "auth.example.com"}
	r = doH(t, url+"/p", map[string]string{"Authorization": "Bearer " + hsToken(t, wrongAud)})
	if r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer realm="api", error="invalid_token", error_description="Token audience is invalid"` {
		t.Fatalf("wrong audience: %d %v %s", r.status, r.header, r.body)
	}
	// Expired 20 s ago: inside the leeway; 40 s ago: past it.
	ok["exp"] = clk.at(-20 * time.Second)
	if r = doH(t, url+"/p", map[string]string{"Authorization": "Bearer " + hsToken(t, ok)}); r.status != 200 {
		t.Fatalf("within leeway: %d %s", r.status, r.body)
	}
	clk.add(20 * time.Second)
	if r = doH(t, url+"/p", map[string]string{"Authorization": "Bearer " + hsToken(t, ok)}); r.status != 401 || !strings.Contains(r.body, "Token has expired") {
		t.Fatalf("past leeway: %d %s", r.status, r.body)
	}
	if r = doH(t, url+"/health", nil); r.status != 200 || r.body != "null" {
		t.Fatalf("opted-out route: %d %s", r.status, r.body)
	}
	other := jwt.MapClaims{"sub": "u", "iss": "other"}
	if r = doH(t, url+"/own", map[string]string{"Authorization": "Bearer " + hsToken(t, other)}); r.status != 200 {
		t.Fatalf("route's own requirement: %d %s", r.status, r.body)
	}
	if r = doH(t, url+"/own", map[string]string{"Authorization": "Bearer " + hsToken(t, wrongAud)}); r.status != 401 || !strings.Contains(r.body, "expected 'other'") {
		t.Fatalf("route's own issuer: %d %s", r.status, r.body)
	}
}

// A lane host finds the claims as the ":claims" pair of the headers.
func TestGuardClaimsOnLane(t *testing.T) {
	route := mustRoute(t, `{"method": "GET", "path": "/p", "facts": ["claims"]}`)
	a, url := startApp(t, func(c *Config) {
		c.JWTAuth = mustConfig(t, `{"jwt_auth": {"secret": "`+testSecret+`"}}`).JWTAuth
	}, route)
	go host(a, 0, func(r *Request) Response {
		var got []byte
		for _, h := range r.Headers {
			if string(h.Name) == ":claims" {
				got = append([]byte(nil), h.Value...)
			}
		}
		return Response{Status: 200, Body: got}
	})
	tok := hsToken(t, jwt.MapClaims{"sub": "lane"})
	if r := doH(t, url+"/p", map[string]string{"Authorization": "Bearer " + tok}); r.status != 200 || r.body != `{"sub":"lane"}` {
		t.Fatalf("%d %q", r.status, r.body)
	}
}

func TestGuardAPIKey(t *testing.T) {
	cfg := mustConfig(t, `{"api_key_auth": {"enabled": true, "keys": ["k_new"], "deprecated_keys": ["k_old"], "header_name": "X-API-Key"}}`)
	route := mustRoute(t, `{"method": "GET", "path": "/d"}`)
	route.Handler = claimsHandler
	_, url := startApp(t, func(c *Config) { c.APIKeyAuth = cfg.APIKeyAuth }, route)
	for _, c := range []struct {
		path   string
		h      map[string]string
		status int
		title  string
		dep    string
	}{
		{"/d", map[string]string{"X-API-Key": "k_new"}, 200, "", ""},
		{"/d", map[string]string{"x-api-key": "k_old"}, 200, "", "true"},
		{"/d?api_key=k_new", nil, 200, "", ""},
		{"/d?api_key=nope", nil, 401, "Invalid API key", ""},
		{"/d", map[string]string{"X-API-Key": "k_new2"}, 401, "Invalid API key", ""},
		{"/d", nil, 401, "Missing API key", ""},
	} {
		r := doH(t, url+c.path, c.h)
		if r.status != c.status || (c.title != "" && !strings.Contains(r.body, `"title":"`+c.title+`"`)) || r.header.Get("X-API-Key-Deprecated") != c.dep {
			t.Errorf("%s %v: %d %v %s", c.path, c.h, r.status, r.header, r.body)
		}
		if c.status == 401 && r.header.Get("WWW-Authenticate") != `APIKey realm="api", header="X-API-Key"` {
			t.Errorf("challenge %q", r.header.Get("WWW-Authenticate"))
		}
	}
}

func TestGuardRateLimit(t *testing.T) {
	clk := newClock()
	cfg := mustConfig(t, `{"rate_limit": {"per_second": 1, "burst": 3, "trusted_proxies": ["127.0.0.1"]}}`)
	lim := mustRoute(t, `{"method": "GET", "path": "/l"}`)
	lim.Handler = claimsHandler
	free := mustRoute(t, `{"method": "GET", "path": "/free", "rate_limit": false}`)
	free.Handler = claimsHandler
	own := mustRoute(t, `{"method": "GET", "path": "/own", "rate_limit": {"per_second": 100, "burst": 1, "ip_based": false}}`)
	own.Handler = claimsHandler
	_, url := startApp(t, func(c *Config) {
		c.RateLimit = cfg.RateLimit
		c.Now = clk.now
	}, lim, free, own)
	fromA := map[string]string{"X-Forwarded-For": "198.51.100.1"}
	for i, want := range []struct {
		status           int
		remaining, reset string
	}{{200, "2", "1"}, {200, "1", "2"}, {200, "0", "3"}, {429, "0", "3"}} {
		r := doH(t, url+"/l", fromA)
		if r.status != want.status || r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != want.remaining || r.header.Get("RateLimit-Reset") != want.reset {
			t.Fatalf("request %d: %d %v", i, r.status, r.header)
		}
		if r.status == 429 {
			if r.header.Get("Retry-After") != "1" {
				t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
			}
			jsonEq(t, r.body, `{"type":"https://spikard.dev/errors/too-many-requests","title":"Too Many Requests","status":429,"detail":"Rate limit exceeded: retry after 1 s"}`)
		}
	}
	// Another client behind the trusted proxy has its own bucket.
	if r := doH(t, url+"/l", map[string]string{"X-Forwarded-For": "198.51.100.2"}); r.status != 200 {
		t.Fatalf("other client: %d", r.status)
	}
	if r := doH(t, url+"/free", fromA); r.status != 200 || r.header.Get("RateLimit-Limit") != "" {
		t.Fatalf("opted out: %d %v", r.status, r.header)
	}
	clk.add(time.Second) // one token back
	if r := doH(t, url+"/l", fromA); r.status != 200 {
		t.Fatalf("after refill: %d", r.status)
	}
	if r := doH(t, url+"/l", fromA); r.status != 429 {
		t.Fatalf("after refill, second: %d", r.status)
	}
	// The route's own limit is global (ip_based false): one bucket for all.
	if r := doH(t, url+"/own", fromA); r.status != 200 {
		t.Fatal(r.status)
	}
	if r := doH(t, url+"/own", map[string]string{"X-Forwarded-For": "203.0.113.7"}); r.status != 429 {
		t.Fatalf("global bucket: %d", r.status)
	}
}

// Without trusted proxies, X-Forwarded-For does not pick the bucket.
func TestGuardForwardedIgnored(t *testing.T) {
	clk := newClock()
	cfg := mustConfig(t, `{"rate_limit": {"per_second": 1, "burst": 1}}`)
	lim := mustRoute(t, `{"method": "GET", "path": "/l"}`)
	lim.Handler = claimsHandler
	_, url := startApp(t, func(c *Config) { c.RateLimit = cfg.RateLimit; c.Now = clk.now }, lim)
	doH(t, url+"/l", map[string]string{"X-Forwarded-For": "198.51.100.1"})
	if r := doH(t, url+"/l", map[string]string{"X-Forwarded-For": "198.51.100.2", "Forwarded": "for=198.51.100.3"}); r.status != 429 {
		t.Fatalf("a forged hop chose a fresh bucket: %d", r.status)
	}
}

// key_by jwt_sub: each verified subject has its own bucket; the limit is
// taken after the token is checked.
func TestGuardLimitBySubject(t *testing.T) {
	clk := newClock()
	cfg := mustConfig(t, `{"jwt_auth": {"secret": "`+testSecret+`"}, "rate_limit": {"per_second": 1, "burst": 1, "key_by": "jwt_sub"}}`)
	route := mustRoute(t, `{"method": "GET", "path": "/s"}`)
	route.Handler = claimsHandler
	_, url := startApp(t, func(c *Config) { c.JWTAuth, c.RateLimit, c.Now = cfg.JWTAuth, cfg.RateLimit, clk.now }, route)
	bearer := func(sub string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + hsToken(t, jwt.MapClaims{"sub": sub})}
	}
	for i, c := range []struct {
		sub    string
		status int
	}{{"a", 200}, {"a", 429}, {"b", 200}, {"b", 429}} {
		if r := doH(t, url+"/s", bearer(c.sub)); r.status != c.status {
			t.Fatalf("%d (%s): %d", i, c.sub, r.status)
		}
	}
	if r := doH(t, url+"/s", nil); r.status != 401 {
		t.Fatalf("no token: %d", r.status)
	}
}

// Two apps (as two workers) on one Redis share one bucket per client.
func TestGuardRedisShared(t *testing.T) {
	redisURL := startRedis(t)
	clk := newClock()
	doc := `{"rate_limit": {"per_second": 1, "burst": 4, "redis_url": "` + redisURL + `"}}`
	var urls []string
	for i := 0; i < 2; i++ {
		cfg := mustConfig(t, doc)
		route := mustRoute(t, `{"method": "GET", "path": "/r"}`)
		route.Handler = claimsHandler
		_, url := startApp(t, func(c *Config) { c.RateLimit, c.Now = cfg.RateLimit, clk.now }, route)
		urls = append(urls, url)
	}
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(u string) {
			defer wg.Done()
			if r := doH(t, u+"/r", nil); r.status == 200 {
				admitted.Add(1)
			} else if r.status != 429 {
				t.Errorf("status %d %s", r.status, r.body)
			}
		}(urls[i%2])
	}
	wg.Wait()
	if n := admitted.Load(); n != 4 {
		t.Fatalf("two apps admitted %d, want one burst (4)", n)
	}
}

func TestGuardRedisUnreachable(t *testing.T) {
	port := strconv.Itoa(freeTCPPort(t))
	cfg := mustConfig(t, `{"rate_limit": {"per_second": 1, "burst": 1, "redis_url": "redis://127.0.0.1:`+port+`", "redis_timeout": 0.2}}`)
	c := DefaultConfig()
	c.Port, c.Quiet, c.Logger = 0, true, &testLogger{}
	c.RateLimit = cfg.RateLimit
	a := NewApp(c)
	start := time.Now()
	err := a.Start()
	if err == nil {
		a.Close()
		t.Fatal("started without its Redis")
	}
	if !strings.Contains(err.Error(), "rate limit store unavailable: rate_limit.redis_url 127.0.0.1:"+port) || time.Since(start) > 3*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
	// fail_open: starts, logs, admits.
	cfg = mustConfig(t, `{"rate_limit": {"per_second": 1, "burst": 1, "redis_url": "redis://127.0.0.1:`+port+`", "redis_timeout": 0.2, "fail_open": true}}`)
	route := mustRoute(t, `{"method": "GET", "path": "/r"}`)
	route.Handler = claimsHandler
	var lg *testLogger
	_, url := startApp(t, func(c *Config) { c.RateLimit = cfg.RateLimit; lg = c.Logger.(*testLogger) }, route)
	for i := 0; i < 3; i++ {
		if r := doH(t, url+"/r", nil); r.status != 200 || r.header.Get("RateLimit-Limit") != "" {
			t.Fatalf("fail open: %d %v", r.status, r.header)
		}
	}
	if lines := strings.Join(lg.all(), "\n"); !strings.Contains(lines, "fail_open") {
		t.Fatalf("no warning logged: %q", lines)
	}
}

func freeTCPPort(t *testing.T) int {
	a, url := startApp(t, nil)
	_ = url
	p := a.Port()
	a.Close()
	return p
}

func TestGuardConfigErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{"jwt_auth": {"algorithm": "HS256"}}`, `config: "jwt_auth": jwt_auth.secret is required for HS256`},
		{`{"jwt_auth": {"secret": "s", "algorithm": "none"}}`, `jwt_auth.algorithm "none" is never accepted`},
		{`{"jwt_auth": {"secret": "s", "audiance": ["x"]}}`, `config: "jwt_auth": unknown key "audiance"`},
		{`{"jwt_auth": {"secret": "s", "leeway": "30"}}`, `config: "jwt_auth": "leeway" must be a number, not string`},
		{`{"jwt_auth": false}`, `config: "jwt_auth": must be an object`},
		{`{"api_key_auth": {"keys": []}}`, `config: "api_key_auth": api_key_auth.keys must hold at least one key`},
		{`{"rate_limit": {"per_second": 0, "burst": 1}}`, `config: "rate_limit": rate_limit.per_second must be a positive number, got 0`},
		{`{"rate_limit": {"per_second": 1, "burst": 1, "key_by": "user"}}`, `rate_limit.key_by must be`},
		{`{"rate_limit": {"per_second": 1, "burst": 1, "trusted_proxies": ["x"]}}`, `rate_limit.trusted_proxies[0] "x"`},
	} {
		_, err := ParseConfig([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.doc, err, c.want)
		}
	}
	if _, err := ParseRouteSpec([]byte(`{"method": "GET", "path": "/", "rate_limit": true}`)); err == nil ||
		!strings.Contains(err.Error(), `route: "rate_limit": must be an object or false`) {
		t.Error(err)
	}
	// key_by jwt_sub on a route without JWT: refused at AddRoute.
	cfg := mustConfig(t, `{"rate_limit": {"per_second": 1, "burst": 1, "key_by": "jwt_sub"}}`)
	c := DefaultConfig()
	c.RateLimit = cfg.RateLimit
	a := NewApp(c)
	defer a.Close()
	if _, err := a.AddRoute(mustRoute(t, `{"method": "GET", "path": "/"}`)); err == nil || !strings.Contains(err.Error(), `rate_limit.key_by "jwt_sub": the route has no jwt_auth`) {
		t.Error(err)
	}
}
