package core

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestLaneRoundTrip(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer","source":"path"}}}`)
	a, base := startApp(t, nil,
		RouteSpec{Method: "GET", Path: "/a/{id}", Lane: 0, ParameterSchema: schema, Facts: []string{"meta"}},
		RouteSpec{Method: "POST", Path: "/b", Lane: 1},
	)
	go host(a, 0, func(r *Request) Response {
		var ua string
		for _, h := range r.Headers {
			if string(h.Name) == "user-agent" {
				ua = string(h.Value)
			}
		}
		body := string(r.Method) + " " + string(r.Path) + " " + string(r.Query) + " " + string(r.Params) + " " + ua
		return Response{Status: 201, Headers: []Header{{Name: []byte("X-Lane"), Value: []byte("0")}}, Body: []byte(body)}
	})
	go host(a, 1, func(r *Request) Response {
		if r.Kind != EventRequest || r.Exchange == 0 || r.Method != nil {
			return Response{Status: 500}
		}
		return Response{Status: 200, Body: append([]byte("lane1:"), r.Body...)}
	})
	r := get(t, base+"/a/7?x=1")
	if r.status != 201 || r.body != `GET /a/7 x=1 {"id":7} Go-http-client/1.1` || r.header.Get("X-Lane") != "0" {
		t.Fatalf("lane 0: %d %q %v", r.status, r.body, r.header)
	}
	r = do(t, "POST", base+"/b", "text/plain", "hey")
	if r.status != 200 || r.body != "lane1:hey" {
		t.Fatalf("lane 1: %d %q", r.status, r.body)
	}

	// Many concurrent requests across several pollers.
	var wg sync.WaitGroup
	go host(a, 0, func(r *Request) Response { return Response{Status: 200, Body: r.Params} })
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := get(t, base+"/a/"+strconv.Itoa(i))
			if r.status != 201 && r.status != 200 {
				t.Errorf("concurrent %d: %d", i, r.status)
			}
		}(i)
	}
	wg.Wait()
}

func TestLaneBatchAndReadyFD(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/x/{n}", Lane: 3})
	l := a.Lane(3)
	pl := l.NewPoller()
	fd, err := pl.ReadyFD()
	if err != nil {
		t.Fatal(err)
	}
	if readable(t, fd) {
		t.Fatal("fd readable with an empty lane")
	}
	const N = 5
	results := make(chan result, N)
	for i := 0; i < N; i++ {
		go func(i int) { results <- get(t, base+"/x/"+strconv.Itoa(i)) }(i)
	}
	// Take them in batches as a loop-driven host would: wait for the fd,
	// then poll without waiting until a poll comes back short.
	got := 0
	var batch [2]*Request
	full := false
	for got < N {
		if !full {
			waitReadable(t, fd)
		}
		n, err := pl.Poll(batch[:], 0)
		if err != nil {
			t.Fatal(err)
		}
		if n > 2 {
			t.Fatalf("batch of %d for cap 2", n)
		}
		full = n == len(batch)
		for _, r := range batch[:n] {
			if err := a.Respond(r.Exchange, Response{Status: 200, Body: r.Params}); err != nil {
				t.Fatal(err)
			}
			got++
		}
	}
	for i := 0; i < N; i++ {
		if r := <-results; r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
	}
	if readable(t, fd) {
		t.Fatal("fd readable after draining the lane")
	}
	if n, err := pl.Poll(batch[:], 10*time.Millisecond); n != 0 || err != nil {
		t.Fatalf("empty poll: %d %v", n, err)
	}
	// Respond twice: the second is unknown.
	go get(t, base+"/x/1")
	n, _ := pl.Poll(batch[:1], -1)
	id := batch[0].Exchange
	if n != 1 || a.Respond(id, Response{Status: 204}) != nil {
		t.Fatal("respond")
	}
	if err := a.Respond(id, Response{Status: 204}); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("second respond: %v", err)
	}
	if err := a.Respond(12345<<32|1, Response{Status: 204}); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("bogus respond: %v", err)
	}
}

func readable(t *testing.T, fd int) bool {
	t.Helper()
	fds := []pollFd{{fd: int32(fd), events: pollIn}}
	return pollFds(fds, 0) > 0
}

func waitReadable(t *testing.T, fd int) {
	t.Helper()
	fds := []pollFd{{fd: int32(fd), events: pollIn}}
	if pollFds(fds, 5000) <= 0 {
		t.Fatal("fd did not become readable")
	}
}

func TestRequestTimeout(t *testing.T) {
	a, base := startApp(t, func(c *Config) { c.RequestTimeout = 100 * time.Millisecond },
		RouteSpec{Method: "GET", Path: "/slow"})
	r := get(t, base+"/slow") // nobody polls
	if r.status != 408 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("timeout: %d %s", r.status, r.body)
	}
	if want := `{"type":"https://spikard.dev/errors/request-timeout","title":"Request Timeout","status":408,"detail":"Request not answered within request_timeout (0.1 s)"}`; string(r.body) != want {
		t.Fatalf("timeout body:\n got %s\nwant %s", r.body, want)
	}
	// The timed-out exchange was removed from the queue.
	var batch [1]*Request
	if n, _ := a.Lane(0).Poll(batch[:], 0); n != 0 {
		t.Fatalf("timed-out request still queued")
	}
}

