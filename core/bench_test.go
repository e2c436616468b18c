package core

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// BenchmarkServeHTTP measures our handler alone (routing, parameter
// extraction, the Go Handler and response writing) on a reused Hertz
// context, without the network.
func BenchmarkServeHTTP(b *testing.B) {
	benchServeHTTP(b, NewApp(DefaultConfig()))
}

// benchServeHTTP runs a's serveHTTP on one GET route with a path and a
// query parameter, on a reused Hertz context, b.N times.
func benchServeHTTP(b *testing.B, a *App) {
	schema := json.RawMessage(`{"type":"object","properties":{"user_id":{"type":"integer","source":"path"},"q":{"type":"string","source":"query"}}}`)
	body := []byte(`{"ok":true}`)
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/users/{user_id:int}", ParameterSchema: schema,
		Handler: func(*Request) Response { return Response{Status: 200, Body: body} }}); err != nil {
		b.Fatal(err)
	}
	c := app.NewContext(0)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Request.Header.SetMethod("GET")
		c.Request.SetRequestURI("/users/42?q=hello")
		a.serveHTTP(ctx, c)
		if c.Response.StatusCode() != 200 {
			b.Fatalf("status %d: %s", c.Response.StatusCode(), c.Response.Body())
		}
		c.Reset()
	}
}

func BenchmarkLaneRoundTrip(b *testing.B) {
	benchLaneRoundTrip(b, NewApp(DefaultConfig()))
}

// benchLaneRoundTrip is BenchmarkLaneRoundTrip on a (BenchmarkLaneRoundTripHooks
// gives it hooks); a host visit is continued at once.
func benchLaneRoundTrip(b *testing.B, a *App) {
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/users/{user_id:int}"}); err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"ok":true}`)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		l := a.Lane(0)
		var batch [16]*Request
		for {
			select {
			case <-stop:
				return
			default:
			}
			n, _ := l.Poll(batch[:], 10*time.Millisecond)
			for _, r := range batch[:n] {
				if r.Kind == EventHook {
					a.Respond(r.Exchange, Response{Flags: ResponseContinue})
					continue
				}
				a.Respond(r.Exchange, Response{Status: 200, Body: body})
			}
		}
	}()
	c := app.NewContext(0)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Request.Header.SetMethod("GET")
		c.Request.SetRequestURI("/users/42")
		a.serveHTTP(ctx, c)
		if c.Response.StatusCode() != 200 {
			b.Fatalf("status %d", c.Response.StatusCode())
		}
		c.Reset()
	}
}

