package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

var streamRoute = RouteSpec{Method: "GET", Path: "/s"}

// startStreams starts an app with streamRoute and a poller of lane 0.
func startStreams(t *testing.T, mod func(*Config), routes ...RouteSpec) (*App, string, *Poller) {
	t.Helper()
	a, base := startApp(t, mod, append([]RouteSpec{streamRoute}, routes...)...)
	pl := a.Lane(0).NewPoller()
	t.Cleanup(pl.Close)
	return a, base, pl
}

// TestStreamChunked: status and headers go out at once with the body as
// the first chunk; every chunk is framed exactly; an empty chunk sends
// nothing; END writes the terminator, then WRITTEN comes, and the
// connection serves its next request.
func TestStreamChunked(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{Headers: []Header{{Name: []byte("X-A"), Value: []byte("b")}}, Body: []byte("hello")})
	status, h := c.head()
	if status != "HTTP/1.1 200 OK" || h["transfer-encoding"] != "chunked" || h["content-length"] != "" || h["x-a"] != "b" {
		t.Fatalf("head %q %v", status, h)
	}
	if got := c.readN(len("5\r\nhello\r\n")); got != "5\r\nhello\r\n" {
		t.Fatalf("first chunk %q", got)
	}
	results := make([]error, 4)
	err := a.StreamWrite([]Chunk{
		{Exchange: id, Data: []byte("a")},
		{Exchange: id},
		{Exchange: id, Data: []byte(strings.Repeat("z", 300))},
		{Exchange: id, Flags: ChunkEnd, Data: []byte("!")},
	}, results, 0)
	if err != nil {
		t.Fatalf("StreamWrite: %v %v", err, results)
	}
	want := "1\r\na\r\n12c\r\n" + strings.Repeat("z", 300) + "\r\n1\r\n!\r\n0\r\n\r\n"
	if got := c.readN(len(want)); got != want {
		t.Fatalf("wire %q\nwant %q", got, want)
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
	if err := a.StreamWrite([]Chunk{{Exchange: id, Data: []byte("late")}}, nil, 0); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("write after the end: %v", err)
	}
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	if err := a.Respond(takeRequest(t, pl).Exchange, Response{Status: 204}); err != nil {
		t.Fatal(err)
	}
	if status, _ := c.head(); status != "HTTP/1.1 204 No Content" {
		t.Fatalf("next request on the connection: %q", status)
	}
}

// TestStreamContentLength: with a host content-length exactly that many
// bytes go out; a chunk past it is refused and changes nothing; an END
// short of it aborts the connection (DISCONNECT, GoneAborted).
func TestStreamContentLength(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	cl := []Header{{Name: []byte("content-length"), Value: []byte("10")}}

	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{Headers: cl, Body: []byte("hello")})
	status, h := c.head()
	if status != "HTTP/1.1 200 OK" || h["content-length"] != "10" || h["transfer-encoding"] != "" {
		t.Fatalf("head %q %v", status, h)
	}
	write(t, a, Chunk{Exchange: id, Data: []byte("wor")})
	if err := a.StreamWrite([]Chunk{{Exchange: id, Data: []byte("ldX")}}, nil, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a chunk past content-length: %v", err)
	}
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd, Data: []byte("ld")})
	if got := c.readN(10); got != "helloworld" {
		t.Fatalf("body %q", got)
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n") // the connection is whole
	if err := a.Respond(takeRequest(t, pl).Exchange, Response{Status: 200, Body: []byte("ok")}); err != nil {
		t.Fatal(err)
	}
	if status, _ := c.head(); status != "HTTP/1.1 200 OK" || c.readN(2) != "ok" {
		t.Fatalf("next request: %q", status)
	}

	// Short: the END is taken, and the stream is aborted before the call
	// returns (its event is queued by then).
	c = dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id = openStream(t, a, pl, Response{Headers: cl, Body: []byte("hello")})
	c.head()
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd, Data: []byte("!")})
	var ev Request
	if n, _ := pl.PollEach(1, 0, func(r *Request) { ev = *r }); n != 1 {
		t.Fatal("the short stream's DISCONNECT was not queued when StreamWrite returned")
	}
	wantEvent(t, ev, EventDisconnect, GoneAborted, id)
	if body, _ := c.rest(); len(body) >= 10 {
		t.Fatalf("a short stream delivered %q", body)
	}
}

