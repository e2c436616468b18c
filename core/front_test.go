package core

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// quickStart is the Quick Start app's two routes, answered in Go.
func quickStart(t *testing.T, mod func(*Config)) string {
	t.Helper()
	user := func(r *Request) Response {
		return Response{Status: 200, Headers: []Header{{Name: []byte("content-type"), Value: []byte("application/json")}},
			Body: append([]byte(nil), r.Params...)}
	}
	_, base := startApp(t, mod,
		RouteSpec{Method: "GET", Path: "/users/{user_id:int}", Handler: user},
		RouteSpec{Method: "POST", Path: "/users", Handler: func(r *Request) Response {
			return Response{Status: 201, Body: append([]byte(nil), r.Body...)}
		}},
	)
	return strings.TrimPrefix(base, "http://")
}

// refusal is how the server answered a request it refused.
type refusal struct {
	status int
	header http.Header
	doc    map[string]any
	took   time.Duration
}

// refuse sends raw on a fresh connection and reads the one answer, which
// must be a problem document with Connection: close, followed by the
// server closing the connection. It fails on a hang, a reset, or any
// other answer.
func refuse(t *testing.T, addr, raw string) refusal {
	t.Helper()
	c := dialRaw(t, "http://"+addr, 0)
	start := time.Now()
	c.send(raw)
	c.deadline()
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer's body: %v", err)
	}
	took := time.Since(start)
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("status %d: the body is not JSON: %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if doc["status"] != float64(resp.StatusCode) || doc["title"] != reasonPhrase[resp.StatusCode] {
		t.Errorf("status %d: problem %v", resp.StatusCode, doc)
	}
	if !resp.Close { // ReadResponse takes the Connection: close field out of the header
		t.Errorf("no Connection: close (%v)", resp.Header)
	}
	if more, err := c.rest(); more != "" || (err != nil && !isReset(err)) {
		t.Errorf("after the answer: %q, %v; want the connection closed", more, err)
	}
	return refusal{status: resp.StatusCode, header: resp.Header, doc: doc, took: took}
}

// reasonPhrase: the titles of the front's problems, RFC 9110's reason
// phrases (413 under its RFC 7231 name, which the core has always used).
var reasonPhrase = map[int]string{400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large",
	414: "URI Too Long", 417: "Expectation Failed", 431: "Request Header Fields Too Large", 505: "HTTP Version Not Supported"}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

