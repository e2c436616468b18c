package core

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testLogger collects log lines.
type testLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *testLogger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(sprintf(format, args...)))
}

func (l *testLogger) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// startApp starts an app on 127.0.0.1:0 with routes and stops it when the
// test ends.
func startApp(t *testing.T, mod func(*Config), routes ...RouteSpec) (*App, string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Port = 0
	cfg.Quiet = true
	cfg.Logger = &testLogger{}
	if mod != nil {
		mod(&cfg)
	}
	a := NewApp(cfg)
	for _, r := range routes {
		if _, err := a.AddRoute(r); err != nil {
			t.Fatalf("AddRoute(%s %s): %v", r.Method, r.Path, err)
		}
	}
	if err := a.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		a.Close()
	})
	return a, "http://127.0.0.1:" + strconv.Itoa(a.Port())
}

// host polls lane n of a until it closes, answering with fn.
func host(a *App, n uint32, fn func(*Request) Response) {
	hostEach(a, n, func(r *Request) {
		id := r.Exchange // r is invalid once the exchange is answered
		_ = a.Respond(id, fn(r))
	})
}

// hostEach polls lane n of a until it closes and hands each request to
// answer, which answers it however it likes.
func hostEach(a *App, n uint32, answer func(*Request)) {
	l := a.Lane(n)
	var batch [8]*Request
	for {
		k, err := l.Poll(batch[:], -1)
		if errors.Is(err, ErrClosed) {
			return
		}
		for _, r := range batch[:k] {
			answer(r)
		}
	}
}

type result struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url, ctype, body string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return result{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, url string) result { t.Helper(); return do(t, "GET", url, "", "") }

// jsonEq compares two JSON documents structurally.
func jsonEq(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("JSON mismatch\n got: %s\nwant: %s", got, want)
	}
}

// echoParams answers with the request's params.
func echoParams(r *Request) Response {
	return Response{Status: 200, Headers: []Header{{Name: []byte("content-type"), Value: []byte("application/json")}}, Body: r.Params}
}

// onlyReader hides everything but Read, so net/http cannot learn the
// length and sends the body chunked.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func doReader(t *testing.T, method, url string, body io.Reader) result {
	t.Helper()
	req, err := http.NewRequest(method, url, onlyReader{body})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, string(b)}
}
