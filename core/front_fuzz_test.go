package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzWait bounds how long the server may take to answer and close once
// the client has sent everything: far above the config's timeouts below,
// so a hit is a hang.
const fuzzWait = 3 * time.Second

// FuzzRawRequest sends arbitrary bytes to a running app, as one client on
// one connection, and checks what comes back: no panic (the server runs
// in this process), no hang (the server closes within fuzzWait, its
// timeouts being a few milliseconds), and nothing but a sequence of
// well-formed HTTP/1.1 answers, none after one that says Connection:
// close, none a 500.
func FuzzRawRequest(f *testing.F) {
	for _, seed := range []string{
		"GET /users/7 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /users/7 HTTP/1.1\r\nHost: x\r\n\r\nGET /users/8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"HEAD /users/7 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /users/x HTTP/1.0\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://x/users/7 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"a\":1}\n",
		"POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST /users HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n",
		"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET /users/7 HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
		"GET /users/7 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
		"GET /users/7 HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
		"GET /users/7 HTTP/2.0\r\nHost: x\r\n\r\n",
		"GET users HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /" + strings.Repeat("a", 300) + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("A: b\r\n", 20) + "\r\n",
		"\x16\x03\x01\x00\xa5\x01\x00",
		"GET /users/7 HTTP/1.1\r\nHost: x\r\n",
	} {
		f.Add([]byte(seed))
	}
	addr := startFuzzApp(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		answer, err := exchangeRaw(addr, raw)
		if err != nil {
			t.Fatalf("%v (got %q)", err, answer)
		}
		if err := checkAnswers(answer); err != nil {
			t.Fatalf("%v\nsent %q\ngot  %q", err, raw, answer)
		}
	})
}

// startFuzzApp serves the Quick Start routes with timeouts of a few
// milliseconds and small limits, so that every limit is within the
// fuzzer's reach and every connection ends soon.
func startFuzzApp(f *testing.F) string {
	cfg := DefaultConfig()
	cfg.Port = 0
	cfg.Quiet = true
	cfg.Logger = &testLogger{}
	cfg.ReadTimeout = 10 * time.Millisecond
	cfg.HeaderTimeout = 30 * time.Millisecond
	cfg.RequestTimeout = time.Second
	cfg.MaxBodySize = 4 << 10
	cfg.MaxURILength = 256
	cfg.MaxHeaderSize = 1 << 10
	cfg.MaxHeaderCount = 16
	a := NewApp(cfg)
	json := []Header{{Name: []byte("content-type"), Value: []byte("application/json")}}
	for _, r := range []RouteSpec{
		{Method: "GET", Path: "/users/{user_id:int}", Handler: func(r *Request) Response {
			return Response{Status: 200, Headers: json, Body: append([]byte(nil), r.Params...)}
		}},
		// Never the body itself: an answer must not start with "HTTP/"
		// (see checkAnswers, for HEAD).
		{Method: "POST", Path: "/users", Handler: func(r *Request) Response {
			return Response{Status: 201, Headers: json, Body: []byte(`{"n":` + strconv.Itoa(len(r.Body)) + `}`)}
		}},
	} {
		if _, err := a.AddRoute(r); err != nil {
			f.Fatal(err)
		}
	}
	if err := a.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = a.Close() })
	return "127.0.0.1:" + strconv.Itoa(a.Port())
}

// exchangeRaw writes raw on a fresh connection and reads until the server
// closes it; an error says the server did not close in time.
func exchangeRaw(addr string, raw []byte) ([]byte, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(fuzzWait))
	_, _ = conn.Write(raw) // the server may have answered and closed already
	answer, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return answer, fmt.Errorf("the server still holds the connection after %v", fuzzWait)
	}
	return answer, nil // a reset after the answers is a close
}

// checkAnswers reads b as the answers of one connection.
func checkAnswers(b []byte) error {
	for len(b) > 0 {
		end := bytes.Index(b, []byte("\r\n\r\n"))
		if end < 0 {
			return errors.New("an answer's head does not end")
		}
		lines := strings.Split(string(b[:end]), "\r\n")
		b = b[end+4:]
		status, err := statusLine(lines[0])
		if err != nil {
			return err
		}
		length, closing := -1, false
		for _, l := range lines[1:] {
			name, value, ok := strings.Cut(l, ": ")
			if !ok || !isToken([]byte(name)) {
				return fmt.Errorf("malformed field line %q", l)
			}
			switch strings.ToLower(name) {
			case "content-length":
				if length, err = strconv.Atoi(value); err != nil || length < 0 {
					return fmt.Errorf("bad Content-Length %q", value)
				}
			case "transfer-encoding":
				return fmt.Errorf("a chunked answer where none streams: %q", l)
			case "connection":
				closing = value == "close"
			}
		}
		switch {
		case status == 500:
			return errors.New("a 500")
		case status < 200 || status == 204 || status == 304:
			if status == 100 && closing {
				return errors.New("100 Continue with Connection: close")
			}
			continue
		case length < 0:
			return fmt.Errorf("status %d without Content-Length", status)
		case length > 0 && (len(b) == 0 || bytes.HasPrefix(b, []byte("HTTP/1."))):
			length = 0 // the answer to a HEAD: no answer body starts with "HTTP/"
		case len(b) < length:
			return fmt.Errorf("a body of %d bytes where Content-Length says %d", len(b), length)
		}
		body := b[:length]
		b = b[length:]
		if status >= 400 && length > 0 && !json.Valid(body) && !bytes.HasPrefix(body, []byte("Error when parsing request")) &&
			!bytes.Equal(body, []byte("Request timeout")) {
			return fmt.Errorf("status %d with a body neither JSON nor the transport's words: %q", status, body)
		}
		if closing && len(b) > 0 {
			return errors.New("bytes after an answer with Connection: close")
		}
	}
	return nil
}

func statusLine(l string) (int, error) {
	proto, rest, ok := strings.Cut(l, " ")
	code, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if !ok || proto != "HTTP/1.1" || len(code) != 3 || err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("malformed status line %q", l)
	}
	return n, nil
}