// TestStrictHTTP: every rule of the front (head.go) over raw TCP, against
// the Quick Start app: the status and the detail of its problem document.
func TestStrictHTTP(t *testing.T) {
	addr := quickStart(t, func(c *Config) { c.MaxBodySize = 1 << 20 })
	get := func(target string, fields ...string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + strings.Join(fields, "") + "\r\n"
	}
	cases := []struct {
		name   string
		raw    string
		status int
		detail string
	}{
		{"target without /", get("users/7"), 400, `Request target must start with "/" (or be "*" for OPTIONS, or an absolute URI)`},
		{"* for GET", get("*"), 400, `Request target must start with "/" (or be "*" for OPTIONS, or an absolute URI)`},
		{"extra token", "GET /users/7 HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400, "Request line is not method SP request-target SP HTTP-version"},
		{"two spaces", "GET  /users/7 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Request line is not method SP request-target SP HTTP-version"},
		{"no version", "GET /users/7\r\nHost: x\r\n\r\n", 400, "Request line is not method SP request-target SP HTTP-version"},
		{"garbage version", "GET /users/7 HTTP/x.y\r\nHost: x\r\n\r\n", 400, "HTTP version is not HTTP/DIGIT.DIGIT"},
		{"garbage protocol", "GET /users/7 FTP/1.1\r\nHost: x\r\n\r\n", 400, "HTTP version is not HTTP/DIGIT.DIGIT"},
		{"HTTP/2.0", "GET /users/7 HTTP/2.0\r\nHost: x\r\n\r\n", 505, "Only HTTP/1.0 and HTTP/1.1 are supported"},
		{"HTTP/1.2", "GET /users/7 HTTP/1.2\r\nHost: x\r\n\r\n", 505, "Only HTTP/1.0 and HTTP/1.1 are supported"},
		{"HTTP/0.9", "GET /users/7 HTTP/0.9\r\nHost: x\r\n\r\n", 505, "Only HTTP/1.0 and HTTP/1.1 are supported"},
		{"method not a token", "GE(T /users/7 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Request method is not a token"},
		{"control byte in target", get("/users/7\x01"), 400, "Request target contains a control character"},
		{"empty field name", get("/users/7", ": v\r\n"), 400, "Header field name is empty"},
		{"non-ASCII field name", get("/users/7", "X-Caf\xc3\xa9: v\r\n"), 400, "Header field name is not a token"},
		{"control byte in field name", get("/users/7", "X-\x07: v\r\n"), 400, "Header field name is not a token"},
		{"NUL in field name", get("/users/7", "X\x00Y: v\r\n"), 400, "Header field name is not a token"},
		{"space in field name", get("/users/7", "X Y: v\r\n"), 400, "Header field name is not a token"},
		{"space before colon", get("/users/7", "X-Y : v\r\n"), 400, "Whitespace before a header's colon is not allowed"},
		{"NUL in field value", get("/users/7", "X-Y: a\x00b\r\n"), 400, "Header field value contains a control character"},
		{"obs-fold", get("/users/7", "X-Y: a\r\n b\r\n"), 400, "Obsolete header line folding is not allowed"},
		{"line without colon", get("/users/7", "NoColon\r\n"), 400, "Header field line has no colon"},
		{"two Host headers", get("/users/7", "Host: y\r\n"), 400, "Multiple Host headers are not allowed"},
		{"no Host header", "GET /users/7 HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 request has no Host header"},
		{"empty Host header", "GET /users/7 HTTP/1.1\r\nHost:\r\n\r\n", 400, "HTTP/1.1 request has no Host header"},
		{"userinfo in Host", "GET /users/7 HTTP/1.1\r\nHost: @\r\n\r\n", 400, "Host header must not contain userinfo"},
		{"absolute-form without a host", "GET http:///users/7 HTTP/1.1\r\nHost:\r\n\r\n", 400, `Request target must start with "/" (or be "*" for OPTIONS, or an absolute URI)`},
		{"bad Content-Length", "POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n", 400, "Content-Length is not a non-negative integer"},
		{"TE in HTTP/1.0", "POST /users HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "Transfer-Encoding is not allowed in an HTTP/1.0 request"},
		{"64 KiB target", get("/users/7?q=" + strings.Repeat("a", 64<<10)), 414, "Request target exceeds max_uri_length (8192 bytes)"},
		{"10,000 fields", get("/users/7", strings.Repeat("X-A: b\r\n", 10000)), 431, "Request header fields exceed max_header_count (100)"},
		{"20 KiB field", get("/users/7", "X-A: "+strings.Repeat("b", 20<<10)+"\r\n"), 431, "Request header fields exceed max_header_size (16384 bytes)"},
		{"Content-Length past max_body_size", "POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413, "Request body exceeds max_body_size (1048576 bytes)"},
		{"the same, with Expect", "POST /users HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n", 413, "Request body exceeds max_body_size (1048576 bytes)"},
		{"Expect other than 100-continue", "POST /users HTTP/1.1\r\nHost: x\r\nExpect: x-y\r\nContent-Length: 2\r\n\r\n{}", 417, "The only expectation supported is 100-continue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := refuse(t, addr, c.raw)
			if r.status != c.status || r.doc["detail"] != c.detail {
				t.Fatalf("%d %q, want %d %q", r.status, r.doc["detail"], c.status, c.detail)
			}
		})
	}
}

// TestStrictHTTPServesWhatIsValid: what the rules allow is served as
// before, keep-alive and pipelining included.
func TestStrictHTTPServesWhatIsValid(t *testing.T) {
	addr := quickStart(t, nil)
	cases := []struct {
		name, raw, want string
	}{
		{"origin-form", "GET /users/7 HTTP/1.1\r\nHost: x\r\n\r\n", `{"user_id":7}`},
		{"absolute-form", "GET http://x/users/7 HTTP/1.1\r\nHost: x\r\n\r\n", `{"user_id":7}`},
		{"HTTP/1.0", "GET /users/7 HTTP/1.0\r\n\r\n", `{"user_id":7}`},
		{"bare LF", "GET /users/7 HTTP/1.1\nHost: x\n\n", `{"user_id":7}`},
		{"100 fields", "GET /users/7 HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 99) + "\r\n", `{"user_id":7}`},
		{"8 KiB target", "GET /users/7?q=" + strings.Repeat("a", 8192-len("/users/7?q=")) + " HTTP/1.1\r\nHost: x\r\n\r\n", `{"user_id":7}`},
	}
	for _, c := range cases {
		status, _, body := rawExchange(t, addr, c.raw)
		if status != 200 || string(body) != c.want {
			t.Errorf("%s: %d %s", c.name, status, body)
		}
	}

	// One connection: a body Hertz must skip (a 404 never reads it), a
	// request under Expect: 100-continue, then two pipelined requests.
	conn := dialRaw(t, "http://"+addr, 0)
	conn.send("POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
	if status, _ := conn.head(); !strings.HasPrefix(status, "HTTP/1.1 404 ") {
		t.Fatalf("404: %q", status)
	}
	conn.readN(len(`{"type":"https://spikard.dev/errors/not-found","title":"Not Found","status":404,"detail":"Not found"}`))
	conn.send("POST /users HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
	if status, _ := conn.head(); status != "HTTP/1.1 100 Continue" {
		t.Fatalf("100-continue: %q", status)
	}
	conn.send("{}")
	if status, h := conn.head(); !strings.HasPrefix(status, "HTTP/1.1 201 ") || h["content-length"] != "2" {
		t.Fatalf("after 100-continue: %q %v", status, h)
	}
	conn.readN(2)
	conn.send("GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{`{"user_id":1}`, `{"user_id":2}`} {
		status, h := conn.head()
		n, _ := strconv.Atoi(h["content-length"])
		if body := conn.readN(n); !strings.HasPrefix(status, "HTTP/1.1 200 ") || body != want {
			t.Fatalf("pipelined: %q %q", status, body)
		}
	}
	// A refused request after served ones still gets its problem, and the
	// connection closes.
	conn.send("GET /users/3 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
	if status, h := conn.head(); !strings.HasPrefix(status, "HTTP/1.1 400 ") || h["connection"] != "close" {
		t.Fatalf("refused after keep-alive: %q %v", status, h)
	}
}

// TestStrictHTTPAnswersAtOnce: what used to hang until read_timeout (a
// line without a colon, a declared body too large to read, with or
// without Expect) is answered at once, and no 100 Continue is sent for a
// body that will be refused.
func TestStrictHTTPAnswersAtOnce(t *testing.T) {
	addr := quickStart(t, func(c *Config) { c.MaxBodySize = 1000; c.ReadTimeout = 30 * time.Second })
	cases := []struct {
		name, raw string
		status    int
	}{
		{"line without colon, no blank line", "GET /users/7 HTTP/1.1\r\nHost: x\r\nNoColon\r\n", 400},
		{"line without colon", "GET /users/7 HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400},
		{"declared body past max_body_size", "POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413},
		{"huge declared body", "POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n", 413},
		{"the same under Expect", "POST /users HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1001\r\n\r\n", 413},
		{"endless target", "GET /" + strings.Repeat("a", 9000), 414},
		{"endless field", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 17000), 431},
		{"TLS hello to the HTTP port", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := refuse(t, addr, c.raw) // a 100 Continue first would fail it: ReadResponse takes 1xx
			if r.status != c.status {
				t.Fatalf("status %d, want %d (%v)", r.status, c.status, r.doc)
			}
			if r.took > 2*time.Second {
				t.Fatalf("answered after %v", r.took)
			}
		})
	}
}

// TestHeaderTimeout: a head that trickles in, one byte at a time and each
// within read_timeout, is answered 408 and closed once header_timeout has
// passed since its first byte; a head that arrives in pieces within it is
// served.
func TestHeaderTimeout(t *testing.T) {
	const ht = 400 * time.Millisecond
	addr := quickStart(t, func(c *Config) { c.HeaderTimeout = ht; c.ReadTimeout = 5 * time.Second })

	c := dialRaw(t, "http://"+addr, 0)
	head := "GET /users/7 HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100)
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < len(head); i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := io.WriteString(c.conn, head[i:i+1]); err != nil {
				return
			}
		}
	}()
	c.deadline()
	resp, err := http.ReadResponse(bufio.NewReader(c.r), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	if resp.StatusCode != 408 || !strings.Contains(string(body), `"detail":"Request header not received within header_timeout (0.4 s)"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if took < ht || took > ht+2*time.Second {
		t.Fatalf("answered after %v, header_timeout %v", took, ht)
	}

	// In three pieces, well within header_timeout: served.
	pieces := dialRaw(t, "http://"+addr, 0)
	for _, piece := range []string{"GET /users/7 HT", "TP/1.1\r\nHo", "st: x\r\n\r\n"} {
		pieces.send(piece)
		time.Sleep(50 * time.Millisecond)
	}
	if status, _ := pieces.head(); !strings.HasPrefix(status, "HTTP/1.1 200 ") {
		t.Fatalf("in pieces: %q", status)
	}
}

// TestHeadReadTimeout: a head that stops arriving is answered 408 once one
// wait passes read_timeout; a keep-alive connection's wait for its next
// request is the idle timeout's, which closes without an answer.
func TestHeadReadTimeout(t *testing.T) {
	const rt = 300 * time.Millisecond
	addr := quickStart(t, func(c *Config) { c.ReadTimeout = rt })
	s := stall(t, addr, "GET /users/7 HTTP/1.1\r\nHost: x\r\n")
	got, took := s.end(t, 5*time.Second)
	if !strings.HasPrefix(string(got), "HTTP/1.1 408 ") ||
		!strings.Contains(string(got), `"detail":"Request header not received within read_timeout (0.3 s)"`) {
		t.Fatalf("got %q", got)
	}
	if took < rt/2 {
		t.Fatalf("answered after %v, read_timeout %v", took, rt)
	}
}

// TestFrontLimitsConfigurable: the limits come from the config; 0 is none.
func TestFrontLimitsConfigurable(t *testing.T) {
	addr := quickStart(t, func(c *Config) { c.MaxURILength = 20; c.MaxHeaderCount = 2; c.MaxHeaderSize = 64 })
	if r := refuse(t, addr, "GET /users/7?q=aaaaaaaaaa HTTP/1.1\r\nHost: x\r\n\r\n"); r.status != 414 ||
		r.doc["detail"] != "Request target exceeds max_uri_length (20 bytes)" {
		t.Fatalf("%d %v", r.status, r.doc)
	}
	if r := refuse(t, addr, "GET /users/7 HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n"); r.status != 431 ||
		r.doc["detail"] != "Request header fields exceed max_header_count (2)" {
		t.Fatalf("%d %v", r.status, r.doc)
	}
	if r := refuse(t, addr, "GET /users/7 HTTP/1.1\r\nHost: x\r\nA: "+strings.Repeat("b", 60)+"\r\n\r\n"); r.status != 431 ||
		r.doc["detail"] != "Request header fields exceed max_header_size (64 bytes)" {
		t.Fatalf("%d %v", r.status, r.doc)
	}

	addr = quickStart(t, func(c *Config) { c.MaxURILength = 0; c.MaxHeaderCount = 0; c.MaxHeaderSize = 0 })
	raw := "GET /users/7?q=" + strings.Repeat("a", 64<<10) + " HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 2000) + "\r\n"
	if status, _, body := rawExchange(t, addr, raw); status != 200 {
		t.Fatalf("no limits: %d %s", status, body)
	}
}

// TestRefusalWhileStillSending: a client whose body is refused by its
// declared length, and that goes on sending it, still reads the 413.
func TestRefusalWhileStillSending(t *testing.T) {
	addr := quickStart(t, func(c *Config) { c.MaxBodySize = 64 << 10 })
	body := strings.Repeat("x", 70<<10)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(wireWait))
	go func() {
		_, _ = io.WriteString(conn, "POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestSilentConnection: a client that connects and never sends a byte
// loses its connection once read_timeout passes.
func TestSilentConnection(t *testing.T) {
	const rt = 300 * time.Millisecond
	addr := quickStart(t, func(c *Config) { c.ReadTimeout = rt })
	s := stall(t, addr, "")
	got, took := s.end(t, 5*time.Second)
	if len(got) != 0 || took < rt/2 {
		t.Fatalf("got %q after %v, read_timeout %v", got, took, rt)
	}
}