// TestStreamHTTP10: an HTTP/1.0 client gets a close-delimited body.
func TestStreamHTTP10(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.0\r\n\r\n")
	id := openStream(t, a, pl, Response{Body: []byte("one,")})
	status, h := c.head()
	if !strings.HasPrefix(status, "HTTP/1.") || h["content-length"] != "" || h["transfer-encoding"] != "" ||
		!strings.EqualFold(h["connection"], "close") {
		t.Fatalf("head %q %v", status, h)
	}
	write(t, a, Chunk{Exchange: id, Data: []byte("two,")})
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd, Data: []byte("three")})
	if body, err := c.rest(); body != "one,two,three" || err != nil {
		t.Fatalf("body %q %v", body, err)
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
}

// TestStreamHead: HEAD gets the headers only; chunks are taken and dropped,
// and the connection serves its next request.
func TestStreamHead(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	c := dialRaw(t, base, 0)
	c.send("HEAD /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{Body: []byte("dropped")})
	status, h := c.head()
	if status != "HTTP/1.1 200 OK" || h["transfer-encoding"] != "chunked" {
		t.Fatalf("head %q %v", status, h)
	}
	write(t, a, Chunk{Exchange: id, Data: []byte(strings.Repeat("x", 10000))})
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd, Data: []byte("end")})
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	if err := a.Respond(takeRequest(t, pl).Exchange, Response{Status: 202}); err != nil {
		t.Fatal(err)
	}
	if status, _ := c.head(); status != "HTTP/1.1 202 Accepted" {
		t.Fatalf("after a HEAD stream the connection read %q", status)
	}
}

