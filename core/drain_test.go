package core

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Shutdown's drain over raw TCP: a request is in flight from its first
// byte, idle keep-alive connections close at once, a request still
// arriving at the deadline is cut, and a stop right after Start stops.

// echoLength answers a POST with the length of its body.
func echoLength() RouteSpec {
	return RouteSpec{Method: "POST", Path: "/up", Handler: func(r *Request) Response {
		return Response{Status: 201, Body: []byte(strconv.Itoa(len(r.Body)))}
	}}
}

// connsIn counts a's connections in state st.
func connsIn(a *App, st int32) int {
	a.conns.mu.Lock()
	defer a.conns.mu.Unlock()
	n := 0
	for _, cs := range a.conns.m {
		if cs.state.Load() == st {
			n++
		}
	}
	return n
}

// refused reports whether nothing listens on a's port any more.
func refused(a *App) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(a.Port()), wireWait)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

func shutdownAsync(a *App, d time.Duration) (<-chan error, time.Time) {
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		done <- a.Shutdown(ctx)
	}()
	return done, start
}

const halfBody = `{"name":"Probe","email":"probe@example.com"}`

func uploadHead(n int) string {
	return "POST /up HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
		strconv.Itoa(n) + "\r\n\r\n"
}

// TestDrainAnswersHalfSentBody: an upload whose head and half its body
// came before Shutdown gets its answer once the rest comes, and Shutdown
// waits for it (the soak's half-sent uploads: all were cut before).
func TestDrainAnswersHalfSentBody(t *testing.T) {
	a, base := startApp(t, nil, echoLength())
	clients := make([]*rawClient, 4)
	for i := range clients {
		clients[i] = dialRaw(t, base, 0)
		clients[i].send(uploadHead(len(halfBody)) + halfBody[:len(halfBody)/2])
	}
	waitFor(t, "4 busy connections", func() bool { return connsIn(a, connBusy) == 4 })
	stopped, _ := shutdownAsync(a, 10*time.Second)
	waitFor(t, "the listener to close", func() bool { return refused(a) })
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) with 4 uploads in flight", err)
	default:
	}
	for _, c := range clients {
		c.send(halfBody[len(halfBody)/2:])
		status, h := c.head()
		if status != "HTTP/1.1 201 Created" || h["connection"] != "close" {
			t.Fatalf("upload answered %q %v", status, h)
		}
		if body := c.readN(2); body != strconv.Itoa(len(halfBody)) {
			t.Fatalf("body %q", body)
		}
		if rest, err := c.rest(); rest != "" || err != nil {
			t.Fatalf("after the answer: %q %v", rest, err)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// TestDrainClosesIdleAtOnce: a keep-alive connection between requests is
// closed at once, without a 503, and does not hold Shutdown.
func TestDrainClosesIdleAtOnce(t *testing.T) {
	a, base := startApp(t, nil, echoLength())
	c := dialRaw(t, base, 0)
	c.send(uploadHead(2) + "ab")
	if status, h := c.head(); status != "HTTP/1.1 201 Created" || h["connection"] == "close" {
		t.Fatalf("%q %v", status, h)
	}
	c.readN(1)
	waitFor(t, "the connection to go idle", func() bool { return connsIn(a, connIdle) == 1 })
	stopped, start := shutdownAsync(a, 10*time.Second)
	if rest, err := c.rest(); rest != "" || err != nil {
		t.Fatalf("idle connection got %q %v, want a clean close", rest, err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Shutdown took %v with only an idle connection (deadline 10 s)", took)
	}
}

// TestDrainCutsBusyAtDeadline: a body that never completes is cut when the
// deadline passes, not before, and gets no answer.
func TestDrainCutsBusyAtDeadline(t *testing.T) {
	a, base := startApp(t, nil, echoLength())
	c := dialRaw(t, base, 0)
	c.send(uploadHead(len(halfBody)) + halfBody[:4])
	waitFor(t, "a busy connection", func() bool { return connsIn(a, connBusy) == 1 })
	const deadline = 300 * time.Millisecond
	stopped, start := shutdownAsync(a, deadline)
	rest, _ := c.rest() // a close or a reset, after the deadline
	took := time.Since(start)
	if rest != "" {
		t.Fatalf("a cut upload was answered %q", rest)
	}
	if took < deadline {
		t.Fatalf("cut after %v, before the %v deadline", took, deadline)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > deadline+3*time.Second {
		t.Fatalf("Shutdown took %v past a %v deadline", took, deadline)
	}
}

// TestShutdownRightAfterStart: a stop issued as Start returns stops the
// server (no error, nothing listening after), every time; it used to find
// netpoll's server not started yet and leave it serving.
func TestShutdownRightAfterStart(t *testing.T) {
	for i := 0; i < 200; i++ {
		cfg := DefaultConfig()
		cfg.Port, cfg.Quiet, cfg.Logger = 0, true, &testLogger{}
		a := NewApp(cfg)
		if _, err := a.AddRoute(echoLength()); err != nil {
			t.Fatal(err)
		}
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := a.Shutdown(ctx)
		cancel()
		if err != nil {
			t.Fatalf("round %d: Shutdown: %v", i, err)
		}
		if !refused(a) {
			t.Fatalf("round %d: port %d still accepts after Shutdown", i, a.Port())
		}
		a.Close()
	}
}

// TestDrainListenerServesItsQueue: connections the kernel queued before
// drain, and nobody accepted yet, are accepted before the socket closes,
// rather than reset with it; a connection after is refused.
func TestDrainListenerServesItsQueue(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	l, err := newDrainListener(ln)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const queued = 8
	clients := make([]net.Conn, queued)
	for i := range clients {
		if clients[i], err = net.DialTimeout("tcp", addr, wireWait); err != nil {
			t.Fatal(err)
		}
		defer clients[i].Close()
	}
	handed := make(chan int, 1)
	go func() { handed <- l.drain() }()
	waitFor(t, "the drain to begin", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.draining
	})
	// netpoll's part, from now on: accept while the socket is readable, as
	// its poller would, until the drain has shut it.
	served := make(chan int, 1)
	drained := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-drained:
				served <- n
				return
			default:
			}
			fds := []unix.PollFd{{Fd: int32(l.Fd()), Events: unix.POLLIN}}
			_, _ = unix.Poll(fds, 5)
			c, _ := l.Accept()
			if c == nil {
				continue
			}
			n++
			fd := c.(*acceptedConn).fd
			_, _ = unix.Write(fd, []byte("ok"))
			_ = unix.Close(fd)
		}
	}()
	h := <-handed
	close(drained)
	if n := <-served; n != queued || h != queued {
		t.Fatalf("accepted %d (handed %d) of %d queued", n, h, queued)
	}
	for i, c := range clients {
		_ = c.SetReadDeadline(time.Now().Add(wireWait))
		b, err := io.ReadAll(c)
		if string(b) != "ok" || err != nil {
			t.Fatalf("queued connection %d: %q %v", i, b, err)
		}
	}
	if c, err := net.DialTimeout("tcp", addr, wireWait); err == nil {
		c.Close()
		t.Fatal("the drained socket still accepts")
	} else if !strings.Contains(err.Error(), "refused") {
		t.Fatal(err)
	}
}