func TestShutdownDrains(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/w"})
	l := a.Lane(0)
	fd, err := l.NewPoller().ReadyFD()
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan result, 1)
	go func() { res <- get(t, base+"/w") }()
	var batch [1]*Request
	if n, err := l.Poll(batch[:], -1); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	id := batch[0].Exchange
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- a.Shutdown(ctx)
	}()
	// Shutdown waits for the in-flight request; answer it.
	select {
	case <-a.Done():
		t.Fatal("stopped before the in-flight request was answered")
	default:
	}
	// New polls keep working until the lane closes; the answer goes through.
	if err := a.Respond(id, Response{Status: 200, Body: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.status != 200 || r.body != "late" {
		t.Fatalf("drained request: %d %s", r.status, r.body)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	<-a.Done()
	if _, err := l.Poll(batch[:], -1); !errors.Is(err, ErrClosed) {
		t.Fatalf("poll after shutdown: %v", err)
	}
	if !readable(t, fd) {
		t.Fatal("fd not readable after close")
	}
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/z"}); err == nil {
		t.Fatal("AddRoute after shutdown")
	}
}

func TestShutdownDeadline503(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/w"})
	res := make(chan result, 1)
	go func() { res <- get(t, base+"/w") }()
	var batch [1]*Request
	if n, _ := a.Lane(0).Poll(batch[:], -1); n != 1 {
		t.Fatal("no request")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.status != 503 {
		t.Fatalf("unanswered at deadline: %d %s", r.status, r.body)
	}
	if err := a.Respond(batch[0].Exchange, Response{Status: 200}); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("respond after deadline: %v", err)
	}
}

func TestShutdownBeforeStart(t *testing.T) {
	a := NewApp(DefaultConfig())
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err == nil {
		t.Fatal("Start after Shutdown")
	}
	if _, err := a.Lane(0).Poll(make([]*Request, 1), -1); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestClientDisconnect(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/w", Events: []string{"disconnect"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := newRequestCtx(ctx, base+"/w")
		resp, err := httpDo(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	var id uint64
	if n, _ := a.Lane(0).PollEach(1, -1, func(r *Request) { id = r.Exchange }); n != 1 {
		t.Fatal("no request")
	}
	cancel()
	<-done
	// The server notices the closed connection and drops the exchange:
	// wait for the handler to return (a condition, bounded), then the
	// answer must be refused.
	deadline := time.Now().Add(5 * time.Second)
	for a.inflight.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("exchange of a departed client still waiting")
		}
		time.Sleep(time.Millisecond)
	}
	if err := a.Respond(id, Response{Status: 200}); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("respond to a departed client: %v", err)
	}
	// The host that had taken it hears about the disconnect: the route
	// asked for it (delivery_test.go has routes that did not).
	var ev Request
	if n, err := a.Lane(0).PollEach(1, 0, func(r *Request) { ev = *r }); n != 1 || err != nil {
		t.Fatalf("no disconnect event: %d %v", n, err)
	}
	if ev.Kind != EventDisconnect || ev.Exchange != id || ev.Code != GoneClient {
		t.Fatalf("event %+v, want disconnect of %d with code GoneClient", ev, id)
	}
}

func TestHandlerErrors(t *testing.T) {
	a, base := startApp(t, nil,
		RouteSpec{Method: "GET", Path: "/panic", Handler: func(*Request) Response { panic("boom") }},
		RouteSpec{Method: "GET", Path: "/badstatus"},
		RouteSpec{Method: "GET", Path: "/badheader"},
		RouteSpec{Method: "GET", Path: "/failed"},
	)
	go host(a, 0, func(r *Request) Response {
		switch r.Route {
		case 1:
			return Response{Status: 42}
		case 2:
			return Response{Status: 200, Headers: []Header{{Name: []byte("x"), Value: []byte("a\r\nb")}}}
		}
		if err := a.RespondError(r.Exchange); err != nil {
			t.Errorf("RespondError: %v", err)
		}
		return Response{Status: 200} // refused: already answered
	})
	want := `{"type":"https://spikard.dev/errors/internal-server-error","title":"Internal Server Error","status":500,"detail":"Internal server error"}`
	for _, p := range []string{"/panic", "/badstatus", "/badheader", "/failed"} {
		r := get(t, base+p)
		if r.status != 500 || r.body != want || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
}

// TestLaneBatchBytes: a batch ends once its bodies reach batchBytes, so large
// bodies reach a host a few at a time; small ones still come in one batch.
func TestLaneBatchBytes(t *testing.T) {
	l := newLane(nil)
	queue := func(n, size int) {
		for i := 0; i < n; i++ {
			ex := &exchange{}
			ex.req.Body = make([]byte, size)
			if err := l.push(ex, uint64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var batch [64]*Request
	queue(10, batchBytes/3+1)
	for _, want := range []int{3, 3, 3, 1} {
		if n, _ := l.Poll(batch[:], 0); n != want {
			t.Fatalf("batch of %d large bodies, want %d", n, want)
		}
	}
	queue(1, 4*batchBytes) // one over the budget still goes alone
	if n, _ := l.Poll(batch[:], 0); n != 1 {
		t.Fatalf("oversized body: batch of %d", n)
	}
	queue(50, 100)
	if n, _ := l.Poll(batch[:], 0); n != 50 {
		t.Fatalf("small bodies: batch of %d, want 50", n)
	}
}