// TestStreamRefusals: a stream answer core refuses is never half applied:
// its client gets the standard 500, and no event follows.
func TestStreamRefusals(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	cases := []struct {
		name string
		resp Response
		want error
	}{
		{"sse without stream", Response{Status: 200, Flags: ResponseSSE}, ErrUnsupported},
		{"unknown flag", Response{Status: 200, Flags: ResponseStream | 1<<23}, ErrUnsupported},
		{"no-body status", Response{Status: 204, Flags: ResponseStream}, ErrInvalid},
		{"transfer-encoding", Response{Status: 200, Flags: ResponseStream,
			Headers: []Header{{Name: []byte("Transfer-Encoding"), Value: []byte("gzip")}}}, ErrInvalid},
		{"bad content-length", Response{Status: 200, Flags: ResponseStream,
			Headers: []Header{{Name: []byte("Content-Length"), Value: []byte("-1")}}}, ErrInvalid},
		{"body past content-length", Response{Status: 200, Flags: ResponseStream, Body: []byte("123"),
			Headers: []Header{{Name: []byte("Content-Length"), Value: []byte("2")}}}, ErrInvalid},
		{"sse content-type", Response{Status: 200, Flags: ResponseStream | ResponseSSE,
			Headers: []Header{{Name: []byte("Content-Type"), Value: []byte("text/plain")}}}, ErrInvalid},
		{"sse cache-control", Response{Status: 200, Flags: ResponseStream | ResponseSSE,
			Headers: []Header{{Name: []byte("cache-control"), Value: []byte("max-age=5")}}}, ErrInvalid},
		{"sse body", Response{Status: 200, Flags: ResponseStream | ResponseSSE, Body: []byte("data")}, ErrInvalid},
		{"bad status", Response{Status: 42, Flags: ResponseWritten}, ErrInvalid},
	}
	problem500 := `{"type":"https://spikard.dev/errors/internal-server-error","title":"Internal Server Error","status":500,"detail":"Internal server error"}`
	for _, tc := range cases {
		res := make(chan result, 1)
		go func() { res <- get(t, base+"/s") }()
		id := takeRequest(t, pl).Exchange
		if err := a.Respond(id, tc.resp); !errors.Is(err, tc.want) {
			t.Errorf("%s: Respond = %v, want %v", tc.name, err, tc.want)
		}
		if r := <-res; r.status != 500 || r.body != problem500 {
			t.Errorf("%s: client got %d %q", tc.name, r.status, r.body)
		}
		if err := a.StreamWrite([]Chunk{{Exchange: id, Data: []byte("x")}}, nil, 0); err == nil {
			t.Errorf("%s: a refused stream took a chunk", tc.name)
		}
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if evs := drainUntilClosed(t, pl); len(evs) != 0 {
		t.Fatalf("refused answers made events: %+v", evs)
	}
}

// TestStreamAbort: ChunkAbort drops what is queued and closes the
// connection without a terminator; its DISCONNECT (GoneAborted) is queued when
// StreamWrite returns; an abort with data is refused and changes nothing.
func TestStreamAbort(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{Body: []byte("hello")})
	c.head()
	if c.chunk() != "hello" {
		t.Fatal("first chunk")
	}
	if err := a.StreamWrite([]Chunk{{Exchange: id, Flags: ChunkAbort, Data: []byte("x")}}, nil, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an abort with data: %v", err)
	}
	if err := a.StreamWrite([]Chunk{{Exchange: id, Flags: ChunkAbort | ChunkEnd}}, nil, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("abort and end: %v", err)
	}
	if err := a.StreamWrite([]Chunk{{Exchange: id, Flags: 1 << 8}}, nil, 0); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("an unknown chunk flag: %v", err)
	}
	write(t, a, Chunk{Exchange: id, Data: []byte("still open")})
	if c.chunk() != "still open" {
		t.Fatal("a refused chunk changed the stream")
	}
	write(t, a, Chunk{Exchange: id, Flags: ChunkAbort})
	var ev Request
	if n, _ := pl.PollEach(1, 0, func(r *Request) { ev = *r }); n != 1 {
		t.Fatal("DISCONNECT not queued when the abort returned")
	}
	wantEvent(t, ev, EventDisconnect, GoneAborted, id)
	if rest, _ := c.rest(); strings.Contains(rest, "0\r\n\r\n") {
		t.Fatalf("an aborted stream was terminated: %q", rest)
	}
	if err := a.StreamWrite([]Chunk{{Exchange: id, Data: []byte("x")}}, nil, 0); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("write after abort: %v", err)
	}
}

// TestStreamClientGone: a client that leaves ends its stream with
// DISCONNECT GoneClient, queued before StreamWrite first answers
// ErrUnknownExchange.
func TestStreamClientGone(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{})
	c.head()
	c.conn.Close()
	deadline := time.Now().Add(wireWait)
	for {
		err := a.StreamWrite([]Chunk{{Exchange: id, Data: []byte("tick")}}, nil, 0)
		if errors.Is(err, ErrUnknownExchange) {
			break
		}
		if err != nil && !errors.Is(err, ErrAgain) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the stream outlived its client")
		}
		time.Sleep(time.Millisecond)
	}
	var ev Request
	if n, _ := pl.PollEach(1, 0, func(r *Request) { ev = *r }); n != 1 {
		t.Fatal("ErrUnknownExchange before the DISCONNECT was queued")
	}
	wantEvent(t, ev, EventDisconnect, GoneClient, id)
}

