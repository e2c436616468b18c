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
