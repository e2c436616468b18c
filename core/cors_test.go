package core

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func ok200(*Request) Response { return Response{Status: 200, Body: []byte("ok")} }

func TestCORS(t *testing.T) {
	policy := &CORSConfig{
		AllowOrigins:     []string{"https://app.example"},
		AllowOriginRegex: []*regexp.Regexp{regexp.MustCompile(`^(?:https://[a-z]+\.tenant\.example)$`)},
		AllowMethods:     []string{"GET", "POST"},
		AllowHeaders:     []string{"x-custom"},
		ExposeHeaders:    []string{"X-Total"},
		MaxAge:           3600,
	}
	_, base := startApp(t, func(c *Config) { c.CORS = policy },
		RouteSpec{Method: "GET", Path: "/items", Handler: ok200},
		RouteSpec{Method: "POST", Path: "/items", Handler: ok200},
		RouteSpec{Method: "GET", Path: "/own", Handler: ok200, CORS: &CORSConfig{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}, MaxAge: -1}},
		RouteSpec{Method: "GET", Path: "/open", Handler: ok200, NoCORS: true},
		RouteSpec{Method: "OPTIONS", Path: "/open", Handler: func(*Request) Response { return Response{Status: 299} }, NoCORS: true},
	)
	type want struct {
		status  int
		headers map[string]string // "" : absent
		body    string            // substring
	}
	for _, c := range []struct {
		name   string
		method string
		path   string
		fields []string
		want   want
	}{
		{"no origin: served, Vary", "GET", "/items", nil,
			want{200, map[string]string{"Vary": "Origin", "Access-Control-Allow-Origin": ""}, "ok"}},
		{"allowed origin echoed", "GET", "/items", []string{"Origin", "https://app.example"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Vary": "Origin", "Access-Control-Expose-Headers": "X-Total", "Access-Control-Allow-Credentials": ""}, "ok"}},
		{"regex origin", "GET", "/items", []string{"Origin", "https://acme.tenant.example"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "https://acme.tenant.example"}, "ok"}},
		{"regex matches whole origins only", "GET", "/items", []string{"Origin", "https://acme.tenant.example.evil"},
			want{403, nil, "CORS request from origin 'https://acme.tenant.example.evil' not allowed"}},
		{"other origin refused", "GET", "/items", []string{"Origin", "https://evil.example"},
			want{403, map[string]string{"Content-Type": "application/problem+json", "Vary": "Origin", "Access-Control-Allow-Origin": ""}, `"detail":"CORS request from origin 'https://evil.example' not allowed"`}},
		{"case matters", "GET", "/items", []string{"Origin", "https://APP.example"},
			want{403, nil, "not allowed"}},
		{"null refused", "GET", "/items", []string{"Origin", "null"},
			want{403, nil, "origin 'null' not allowed"}},
		{"same origin is not CORS", "GET", "/items", []string{"Origin", strings.Replace(base, "http://", "http://", 1)},
			want{200, map[string]string{"Access-Control-Allow-Origin": ""}, "ok"}},
		{"preflight", "OPTIONS", "/items", []string{"Origin", "https://app.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "Content-Type, X-Custom"},
			want{204, map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "GET, POST", "Access-Control-Allow-Headers": "Content-Type, X-Custom", "Access-Control-Max-Age": "3600", "Vary": "Origin"}, ""}},
		{"preflight for a method the path lacks", "OPTIONS", "/items", []string{"Origin", "https://app.example", "Access-Control-Request-Method", "DELETE"},
			want{403, nil, "CORS method 'DELETE' not allowed"}},
		{"preflight for a header not allowed", "OPTIONS", "/items", []string{"Origin", "https://app.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "X-Custom, X-Other"},
			want{403, nil, "CORS header 'X-Other' not allowed"}},
		{"preflight from another origin", "OPTIONS", "/items", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "GET"},
			want{403, nil, "origin 'https://evil.example' not allowed"}},
		{"OPTIONS without the request method is routed", "OPTIONS", "/items", []string{"Origin", "https://app.example"},
			want{405, nil, ""}},
		{"route policy: any origin, star", "GET", "/own", []string{"Origin", "https://whoever.example"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "*", "Vary": ""}, "ok"}},
		{"route policy: any method and headers echoed, no max-age", "OPTIONS", "/own", []string{"Origin", "https://whoever.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "X-Anything"},
			want{204, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Headers": "X-Anything", "Access-Control-Max-Age": ""}, ""}},
		{"route without CORS", "GET", "/open", []string{"Origin", "https://evil.example"},
			want{200, map[string]string{"Access-Control-Allow-Origin": "", "Vary": ""}, "ok"}},
		{"route without CORS: OPTIONS goes to its route", "OPTIONS", "/open", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "GET"},
			want{299, nil, ""}},
		{"unknown path", "OPTIONS", "/nowhere", []string{"Origin", "https://app.example", "Access-Control-Request-Method", "GET"},
			want{404, nil, ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := doHeaders(t, c.method, base+c.path, c.fields...)
			if r.status != c.want.status {
				t.Fatalf("status %d, want %d (body %s)", r.status, c.want.status, r.body)
			}
			for k, v := range c.want.headers {
				if got := strings.Join(r.header.Values(k), ", "); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(r.body, c.want.body) {
				t.Errorf("body %q, want it to contain %q", r.body, c.want.body)
			}
		})
	}
}

func TestCORSCredentials(t *testing.T) {
	_, base := startApp(t, func(c *Config) {
		c.CORS = &CORSConfig{AllowOrigins: []string{"*"}, AllowCredentials: true, AllowMethods: defaultCORSMethods, MaxAge: 600}
	}, RouteSpec{Method: "GET", Path: "/me", Handler: ok200})
	r := doHeaders(t, "GET", base+"/me", "Origin", "https://app.example")
	if r.header.Get("Access-Control-Allow-Origin") != "https://app.example" || r.header.Get("Access-Control-Allow-Credentials") != "true" || r.header.Get("Vary") != "Origin" {
		t.Fatalf("credentials with any origin: %v; want the origin echoed, never *", r.header)
	}
}

func TestCORSPrivateNetwork(t *testing.T) {
	_, base := startApp(t, func(c *Config) {
		c.CORS = &CORSConfig{AllowOrigins: []string{"https://public.example"}, AllowMethods: []string{"GET"}, AllowPrivateNetwork: true, MaxAge: -1}
	}, RouteSpec{Method: "GET", Path: "/local", Handler: ok200})
	r := doHeaders(t, "OPTIONS", base+"/local", "Origin", "https://public.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Private-Network", "true")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Fatalf("private network preflight: %d %v", r.status, r.header)
	}
}

// A host's streams and WebSocket upgrades carry the CORS headers core set
// before the host saw the request; see TestCORSOnStreams in stream_test.go
// for a lane host.

func TestParseCORS(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{"cors": {"allow_origins": ["https://a.example", "*", "null", {"regex": "^https://.*\\.a\\.example$"}]}}`, ""},
		{`{"cors": {"allow_origins": ["https://a.example"], "allow_methods": ["get"], "allow_headers": ["X-A"], "allow_credentials": true, "expose_headers": ["X-B"], "max_age": 10, "allow_private_network": true}}`, ""},
		{`{"cors": {}}`, `config: "cors": "allow_origins": must list at least one origin`},
		{`{"cors": true}`, `config: "cors": must be an object`},
		{`{"cors": {"allow_origins": ["https://a.example/"]}}`, `"allow_origins": "https://a.example/" is not an origin`},
		{`{"cors": {"allow_origins": [{"regex": "("}]}}`, `"allow_origins": regex "("`},
		{`{"cors": {"allow_origins": ["*"], "allow_methods": ["GE T"]}}`, `"allow_methods": "GE T" is not a token`},
		{`{"cors": {"allow_origins": ["*"], "max_age": -2}}`, `"max_age": must be an integer in -1..`},
		{`{"cors": {"allow_origins": ["*"], "allowed_origins": ["*"]}}`, `unknown key "allowed_origins"`},
	} {
		_, err := ParseConfig([]byte(c.doc))
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.doc, err, c.want)
		}
	}
	for _, c := range []struct{ doc, want string }{
		{`{"method":"GET","path":"/a","cors":false}`, ""},
		{`{"method":"GET","path":"/a","cors":{"allow_origins":["*"]}}`, ""},
		{`{"method":"GET","path":"/a","cors":true}`, `route: "cors": must be an object (a policy) or false`},
	} {
		s, err := ParseRouteSpec([]byte(c.doc))
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.doc, err, c.want)
		}
		if err == nil && strings.Contains(c.doc, "false") && !s.NoCORS {
			t.Errorf("%s: NoCORS not set", c.doc)
		}
	}
}

// TestCORSAndRequestIDOnStreams: the headers core sets before a host sees
// the request (CORS, the request id) reach the client whatever way the
// host answers: a stream, an SSE stream, a WebSocket's 101.
func TestCORSAndRequestIDOnStreams(t *testing.T) {
	cors := func(c *Config) { c.CORS = &CORSConfig{AllowOrigins: []string{"https://app.example"}, MaxAge: -1} }
	for _, flags := range []uint32{0, ResponseSSE} {
		a, base, pl := startStreams(t, cors)
		c := dialRaw(t, base, 0)
		c.send("GET /s HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\nX-Request-ID: s-1\r\n\r\n")
		openStream(t, a, pl, Response{Flags: flags})
		status, h := c.head()
		if status != "HTTP/1.1 200 OK" || h["access-control-allow-origin"] != "https://app.example" || h["vary"] != "Origin" || h["x-request-id"] != "s-1" {
			t.Fatalf("flags %d: head %q %v", flags, status, h)
		}
	}
	a, p, url := startWS(t, cors, nil)
	hdr := http.Header{"Origin": {"https://app.example"}, "X-Request-Id": {"ws-1"}}
	dialed := dialAsync(url, hdr, nil)
	open := nextOpen(t, p)
	if err := a.Respond(open.id, Response{Flags: ResponseWSAccept}); err != nil {
		t.Fatal(err)
	}
	r := <-dialed
	if r.err != nil {
		t.Fatalf("dial: %v", r.err)
	}
	defer r.conn.Close()
	if h := r.resp.Header; h.Get("Access-Control-Allow-Origin") != "https://app.example" || h.Get("X-Request-Id") != "ws-1" {
		t.Fatalf("101 headers %v", h)
	}
	// The policy decides a handshake's origin too: one it refuses is a 403
	// before the host hears of it; the app lists no WebSocket origins.
	refused := <-dialAsync(url, http.Header{"Origin": {"https://evil.example"}}, nil)
	if refused.err == nil || refused.resp == nil || refused.resp.StatusCode != 403 {
		t.Fatalf("handshake from a refused origin: %v %v", refused.err, refused.resp)
	}
}