// fakeStream opens a stream on an exchange of a's slab that no connection
// serves: nothing drains its queue but drainFake, so the queue rules can
// be checked exactly. Its events go to lane 0 (it has no owner).
func fakeStream(t *testing.T, a *App, framing uint8, sse bool) uint64 {
	t.Helper()
	ex := a.ex.acquire()
	ex.c = app.NewContext(0)
	ex.rt = &compiledRoute{lane: a.Lane(0)}
	ex.req.Exchange = ex.id()
	st := &ex.st
	st.mu.Lock()
	st.openLocked(a, ex, false)
	st.framing, st.sse = framing, sse
	st.mu.Unlock()
	ex.answer = answerStream
	return ex.req.Exchange
}

// drainFake hands up to n queued bytes of id's fake stream to "the kernel".
func drainFake(a *App, id uint64, n int) {
	ex, _ := a.ex.lookup(id)
	st := &ex.st
	st.mu.Lock()
	n = min(n, len(st.bufs.buf))
	st.bufs.buf = st.bufs.buf[n:]
	st.mu.Unlock()
	st.sent(n)
}

// laneEvents takes what lane 0 holds now.
func laneEvents(a *App) []Request {
	var evs []Request
	a.Lane(0).PollEach(64, 0, func(r *Request) { evs = append(evs, *r) })
	return evs
}

// TestStreamQueueRules: the bound, AGAIN, the one credit at half, in-call
// order after AGAIN, and waiting writes, on fake streams.
func TestStreamQueueRules(t *testing.T) {
	const bound = 1000
	cfg := DefaultConfig()
	cfg.StreamQueueBytes = bound
	a := NewApp(cfg)
	x := fakeStream(t, a, frameLength, false) // raw bytes: framed size = data size
	y := fakeStream(t, a, frameLength, false)
	data := func(n int) []byte { return make([]byte, n) }

	// A chunk fits under the bound; at the bound exactly too.
	write(t, a, Chunk{Exchange: x, Data: data(600)})
	write(t, a, Chunk{Exchange: x, Data: data(400)})
	if q := queuedOf(a, x); q != bound {
		t.Fatalf("queued %d", q)
	}
	// Full: AGAIN, and in the same call a later chunk of x that would fit
	// alone gets AGAIN too; y's chunk is taken.
	drainFake(a, x, 1) // room for 1 byte
	results := make([]error, 4)
	err := a.StreamWrite([]Chunk{
		{Exchange: x, Data: data(10)},
		{Exchange: x, Data: data(1)},
		{Exchange: y, Data: data(1)},
		{Exchange: x, Flags: ChunkEnd},
	}, results, 0)
	if !errors.Is(err, ErrAgain) || results[0] != ErrAgain || results[1] != ErrAgain || results[2] != nil || results[3] != ErrAgain {
		t.Fatalf("in-call order: %v %v", err, results)
	}
	if q := queuedOf(a, x); q != bound-1 {
		t.Fatalf("AGAIN changed the queue: %d", q)
	}
	// Further AGAINs before the credit owe nothing more.
	for range 3 {
		if err := a.StreamWrite([]Chunk{{Exchange: x, Data: data(10)}}, nil, 0); err != ErrAgain {
			t.Fatal(err)
		}
	}
	if evs := laneEvents(a); len(evs) != 0 {
		t.Fatalf("events before the drain: %+v", evs)
	}
	// The credit comes once the queue is down to half, once.
	drainFake(a, x, bound/2-2) // queued = bound/2 + 1
	if evs := laneEvents(a); len(evs) != 0 {
		t.Fatalf("a credit above half: %+v", evs)
	}
	drainFake(a, x, 1)
	evs := laneEvents(a)
	if len(evs) != 1 {
		t.Fatalf("at half: events %+v, want one credit", evs)
	}
	wantEvent(t, evs[0], EventStreamCredit, 0, x)
	drainFake(a, x, bound)
	if evs := laneEvents(a); len(evs) != 0 {
		t.Fatalf("a second credit: %+v", evs)
	}
	// An empty queue takes a chunk larger than the bound.
	write(t, a, Chunk{Exchange: x, Data: data(3 * bound)})

	// A write with a timeout waits in all up to it, then AGAIN (and owes
	// a credit); one without limit waits until there is room.
	start := time.Now()
	if err := a.StreamWrite([]Chunk{{Exchange: x, Data: data(1)}, {Exchange: y, Data: data(bound)}}, nil, 50*time.Millisecond); err != ErrAgain {
		t.Fatalf("timed write: %v", err)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Fatalf("gave up after %v", took)
	}
	done := make(chan error, 1)
	go func() { done <- a.StreamWrite([]Chunk{{Exchange: x, Data: data(100)}}, nil, -1) }()
	waitFor(t, "a waiting writer", func() bool {
		ex, _ := a.ex.lookup(x)
		ex.st.mu.Lock()
		defer ex.st.mu.Unlock()
		return ex.st.waiters == 1
	})
	drainFake(a, x, 3*bound)
	if err := <-done; err != nil {
		t.Fatalf("waiting write: %v", err)
	}
	// The credit owed by the timed write came with the drain.
	if evs := laneEvents(a); len(evs) != 1 || evs[0].Kind != EventStreamCredit {
		t.Fatalf("events %+v, want one credit", evs)
	}

	// A stream that ends under a waiting writer: ErrUnknownExchange, its
	// terminal event queued, and no credit for what it owed.
	write(t, a, Chunk{Exchange: y, Data: data(bound - 1)})
	if err := a.StreamWrite([]Chunk{{Exchange: y, Data: data(10)}}, nil, 0); err != ErrAgain {
		t.Fatal(err)
	}
	go func() { done <- a.StreamWrite([]Chunk{{Exchange: y, Data: data(10)}}, nil, -1) }()
	waitFor(t, "a waiting writer", func() bool {
		ex, _ := a.ex.lookup(y)
		ex.st.mu.Lock()
		defer ex.st.mu.Unlock()
		return ex.st.waiters == 1
	})
	write(t, a, Chunk{Exchange: y, Flags: ChunkAbort})
	if err := <-done; !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("a writer waiting on an aborted stream: %v", err)
	}
	drainFake(a, y, bound)
	evs = laneEvents(a)
	if len(evs) != 1 {
		t.Fatalf("events %+v, want the abort's DISCONNECT alone", evs)
	}
	wantEvent(t, evs[0], EventDisconnect, GoneAborted, y)

	// Chunk results and exchange 0 (what capi passes for a chunk it refused).
	if err := a.StreamWrite([]Chunk{{Exchange: 0}}, make([]error, 1), 0); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("exchange 0: %v", err)
	}
	if err := a.StreamWrite(make([]Chunk, 2), make([]error, 1), 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short results: %v", err)
	}
}

