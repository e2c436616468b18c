package core

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestWrittenOnce: every answer flagged ResponseWritten gets exactly one
// terminal event, WRITTEN with code 0, at the poller that took it; its
// client gets the answer, over keep-alive connections.
func TestWrittenOnce(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/w/{n}", Facts: []string{"meta"}})
	pl := a.Lane(0).NewPoller()
	defer pl.Close()
	var answered []uint64
	var events []Request
	hostDone := make(chan struct{})
	go func() {
		defer close(hostDone)
		for {
			_, err := pl.PollEach(8, -1, func(r *Request) {
				if r.Kind != EventRequest {
					events = append(events, *r)
					return
				}
				answered = append(answered, r.Exchange)
				resp := Response{Status: 200, Flags: ResponseWritten, Body: append([]byte(nil), r.Path...)}
				if err := a.Respond(r.Exchange, resp); err != nil {
					t.Errorf("respond: %v", err)
				}
			})
			if errors.Is(err, ErrClosed) {
				return
			}
		}
	}()
	const clients, each = 4, 10
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				p := "/w/" + strconv.Itoa(c*each+i)
				if r := get(t, base+p); r.status != 200 || r.body != p {
					t.Errorf("GET %s: %d %q", p, r.status, r.body)
				}
			}
		}()
	}
	wg.Wait()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-hostDone
	seen := map[uint64]int{}
	for _, ev := range events {
		if ev.Kind != EventWritten || ev.Code != 0 {
			t.Errorf("event %s code %d of %d", kindName(ev.Kind), ev.Code, ev.Exchange)
		}
		seen[ev.Exchange]++
	}
	for _, id := range answered {
		if seen[id] != 1 {
			t.Errorf("exchange %d: %d terminal events", id, seen[id])
		}
	}
	if len(answered) != clients*each || len(events) != len(answered) {
		t.Fatalf("%d answered, %d events", len(answered), len(events))
	}
}

// kernelBuffering bounds how much of an answer the kernel can hold for a
// client that reads nothing: the sender's autotuned send buffer at most,
// and a little for the receiver, whose buffer dialRaw makes small.
func kernelBuffering() int {
	wmem := 4 << 20
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 {
			if n, err := strconv.Atoi(f[2]); err == nil {
				wmem = n
			}
		}
	}
	return 2*wmem + 1<<20
}

// TestWrittenAfterSlowClient: WRITTEN comes only once the answer's last
// byte is in the kernel: a client that reads a large body slowly has read
// all of it but what the kernel can hold when WRITTEN is queued.
func TestWrittenAfterSlowClient(t *testing.T) {
	inKernel := kernelBuffering()
	size := max(32<<20, 3*inKernel)
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/big"})
	pl := a.Lane(0).NewPoller()
	defer pl.Close()
	c := dialRaw(t, base, 64<<10)
	c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	id := takeRequest(t, pl).Exchange
	body := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	if err := a.Respond(id, Response{Status: 200, Flags: ResponseWritten, Body: body}); err != nil {
		t.Fatal(err)
	}
	if _, h := c.head(); h["content-length"] != strconv.Itoa(len(body)) {
		t.Fatalf("head %v", h)
	}
	read := 0
	var got bytes.Buffer
	for {
		var ev Request
		n, _ := pl.PollEach(1, 0, func(r *Request) { ev = *r })
		if n == 0 && read == len(body) {
			ev, n = nextEvent(t, pl), 1
		}
		if n == 1 {
			wantEvent(t, ev, EventWritten, 0, id)
			if read < len(body)-inKernel {
				t.Fatalf("WRITTEN with %d of %d bytes read by the client (the kernel holds at most %d)", read, len(body), inKernel)
			}
			break
		}
		step := c.readN(min(1<<20, len(body)-read))
		got.WriteString(step)
		read += len(step)
	}
	got.WriteString(c.readN(len(body) - read))
	if !bytes.Equal(got.Bytes(), body) {
		t.Fatal("the body arrived damaged")
	}
}

// TestWrittenClientGone: an answer whose write fails gets DISCONNECT
// GoneClient instead, and nothing else.
func TestWrittenClientGone(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/big"})
	pl := a.Lane(0).NewPoller()
	defer pl.Close()
	c := dialRaw(t, base, 4096)
	c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	id := takeRequest(t, pl).Exchange
	body := make([]byte, max(32<<20, 3*kernelBuffering()))
	if err := a.Respond(id, Response{Status: 200, Flags: ResponseWritten, Body: body}); err != nil {
		t.Fatal(err)
	}
	c.head()
	c.conn.Close() // with bytes unread: a reset
	wantEvent(t, nextEvent(t, pl), EventDisconnect, GoneClient, id)
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if evs := drainUntilClosed(t, pl); len(evs) != 0 {
		t.Fatalf("more events: %+v", evs)
	}
}

// TestWrittenConnections: a WRITTEN answer keeps Hertz's connection rules:
// keep-alive for HTTP/1.1, HEAD without a body, close for HTTP/1.0.
func TestWrittenConnections(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/w"})
	pl := a.Lane(0).NewPoller()
	defer pl.Close()
	answer := func(body string) uint64 {
		id := takeRequest(t, pl).Exchange
		if err := a.Respond(id, Response{Status: 200, Flags: ResponseWritten, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	c := dialRaw(t, base, 0)
	c.send("HEAD /w HTTP/1.1\r\nHost: x\r\n\r\n")
	id := answer("no body for HEAD")
	if status, h := c.head(); status != "HTTP/1.1 200 OK" || h["content-length"] != "16" {
		t.Fatalf("HEAD: %q %v", status, h)
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
	c.send("GET /w HTTP/1.1\r\nHost: x\r\n\r\n")
	id = answer("again")
	if status, _ := c.head(); status != "HTTP/1.1 200 OK" || c.readN(5) != "again" {
		t.Fatalf("the keep-alive request: %q", status)
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)

	c = dialRaw(t, base, 0)
	c.send("GET /w HTTP/1.0\r\n\r\n")
	id = answer("old")
	c.head()
	if rest, err := c.rest(); rest != "old" || err != nil {
		t.Fatalf("HTTP/1.0: %q %v", rest, err)
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
}
