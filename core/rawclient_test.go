package core

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wireWait bounds every wait of these tests on the wire or a lane: far
// above anything a loaded machine needs, so a hit means a hang.
const wireWait = 10 * time.Second

// rawClient is an HTTP/1.x client on a bare connection: a test sees the
// exact bytes, and reads only when it chooses to.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// dialRaw connects to base ("http://host:port"). rcvbuf, if not 0, sets
// the socket's receive buffer before connecting, so that a client that
// does not read stops the server soon.
func dialRaw(t *testing.T, base string, rcvbuf int) *rawClient {
	t.Helper()
	d := net.Dialer{Timeout: wireWait}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	conn, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
}

func (c *rawClient) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, raw); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) deadline() { _ = c.conn.SetReadDeadline(time.Now().Add(wireWait)) }

// head reads a response's status line and header fields (names lower-cased).
func (c *rawClient) head() (string, map[string]string) {
	c.t.Helper()
	c.deadline()
	status, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading the status line: %v (got %q)", err, status)
	}
	h := map[string]string{}
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading the header: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return strings.TrimRight(status, "\r\n"), h
		}
		k, v, _ := strings.Cut(line, ":")
		h[strings.ToLower(k)] = strings.TrimSpace(v)
	}
}

// readN reads exactly n bytes.
func (c *rawClient) readN(n int) string {
	c.t.Helper()
	c.deadline()
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		c.t.Fatalf("reading %d bytes: %v (got %q)", n, err, b)
	}
	return string(b)
}

// chunk reads one chunk of a chunked body and returns its data ("" for
// the last chunk, whose trailer it reads too).
func (c *rawClient) chunk() string {
	c.t.Helper()
	c.deadline()
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading a chunk size: %v (got %q)", err, line)
	}
	n, err := strconv.ParseUint(strings.TrimRight(line, "\r\n"), 16, 32)
	if err != nil {
		c.t.Fatalf("chunk size line %q", line)
	}
	data := c.readN(int(n) + 2)
	if !strings.HasSuffix(data, "\r\n") {
		c.t.Fatalf("chunk %q does not end in CRLF", data)
	}
	return data[:n]
}

// rest reads until the server closes the connection and returns what came
// and how the read ended (nil for a clean EOF).
func (c *rawClient) rest() (string, error) {
	c.t.Helper()
	c.deadline()
	b, err := io.ReadAll(c.r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatalf("the server still holds the connection after %v (read %q)", wireWait, b)
	}
	return string(b), err
}

// takeRequest polls p until it hands out a REQUEST, and returns a copy of
// its fixed fields.
func takeRequest(t *testing.T, p *Poller) Request {
	t.Helper()
	deadline := time.Now().Add(wireWait)
	for time.Now().Before(deadline) {
		var got Request
		n, err := p.PollEach(1, time.Until(deadline), func(r *Request) {
			got = Request{Exchange: r.Exchange, Route: r.Route, Kind: r.Kind, Code: r.Code}
		})
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if n == 1 && got.Kind == EventRequest {
			return got
		}
		if n == 1 {
			t.Fatalf("waiting for a request, got event %+v", got)
		}
	}
	t.Fatal("no request")
	return Request{}
}

// nextEvent polls p for its next entry, waiting up to wireWait, and fails
// the test if it is not an event.
func nextEvent(t *testing.T, p *Poller) Request {
	t.Helper()
	var got Request
	n, err := p.PollEach(1, wireWait, func(r *Request) {
		got = Request{Exchange: r.Exchange, Route: r.Route, Kind: r.Kind, Code: r.Code}
	})
	if err != nil || n != 1 {
		t.Fatalf("no event: %d %v", n, err)
	}
	if got.Kind == EventRequest {
		t.Fatalf("a request where an event was due: %+v", got)
	}
	return got
}

// wantEvent checks an event's kind, code and exchange.
func wantEvent(t *testing.T, got Request, kind, code uint32, exchange uint64) {
	t.Helper()
	if got.Kind != kind || got.Code != code || got.Exchange != exchange {
		t.Fatalf("event %s code %d of %d, want %s code %d of %d",
			kindName(got.Kind), got.Code, got.Exchange, kindName(kind), code, exchange)
	}
}

func kindName(k uint32) string {
	switch k {
	case EventRequest:
		return "REQUEST"
	case EventDisconnect:
		return "DISCONNECT"
	case EventWritten:
		return "WRITTEN"
	case EventStreamCredit:
		return "STREAM_CREDIT"
	}
	return "kind " + strconv.Itoa(int(k))
}

// drainUntilClosed polls p until its lane closes and returns the events
// it handed out.
func drainUntilClosed(t *testing.T, p *Poller) []Request {
	t.Helper()
	var evs []Request
	deadline := time.Now().Add(wireWait)
	for time.Now().Before(deadline) {
		_, err := p.PollEach(16, time.Until(deadline), func(r *Request) {
			evs = append(evs, Request{Exchange: r.Exchange, Route: r.Route, Kind: r.Kind, Code: r.Code})
		})
		if errors.Is(err, ErrClosed) {
			return evs
		}
	}
	t.Fatal("the lane did not close")
	return nil
}

// openStream takes the next request from p and opens a stream on it.
func openStream(t *testing.T, a *App, p *Poller, resp Response) uint64 {
	t.Helper()
	id := takeRequest(t, p).Exchange
	resp.Flags |= ResponseStream
	if resp.Status == 0 {
		resp.Status = 200
	}
	if err := a.Respond(id, resp); err != nil {
		t.Fatalf("opening a stream: %v", err)
	}
	return id
}

// write queues one chunk and fails the test unless it is taken.
func write(t *testing.T, a *App, ch Chunk) {
	t.Helper()
	if err := a.StreamWrite([]Chunk{ch}, nil, 0); err != nil {
		t.Fatalf("StreamWrite(%q): %v", ch.Data, err)
	}
}

// waitFor polls cond every millisecond until it holds, failing the test
// after wireWait: for state no event announces.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wireWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// queuedOf is how many bytes exchange id's stream holds, unsent.
func queuedOf(a *App, id uint64) int {
	ex, _ := a.ex.lookup(id)
	if ex == nil {
		return -1
	}
	ex.st.mu.Lock()
	defer ex.st.mu.Unlock()
	return ex.st.queued
}