// TestStreamBackPressure: a client that never reads makes StreamWrite
// answer AGAIN with at most the bound queued; once the client reads, one
// credit comes, with the queue down to half; every byte taken arrives, in
// order, and the exchange's events are that credit and WRITTEN.
func TestStreamBackPressure(t *testing.T) {
	const bound = 1 << 20
	a, base, pl := startStreams(t, func(c *Config) { c.StreamQueueBytes = bound })
	c := dialRaw(t, base, 4096)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{})
	var sent strings.Builder
	seq := 0
	for {
		chunk := []byte(fmt.Sprintf("%08d", seq) + strings.Repeat(".", 16<<10))
		// A short wait for room, so that AGAIN means the client has
		// stopped taking bytes rather than that the writer lagged.
		err := a.StreamWrite([]Chunk{{Exchange: id, Data: chunk}}, nil, 100*time.Millisecond)
		if err == ErrAgain {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if q := queuedOf(a, id); q > bound {
			t.Fatalf("%d bytes queued, over the %d bound", q, bound)
		}
		sent.Write(chunk)
		seq++
		if seq > 10000 {
			t.Fatal("no AGAIN from a client that never reads")
		}
	}
	if q := queuedOf(a, id); q > bound {
		t.Fatalf("AGAIN with %d queued (bound %d)", q, bound)
	}
	got := make(chan string, 1)
	go func() {
		c.head()
		var b strings.Builder
		for {
			d := c.chunk()
			if d == "" {
				got <- b.String()
				return
			}
			b.WriteString(d)
		}
	}()
	wantEvent(t, nextEvent(t, pl), EventStreamCredit, 0, id)
	if q := queuedOf(a, id); q > bound/2 {
		t.Fatalf("credit with %d queued (bound %d)", q, bound)
	}
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd, Data: []byte("end")})
	sent.WriteString("end")
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
	if b := <-got; b != sent.String() {
		t.Fatalf("client got %d bytes, want %d", len(b), sent.Len())
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if evs := drainUntilClosed(t, pl); len(evs) != 0 {
		t.Fatalf("more events: %+v", evs)
	}
}

