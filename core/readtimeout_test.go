package core

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/netpoll"
)

// stalled is a connection that sent part of a request and then nothing.
type stalled struct {
	conn net.Conn
	sent time.Time
}

// stall writes raw on a fresh connection to addr and sends nothing more.
func stall(t *testing.T, addr, raw string) stalled {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	return stalled{conn: conn, sent: time.Now()}
}

// end returns what the server wrote before closing the connection and how
// long after the stall that was. It fails the test if the server still
// holds the connection after limit.
func (s stalled) end(t *testing.T, limit time.Duration) ([]byte, time.Duration) {
	t.Helper()
	_ = s.conn.SetReadDeadline(s.sent.Add(limit))
	got, err := io.ReadAll(s.conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("server still holds a stalled connection after %v (read %q)", limit, got)
	}
	return got, time.Since(s.sent)
}

// TestReadTimeout: a client that stalls mid-headers or mid-body loses its
// connection once read_timeout passes, while other connections are served.
func TestReadTimeout(t *testing.T) {
	const rt = 300 * time.Millisecond
	const limit = 5 * time.Second // far above rt: a hung connection, not a slow timer
	echo := RouteSpec{Method: "POST", Path: "/data", Handler: func(r *Request) Response {
		return Response{Status: 200, Body: r.Body}
	}}
	cases := []struct {
		name    string
		maxBody int64
		raw     string
		// want is the exact answer, or "" for "closed, with at most a 4xx".
		want string
	}{
		{name: "headers", maxBody: 10 << 20,
			raw: "POST /data HTTP/1.1\r\nHost: x\r\nContent-Le"},
		{name: "prefetched body", maxBody: 10 << 20,
			raw: "POST /data HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":"},
		// With no body limit, a body past Hertz's prefetch is read by core,
		// which answers the stall itself.
		{name: "streamed body", maxBody: 0,
			raw:  "POST /data HTTP/1.1\r\nHost: x\r\nContent-Length: 8000000\r\n\r\n{\"a\":",
			want: `{"type":"https://spikard.dev/errors/request-timeout","title":"Request Timeout","status":408,"detail":"Request body not received within the read timeout"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, base := startApp(t, func(c *Config) { c.ReadTimeout = rt; c.MaxBodySize = tc.maxBody }, echo)
			addr := strings.TrimPrefix(base, "http://")
			s := stall(t, addr, tc.raw)

			// Another connection is served while the stalled one is held.
			resp, err := http.Post(base+"/data", "application/json", strings.NewReader(`{"ok":1}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != `{"ok":1}` {
				t.Fatalf("concurrent request: %d %q", resp.StatusCode, body)
			}

			got, took := s.end(t, limit)
			if took < rt/2 {
				t.Errorf("closed after %v, before the %v read timeout could run out", took, rt)
			}
			if tc.want != "" {
				head, payload, _ := bytes.Cut(got, []byte("\r\n\r\n"))
				if !bytes.HasPrefix(head, []byte("HTTP/1.1 408 ")) || !bytes.Contains(head, []byte("application/problem+json")) ||
					!bytes.Contains(head, []byte("Connection: close")) || string(payload) != tc.want {
					t.Fatalf("got %q", got)
				}
				return
			}
			if len(got) > 0 && !bytes.HasPrefix(got, []byte("HTTP/1.1 4")) {
				t.Fatalf("got %q", got)
			}
		})
	}
}

// errReader yields data, then err.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadBodyFaults: how a body stream that ends early is classified.
// (Over netpoll a peer's half-close closes the connection before any
// answer can be written, so the short-body 400 is reachable only on
// transports that keep a half-closed connection writable.)
func TestReadBodyFaults(t *testing.T) {
	a := NewApp(DefaultConfig())
	cases := []struct {
		name string
		cl   int
		r    io.Reader
		want bodyFault
	}{
		{"whole", 5, &errReader{[]byte("hello"), io.EOF}, bodyOK},
		{"short at EOF", 100, &errReader{[]byte("hello"), io.EOF}, bodyShort},
		{"timed out", 100, &errReader{[]byte("hello"), netpoll.ErrReadTimeout}, bodyStalled},
		{"broken", 100, &errReader{[]byte("hello"), netpoll.ErrConnClosed}, bodyShort},
	}
	for _, tc := range cases {
		c := app.NewContext(0)
		c.Request.SetBodyStream(tc.r, tc.cl)
		body, fault := a.readBody(c, &exchange{})
		if fault != tc.want || (fault == bodyOK) != (string(body) == "hello") {
			t.Errorf("%s: %q %v, want fault %v", tc.name, body, fault, tc.want)
		}
	}
}

// TestIdleKeepAliveTimeout: a keep-alive connection that has been answered
// and then sends nothing is closed once read_timeout passes.
func TestIdleKeepAliveTimeout(t *testing.T) {
	const rt = 300 * time.Millisecond
	ok := RouteSpec{Method: "GET", Path: "/ok", Handler: func(*Request) Response {
		return Response{Status: 200, Body: []byte("ok")}
	}}
	_, base := startApp(t, func(c *Config) { c.ReadTimeout = rt }, ok)
	s := stall(t, strings.TrimPrefix(base, "http://"), "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
	got, took := s.end(t, 5*time.Second)
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 200 ")) || !bytes.HasSuffix(got, []byte("\r\n\r\nok")) {
		t.Fatalf("got %q", got)
	}
	if took < rt/2 {
		t.Errorf("idle connection closed after %v, before the %v read timeout", took, rt)
	}
}
