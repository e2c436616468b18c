package core

import (
	"bytes"
	"errors"
	"testing"

	gws "github.com/gorilla/websocket"
)

// inlinedNow is how many frames w wrote on a StreamWrite caller's goroutine.
func (w *wsConn) inlinedNow() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inlined
}

// The inline write (sendLocked) is what keeps a WebSocket reply off the
// writer goroutine: a frame goes out on the StreamWrite caller's goroutine
// when nothing is queued and the kernel has room, and is queued for the
// writer when it has not. Both sides are checked here, so the shortcut
// cannot stop working unnoticed, nor be taken when it must not.
func TestWebSocketInlineWriteOnlyWithRoom(t *testing.T) {
	const piece = 16 << 10
	a, p, url := startWS(t, func(c *Config) { c.StreamQueueBytes = 1 << 20 }, nil)
	d := &gws.Dialer{HandshakeTimeout: wireWait, NetDial: smallRcvbufDial}
	c, id := connect(t, a, p, url, d)
	w := a.ex.socket(id)
	if w == nil {
		t.Fatal("no WebSocket for the accepted exchange")
	}

	// An empty queue and an empty socket: inline, and it arrives.
	before := w.inlinedNow()
	send(t, a, id, 0, `{"hello":"inline"}`)
	if got := w.inlinedNow(); got != before+1 {
		t.Fatalf("a small reply on an idle WebSocket: %d frames inline, want %d", got-before, 1)
	}
	if kind, msg := readMsg(t, c); kind != gws.TextMessage || msg != `{"hello":"inline"}` {
		t.Fatalf("client got %d %q", kind, msg)
	}

	// The client stops reading: once the kernel holds half its send buffer
	// a frame must go to the queue instead.
	msg := bytes.Repeat([]byte("m"), piece)
	sent, queuedAt := 0, -1
	for sent < 10000 {
		n := w.inlinedNow()
		err := a.StreamWrite([]Chunk{{Exchange: id, Flags: ChunkWSBinary, Data: msg}}, nil, 0)
		if errors.Is(err, ErrAgain) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sent++
		if w.inlinedNow() == n && queuedAt < 0 {
			// The first frame not sent inline: the queue was empty and no
			// writer ran (each inline write ends before its call returns),
			// so the kernel had no room for it.
			queuedAt = sent
		}
	}
	if queuedAt < 0 {
		t.Fatalf("%d frames of %d bytes to a client that reads nothing all went inline", sent, piece)
	}

	// Everything arrives, in order, whichever way it went.
	for i := 0; i < sent; i++ {
		kind, got := readMsg(t, c)
		if kind != gws.BinaryMessage || len(got) != piece {
			t.Fatalf("message %d: kind %d, %d bytes", i, kind, len(got))
		}
	}
}