// TestStreamHeapFlat: under a client that never reads, a producer that
// keeps retrying does not grow the heap past a few queue bounds.
func TestStreamHeapFlat(t *testing.T) {
	const bound = 1 << 20
	a, base, pl := startStreams(t, func(c *Config) { c.StreamQueueBytes = bound })
	c := dialRaw(t, base, 4096)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{})
	chunk := []Chunk{{Exchange: id, Data: make([]byte, 32<<10)}}
	results := make([]error, 1)
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for a.StreamWrite(chunk, results, 100*time.Millisecond) == nil {
	}
	before := heap()
	peak := before
	accepted := 0
	for round := range 20 {
		for range 50 {
			if a.StreamWrite(chunk, results, time.Millisecond) == nil {
				accepted++
			}
		}
		if h := heap(); h > peak {
			peak = h
		}
		if results[0] != ErrAgain && results[0] != nil {
			t.Fatalf("round %d: %v", round, results[0])
		}
	}
	if grew := int64(peak) - int64(before); grew > 3*bound {
		t.Fatalf("the heap grew by %d bytes (bound %d) over 1000 retries", grew, bound)
	}
	t.Logf("heap %d → peak %d; %d of 1000 retries taken", before, peak, accepted)
	c.conn.Close()
}

// TestStreamNoRequestTimeout: request_timeout stops once the stream has
// opened. The clock is a request on another lane that nobody answers: its
// 408 says a whole request_timeout has passed since the stream opened.
func TestStreamNoRequestTimeout(t *testing.T) {
	a, base, pl := startStreams(t, func(c *Config) { c.RequestTimeout = 200 * time.Millisecond },
		RouteSpec{Method: "GET", Path: "/clock", Lane: 1})
	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{Body: []byte("first")})
	c.head()
	if r := get(t, base+"/clock"); r.status != 408 {
		t.Fatalf("clock: %d", r.status)
	}
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd, Data: []byte("later")})
	if c.chunk() != "first" || c.chunk() != "later" || c.chunk() != "" {
		t.Fatal("stream body")
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
}

// TestStreamStalled: a client that takes no byte for read_timeout while
// data is queued loses its stream: DISCONNECT GoneStalled, queued before
// a blocked StreamWrite returns ErrUnknownExchange.
func TestStreamStalled(t *testing.T) {
	a, base, pl := startStreams(t, func(c *Config) {
		c.ReadTimeout = 300 * time.Millisecond
		c.StreamQueueBytes = 256 << 10
	})
	c := dialRaw(t, base, 4096)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{})
	chunk := []Chunk{{Exchange: id, Data: make([]byte, 64<<10)}}
	start := time.Now()
	var err error
	for err == nil {
		err = a.StreamWrite(chunk, nil, -1)
		if time.Since(start) > wireWait {
			t.Fatal("the stalled stream is still open")
		}
	}
	if !errors.Is(err, ErrUnknownExchange) {
		t.Fatal(err)
	}
	var ev Request
	if n, _ := pl.PollEach(1, 0, func(r *Request) { ev = *r }); n != 1 {
		t.Fatal("ErrUnknownExchange before the DISCONNECT was queued")
	}
	wantEvent(t, ev, EventDisconnect, GoneStalled, id)
}

