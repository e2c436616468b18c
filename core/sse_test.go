package core

import (
	"errors"
	"testing"
	"time"
)

// TestSSEFraming: each chunk of an SSE stream is one event, framed as
// sse.go says; the length the queue counts is the length written.
func TestSSEFraming(t *testing.T) {
	cases := []struct {
		name string
		ch   Chunk
		want string
		err  error
	}{
		{name: "data", ch: Chunk{Data: []byte("hello")}, want: "data: hello\n\n"},
		{name: "lf lines", ch: Chunk{Data: []byte("a\nb")}, want: "data: a\ndata: b\n\n"},
		{name: "crlf lines", ch: Chunk{Data: []byte("a\r\nb")}, want: "data: a\ndata: b\n\n"},
		{name: "cr lines", ch: Chunk{Data: []byte("a\rb")}, want: "data: a\ndata: b\n\n"},
		{name: "mixed breaks", ch: Chunk{Data: []byte("a\r\n\rb\n\nc")}, want: "data: a\ndata:\ndata: b\ndata:\ndata: c\n\n"},
		{name: "cr then lf apart", ch: Chunk{Data: []byte("a\r\r\nb")}, want: "data: a\ndata:\ndata: b\n\n"},
		{name: "trailing break", ch: Chunk{Data: []byte("a\n")}, want: "data: a\ndata:\n\n"},
		{name: "leading space kept", ch: Chunk{Data: []byte(" a")}, want: "data:  a\n\n"},
		{name: "empty data", ch: Chunk{}, want: "data:\n\n"},
		{name: "all fields", ch: Chunk{Event: []byte("tick"), ID: []byte("7"), RetryMS: 1500, Data: []byte("x")},
			want: "event: tick\nid: 7\nretry: 1500\ndata: x\n\n"},
		{name: "event, empty data", ch: Chunk{Event: []byte("ping")}, want: "event: ping\ndata:\n\n"},
		{name: "end with data", ch: Chunk{Flags: ChunkEnd, Data: []byte("bye")}, want: "data: bye\n\n"},
		{name: "end alone", ch: Chunk{Flags: ChunkEnd}, want: ""},
		{name: "end with id", ch: Chunk{Flags: ChunkEnd, ID: []byte("9")}, want: "id: 9\ndata:\n\n"},
		{name: "nul in event", ch: Chunk{Event: []byte("a\x00b")}, want: "event: a\x00b\ndata:\n\n"},
		{name: "lf in event", ch: Chunk{Event: []byte("a\nb")}, err: ErrInvalid},
		{name: "cr in event", ch: Chunk{Event: []byte("a\rb")}, err: ErrInvalid},
		{name: "lf in id", ch: Chunk{ID: []byte("1\n2")}, err: ErrInvalid},
		{name: "cr in id", ch: Chunk{ID: []byte("1\r")}, err: ErrInvalid},
		{name: "nul in id", ch: Chunk{ID: []byte("1\x002")}, err: ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := sseCheck(&tc.ch); !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("check(%+v) = %v, want %v", tc.ch, err, tc.err)
			}
			if tc.err != nil {
				return
			}
			got := string(appendSSE(nil, &tc.ch))
			if got != tc.want {
				t.Fatalf("framed %q\n          want %q", got, tc.want)
			}
			if n := sseLen(&tc.ch); n != len(got) {
				t.Fatalf("sseLen = %d, framed %d bytes", n, len(got))
			}
		})
	}
}

// TestSSEStream: on the wire an SSE stream has core's headers and one
// chunk per event; a raw field on a raw stream is refused; an SSE field
// that breaks the framing is refused and changes nothing.
func TestSSEStream(t *testing.T) {
	a, base, pl := startStreams(t, nil)
	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{Flags: ResponseSSE, Headers: []Header{{Name: []byte("X-Kind"), Value: []byte("sse")}}})
	status, h := c.head()
	if status != "HTTP/1.1 200 OK" || h["content-type"] != "text/event-stream" || h["cache-control"] != "no-cache" ||
		h["transfer-encoding"] != "chunked" || h["x-kind"] != "sse" {
		t.Fatalf("head %q %v", status, h)
	}
	results := make([]error, 3)
	err := a.StreamWrite([]Chunk{
		{Exchange: id, Event: []byte("greet"), ID: []byte("1"), Data: []byte("hello\r\nworld")},
		{Exchange: id, ID: []byte("bad\nid"), Data: []byte("dropped")},
		{Exchange: id, RetryMS: 10, Data: []byte("last")},
	}, results, 0)
	if !errors.Is(err, ErrInvalid) || results[0] != nil || !errors.Is(results[1], ErrInvalid) || results[2] != nil {
		t.Fatalf("StreamWrite: %v %v", err, results)
	}
	if got := c.chunk(); got != "event: greet\nid: 1\ndata: hello\ndata: world\n\n" {
		t.Fatalf("event 1: %q", got)
	}
	if got := c.chunk(); got != "retry: 10\ndata: last\n\n" {
		t.Fatalf("event 2: %q", got)
	}
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd})
	if c.chunk() != "" {
		t.Fatal("no terminator")
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)

	c = dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	raw := openStream(t, a, pl, Response{})
	c.head()
	for _, ch := range []Chunk{{Exchange: raw, Event: []byte("e")}, {Exchange: raw, ID: []byte("1")}, {Exchange: raw, RetryMS: 5}} {
		if err := a.StreamWrite([]Chunk{ch}, nil, 0); !errors.Is(err, ErrInvalid) {
			t.Fatalf("an SSE field on a raw stream: %v", err)
		}
	}
	write(t, a, Chunk{Exchange: raw, Flags: ChunkEnd, Data: []byte("raw")})
	if c.chunk() != "raw" || c.chunk() != "" {
		t.Fatal("raw stream")
	}
}

// TestSSEKeepalive: an SSE stream idle for sse_keepalive gets the comment
// ":" and a blank line, again after each idle period; an event in between
// goes out as usual.
func TestSSEKeepalive(t *testing.T) {
	a, base, pl := startStreams(t, func(c *Config) { c.SSEKeepalive = 30 * time.Millisecond })
	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	id := openStream(t, a, pl, Response{Flags: ResponseSSE})
	c.head()
	for range 2 {
		if got := c.chunk(); got != ":\n\n" {
			t.Fatalf("idle stream sent %q", got)
		}
	}
	write(t, a, Chunk{Exchange: id, Data: []byte("x")})
	// The event, possibly after a keep-alive that raced it.
	got := c.chunk()
	for got == ":\n\n" {
		got = c.chunk()
	}
	if got != "data: x\n\n" {
		t.Fatalf("event %q", got)
	}
	if got := c.chunk(); got != ":\n\n" {
		t.Fatalf("after the event: %q", got)
	}
	write(t, a, Chunk{Exchange: id, Flags: ChunkEnd})
	for got := c.chunk(); got != ""; got = c.chunk() {
		if got != ":\n\n" {
			t.Fatalf("before the end: %q", got)
		}
	}
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
}