// BenchmarkPollerFDRoundTrip is BenchmarkLaneRoundTrip for a host that waits
// on its poller's fd, as the C ABI's loop-driven hosts do: poll(2) on the fd,
// then polls that do not wait, until one comes back short.
func BenchmarkPollerFDRoundTrip(b *testing.B) {
	a := NewApp(DefaultConfig())
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/users/{user_id:int}"}); err != nil {
		b.Fatal(err)
	}
	pl := a.Lane(0).NewPoller()
	fd, err := pl.ReadyFD()
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"ok":true}`)
	done := make(chan struct{})
	go func() {
		defer close(done)
		serveFromFD(a, pl, fd, make([]*Request, 16), body)
	}()
	c := app.NewContext(0)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Request.Header.SetMethod("GET")
		c.Request.SetRequestURI("/users/42")
		a.serveHTTP(ctx, c)
		if c.Response.StatusCode() != 200 {
			b.Fatalf("status %d", c.Response.StatusCode())
		}
		c.Reset()
	}
	b.StopTimer()
	a.Shutdown(ctx)
	<-done
	a.Close()
}

// BenchmarkPollerPool serves two concurrent clients from a pool of eight
// host goroutines, each waiting on its own poller's fd and taking one
// request per poll, as the Python binding's thread pool does.
// switches/op counts the process's voluntary context switches, which is
// where waking pollers for nothing shows: poll(2) puts a thread woken for a
// byte already read back to sleep, unseen by the host.
func BenchmarkPollerPool(b *testing.B) {
	a := NewApp(DefaultConfig())
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/users/{user_id:int}"}); err != nil {
		b.Fatal(err)
	}
	l := a.Lane(0)
	body := []byte(`{"ok":true}`)
	const pool = 8
	var hosts sync.WaitGroup
	for range pool {
		pl := l.NewPoller()
		fd, err := pl.ReadyFD()
		if err != nil {
			b.Fatal(err)
		}
		hosts.Add(1)
		go func() {
			defer hosts.Done()
			serveFromFD(a, pl, fd, make([]*Request, 1), body)
		}()
	}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ReportAllocs()
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		c := app.NewContext(0)
		ctx := context.Background()
		for pb.Next() {
			c.Request.Header.SetMethod("GET")
			c.Request.SetRequestURI("/users/42")
			a.serveHTTP(ctx, c)
			if c.Response.StatusCode() != 200 {
				b.Errorf("status %d", c.Response.StatusCode())
				return
			}
			c.Reset()
		}
	})
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	b.ReportMetric(float64(after.Nvcsw-before.Nvcsw)/float64(b.N), "switches/op")
	a.Shutdown(context.Background())
	hosts.Wait()
	a.Close()
}

// serveFromFD is a host thread as spikard.h describes it: poll with no
// wait, answer what came, and wait on the poller's fd only after a short
// batch; it returns once the lane closes.
func serveFromFD(a *App, pl *Poller, fd int, batch []*Request, body []byte) {
	fds := []pollFd{{fd: int32(fd), events: pollIn}}
	for {
		n, err := pl.Poll(batch, 0)
		if err != nil {
			return // the lane closed
		}
		for _, r := range batch[:n] {
			a.Respond(r.Exchange, Response{Status: 200, Body: body})
		}
		if n < len(batch) {
			pollFds(fds, -1)
		}
	}
}

// BenchmarkKeepAliveRoundTrip measures one request and its answer over a
// loopback keep-alive connection, through the front, Hertz and a Go
// Handler: the whole per-request path of a connection, shutdown's
// bookkeeping (conns.go) included.
func BenchmarkKeepAliveRoundTrip(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Port, cfg.Quiet = 0, true
	a := NewApp(cfg)
	body := []byte(`{"ok":true}`)
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/users/{user_id:int}",
		Handler: func(*Request) Response { return Response{Status: 200, Body: body} }}); err != nil {
		b.Fatal(err)
	}
	if err := a.Start(); err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(a.Port()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	req := []byte("GET /users/42 HTTP/1.1\r\nHost: bench\r\n\r\n")
	buf := make([]byte, 4096)
	// The answer's length, from a first exchange.
	if _, err := conn.Write(req); err != nil {
		b.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil || !bytes.HasSuffix(buf[:n], body) {
		b.Fatalf("first answer %q %v", buf[:n], err)
	}
	size := n
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf[:size]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeHTTPMiddleware is BenchmarkServeHTTP with request ids and
// CORS off, ids on, and ids with a CORS policy an Origin header meets.
func BenchmarkServeHTTPMiddleware(b *testing.B) {
	for _, c := range []struct {
		name   string
		ids    bool
		cors   bool
		origin string
	}{{"bare", false, false, ""}, {"request-id", true, false, ""}, {"request-id+cors", true, true, "https://app.example"}} {
		b.Run(c.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.RequestID.Enabled = c.ids
			if c.cors {
				cfg.CORS = &CORSConfig{AllowOrigins: []string{"https://app.example"}, AllowMethods: defaultCORSMethods, MaxAge: 600}
			}
			a := NewApp(cfg)
			body := []byte(`{"id":"abc123"}`)
			if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/path/simple/{id}",
				Handler: func(*Request) Response { return Response{Status: 200, Body: body} }}); err != nil {
				b.Fatal(err)
			}
			rc := app.NewContext(0)
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rc.Request.Header.SetMethod("GET")
				rc.Request.SetRequestURI("/path/simple/abc123")
				if c.origin != "" {
					rc.Request.Header.Set("Origin", c.origin)
				}
				a.serveHTTP(ctx, rc)
				if rc.Response.StatusCode() != 200 {
					b.Fatalf("status %d: %s", rc.Response.StatusCode(), rc.Response.Body())
				}
				rc.Reset()
			}
		})
	}
}