// TestStreamShutdown: Shutdown ends SSE streams at once and lets raw
// streams run until the deadline, then aborts them; each gets DISCONNECT
// GoneStopping before the lanes close.
func TestStreamShutdown(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	sse := dialRaw(t, base, 0)
	sse.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	sid := openStream(t, a, pl, Response{Flags: ResponseSSE})
	sse.head()
	write(t, a, Chunk{Exchange: sid, Data: []byte("e1")})
	if sse.chunk() != "data: e1\n\n" {
		t.Fatal("sse event")
	}
	raw := dialRaw(t, base, 0)
	raw.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	rid := openStream(t, a, pl, Response{Body: []byte("r1")})
	raw.head()
	if raw.chunk() != "r1" {
		t.Fatal("raw chunk")
	}
	// Queued on the SSE stream as the stop begins: flushed before its end.
	write(t, a, Chunk{Exchange: sid, Data: []byte("e2")})

	const deadline = time.Second
	stopped := make(chan error, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		stopped <- a.Shutdown(ctx)
	}()
	wantEvent(t, nextEvent(t, pl), EventDisconnect, GoneStopping, sid)
	if err := a.StreamWrite([]Chunk{{Exchange: sid, Data: []byte("e3")}}, nil, 0); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("write to a stopped SSE stream: %v", err)
	}
	if sse.chunk() != "data: e2\n\n" || sse.chunk() != "" {
		t.Fatal("the SSE stream did not end cleanly after its queue")
	}
	// The raw stream runs on.
	write(t, a, Chunk{Exchange: rid, Data: []byte("r2")})
	if raw.chunk() != "r2" {
		t.Fatal("raw stream after the stop began")
	}
	wantEvent(t, nextEvent(t, pl), EventDisconnect, GoneStopping, rid)
	if took := time.Since(start); took < deadline*9/10 {
		t.Fatalf("the raw stream was cut after %v, before the %v deadline", took, deadline)
	}
	if rest, _ := raw.rest(); strings.Contains(rest, "0\r\n\r\n") {
		t.Fatalf("a cut raw stream looks complete: %q", rest)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if evs := drainUntilClosed(t, pl); len(evs) != 0 {
		t.Fatalf("more events: %+v", evs)
	}
}

// TestStreamShutdownEndsCleanly: a raw stream that ends before the
// deadline is WRITTEN, and Shutdown waits for it.
func TestStreamShutdownEndsCleanly(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{Body: []byte("a")})
	c.head()
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wireWait)
		defer cancel()
		stopped <- a.Shutdown(ctx)
	}()
	if c.chunk() != "a" {
		t.Fatal("first chunk")
	}
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd, Data: []byte("b")})
	if c.chunk() != "b" || c.chunk() != "" {
		t.Fatal("the stream's end")
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	drainUntilClosed(t, pl)
}

// TestStreamOverHTTPClient reads a stream with net/http, as a real client.
func TestStreamOverHTTPClient(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	res := make(chan result, 1)
	go func() { res <- get(t, base+"/s") }()
	id := openStream(t, a, pl, Response{Headers: []Header{{Name: []byte("content-type"), Value: []byte("text/plain")}}})
	for i := range 100 {
		write(t, a, Chunk{Exchange: id, Data: []byte(fmt.Sprintf("%d,", i))})
	}
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd})
	r := <-res
	var want strings.Builder
	for i := range 100 {
		fmt.Fprintf(&want, "%d,", i)
	}
	if r.status != http.StatusOK || r.body != want.String() || r.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("%d %q %v", r.status, r.body, r.header)
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
}
