package core

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckFraming(t *testing.T) {
	cases := []struct {
		raw string
		bad bool
	}{
		{"Host: a\r\nContent-Length: 5\r\n\r\n", false},
		{"Host: a\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"Host: a\r\nTransfer-Encoding:  Chunked \r\n\r\n", false},
		{"Content-Length: 5\r\nContent-Length: 5\r\n\r\n", false},
		{"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", true},
		{"Content-Length: 5\r\ntransfer-encoding: chunked\r\n\r\n", true},
		{"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"Transfer-Encoding: gzip, chunked\r\n\r\n", true},
		{"Transfer-Encoding: xchunked\r\n\r\n", true},
		{"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", true},
		{"Content-Length : 5\r\n\r\n", true},
		{"X-A: b\r\n c\r\n\r\n", true},
	}
	for _, c := range cases {
		if got := checkFraming([]byte(c.raw)) != ""; got != c.bad {
			t.Errorf("checkFraming(%q) bad=%v, want %v", c.raw, got, c.bad)
		}
	}
	if n := testing.AllocsPerRun(100, func() { checkFraming([]byte("Host: a\r\nContent-Length: 5\r\nX: y\r\n\r\n")) }); n != 0 {
		t.Errorf("checkFraming allocates %v", n)
	}
}

// TestSmugglingOverTCP sends each ambiguous request with a second request
// hidden behind it on one connection: the first must get a 400 problem
// with Connection: close and the hidden one must never reach a handler.
func TestSmugglingOverTCP(t *testing.T) {
	var hidden atomic.Int32
	_, base := startApp(t, nil,
		RouteSpec{Method: "POST", Path: "/", Handler: func(*Request) Response { return Response{Status: 200, Body: []byte("ok")} }},
		RouteSpec{Method: "GET", Path: "/hidden", Handler: func(*Request) Response { hidden.Add(1); return Response{Status: 200} }},
	)
	addr := strings.TrimPrefix(base, "http://")
	smuggled := "GET /hidden HTTP/1.1\r\nHost: x\r\n\r\n"
	attacks := []string{
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled,
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: " + strconv.Itoa(len(smuggled)) + "\r\n\r\n" + smuggled,
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(smuggled)) + "\r\nContent-Length: 0\r\n\r\n" + smuggled,
	}
	for i, attack := range attacks {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(conn, attack); err != nil {
			t.Fatal(err)
		}
		// Read everything until the server closes the connection.
		all, err := io.ReadAll(bufio.NewReader(conn))
		conn.Close()
		if err != nil {
			t.Fatalf("attack %d: reading: %v (got %q)", i, err, all)
		}
		resp := string(all)
		if !strings.HasPrefix(resp, "HTTP/1.1 400") {
			t.Errorf("attack %d: response %q", i, resp)
		}
		if strings.Count(resp, "HTTP/1.1 ") != 1 {
			t.Errorf("attack %d: more than one response: %q", i, resp)
		}
		if !strings.Contains(strings.ToLower(resp), "connection: close") {
			t.Errorf("attack %d: no Connection: close: %q", i, resp)
		}
	}
	if n := hidden.Load(); n != 0 {
		t.Fatalf("smuggled request served %d times", n)
	}
}
