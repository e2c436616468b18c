package core

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// doHeaders sends a request with the given header fields (name, value
// pairs) and returns the answer.
func doHeaders(t *testing.T, method, url string, fields ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Set(fields[i], fields[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
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

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// echoRequestID answers with the request id its handler sees.
func echoRequestID(r *Request) Response {
	for _, h := range r.Headers {
		if string(h.Name) == "x-request-id" {
			return Response{Status: 200, Body: append([]byte(nil), h.Value...)}
		}
	}
	return Response{Status: 200, Body: []byte("none")}
}

func TestRequestID(t *testing.T) {
	_, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/id", Handler: echoRequestID})
	long := strings.Repeat("a", 129)
	for _, c := range []struct {
		name, sent string
		kept       bool
	}{
		{"none sent", "", false},
		{"a sane one is kept", "req-42.a:b~c+d/e=f@g_h", true},
		{"128 bytes is kept", long[:128], true},
		{"129 bytes is replaced", long, false},
		{"a space is replaced", "a b", false},
		{"a quote is replaced", `a"b`, false},
		{"non-ASCII is replaced", "idé", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r result
			if c.sent == "" {
				r = get(t, base+"/id")
			} else {
				r = doHeaders(t, "GET", base+"/id", "X-Request-ID", c.sent)
			}
			got := r.header.Get("X-Request-ID")
			if c.kept && got != c.sent {
				t.Fatalf("answer's id %q, want the client's %q", got, c.sent)
			}
			if !c.kept && !uuidV4.MatchString(got) {
				t.Fatalf("answer's id %q is not a generated UUID", got)
			}
			if r.body != got {
				t.Fatalf("the handler saw %q, the answer carries %q", r.body, got)
			}
		})
	}
	// Generated ids differ.
	if a, b := get(t, base+"/id").body, get(t, base+"/id").body; a == b {
		t.Fatalf("two requests got the same id %q", a)
	}
}

// Problem documents core writes itself (404, 405, 422) carry the id too.
func TestRequestIDOnProblems(t *testing.T) {
	_, base := startApp(t, nil,
		RouteSpec{Method: "GET", Path: "/id", Handler: echoRequestID},
		RouteSpec{Method: "GET", Path: "/n/{n}", ParameterSchema: []byte(`{"type":"object","properties":{"n":{"type":"integer","source":"path"}},"required":["n"]}`), Handler: echoRequestID})
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/nowhere", 404}, {"POST", "/id", 405}, {"GET", "/n/x", 422}} {
		r := doHeaders(t, c.method, base+c.path, "X-Request-ID", "mine")
		if r.status != c.status || r.header.Get("X-Request-ID") != "mine" {
			t.Errorf("%s %s: %d with id %q, want %d with the client's", c.method, c.path, r.status, r.header.Get("X-Request-ID"), c.status)
		}
	}
}

func TestRequestIDConfig(t *testing.T) {
	_, off := startApp(t, func(c *Config) { c.RequestID.Enabled = false },
		RouteSpec{Method: "GET", Path: "/id", Handler: echoRequestID})
	r := doHeaders(t, "GET", off+"/id", "X-Request-ID", "external")
	if _, ok := r.header["X-Request-Id"]; ok || r.body != "external" {
		t.Fatalf("ids off: answer header %q, handler saw %q; want no header, the client's own field", r.header.Get("X-Request-ID"), r.body)
	}
	_, named := startApp(t, func(c *Config) { c.RequestID.Header = "X-Correlation-ID" },
		RouteSpec{Method: "GET", Path: "/id", Handler: func(r *Request) Response {
			for _, h := range r.Headers {
				if string(h.Name) == "x-correlation-id" {
					return Response{Status: 200, Body: append([]byte(nil), h.Value...)}
				}
			}
			return Response{Status: 200}
		}})
	r = get(t, named+"/id")
	if got := r.header.Get("X-Correlation-ID"); !uuidV4.MatchString(got) || r.body != got {
		t.Fatalf("named header: answer %q, handler %q", got, r.body)
	}

	for _, c := range []struct{ doc, want string }{
		{`{"request_id": false}`, ""},
		{`{"request_id": {"enabled": true, "header": "X-Trace"}}`, ""},
		{`{"request_id": "yes"}`, `config: "request_id": must be true, false or {"enabled": bool, "header": "X-Request-ID"}`},
		{`{"request_id": {"header": "X Trace"}}`, `config: "request_id": "header": "X Trace" is not a header field name`},
		{`{"request_id": {"enable": true}}`, `config: "request_id": unknown key "enable"`},
	} {
		_, err := ParseConfig([]byte(c.doc))
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.doc, err, c.want)
		}
	}
}

func TestAppendUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		u := string(appendUUID(nil))
		if !uuidV4.MatchString(u) || seen[u] {
			t.Fatalf("%q: not a fresh version-4 UUID", u)
		}
		seen[u] = true
	}
	buf := make([]byte, 0, 36)
	if n := testing.AllocsPerRun(100, func() { buf = appendUUID(buf[:0]) }); n > 0 {
		t.Fatalf("appendUUID allocates %v times", n)
	}
}
