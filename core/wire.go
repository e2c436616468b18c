package core

import (
	"context"
	"errors"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/network"
	"github.com/cloudwego/hertz/pkg/protocol/http1/resp"
	"github.com/cloudwego/netpoll"
)

// The wire: how an exchange's Hertz goroutine writes a WRITTEN answer or a
// stream itself, from inside serveHTTP (see stream.go for the queue and the
// terminal events). It writes to the connection's writer and flushes: a
// flush returns once its bytes are in the kernel, which is what WRITTEN
// promises. Then it installs a hijack writer that has nothing left to
// write, so Hertz, which writes every response after the handler returns,
// writes nothing more, and closes the connection if ours failed.

// doneWriter is the hijack writer of an answer already on the wire. Its
// Finalize fails for one that failed, so that Hertz closes the connection.
type doneWriter struct{ err error }

var (
	errAnswerFailed = errors.New("spikard: the answer could not be written whole")
	answerOnWire    = &doneWriter{}
	answerCut       = &doneWriter{err: errAnswerFailed}
)

func (w *doneWriter) Write(p []byte) (int, error) { return 0, errAnswerFailed }
func (w *doneWriter) Flush() error                { return w.err }
func (w *doneWriter) Finalize() error             { return w.err }

// handBack tells Hertz the answer is on the wire, whole or not.
func handBack(c *app.RequestContext, ok bool) {
	if ok {
		c.Response.HijackWriter(answerOnWire)
		return
	}
	c.Response.SetConnectionClose()
	c.Response.HijackWriter(answerCut)
}

// keepAliveHeader sets the Connection header as Hertz would once the
// handler returns: close when the client or the app asks for it, and
// keep-alive spelled out for an HTTP/1.0 client.
func (a *App) keepAliveHeader(c *app.RequestContext) {
	if c.Request.Header.ConnectionClose() || c.Response.ConnectionClose() || a.phase.Load() != phaseServing {
		c.Response.Header.SetConnectionClose(true)
	} else if !c.Request.Header.IsHTTP11() {
		c.Response.Header.Set("Connection", "keep-alive")
	}
}

// writeWhole writes the WRITTEN answer of ex, which Respond put in Hertz's
// response, then queues its terminal event.
func (a *App) writeWhole(ex *exchange) {
	c := ex.c
	st := &ex.st
	a.keepAliveHeader(c)
	if a.codecs != nil {
		a.codecs.compressWhole(c)
	}
	w := c.GetWriter()
	err := resp.Write(&c.Response, w)
	if err == nil {
		err = w.Flush()
	}
	st.mu.Lock()
	if err == nil {
		st.endLocked(EventWritten, 0)
	} else {
		st.endLocked(EventDisconnect, GoneClient)
	}
	st.mu.Unlock()
	a.streams.remove(st)
	handBack(c, err == nil)
}

// serveStream writes the stream of ex until it ends: the header Respond
// prepared, then each batch of queued chunks, flushed in slices of at most
// writeSlice. It returns once the stream's terminal event is queued.
func (a *App) serveStream(ctx context.Context, ex *exchange) {
	st := &ex.st
	c := ex.c
	w := c.GetWriter()
	if d := a.cfg.ReadTimeout; d > 0 && st.conn != nil {
		// Per flush: a flush that hands no slice to the kernel for this
		// long means the client takes nothing (GoneStalled).
		_ = st.conn.SetWriteTimeout(d)
		defer func() { _ = st.conn.SetWriteTimeout(0) }() // the connection may be gone
	}
	var keepalive *keepaliveTimer
	if st.sse && st.framing != frameNone && a.cfg.SSEKeepalive > 0 {
		keepalive = newKeepaliveTimer(a.cfg.SSEKeepalive)
		defer keepalive.stop()
	}
	err := resp.WriteHeader(&c.Response.Header, w)
	header := err == nil // the header waits for its flush
	keep := false        // ended cleanly, and the connection may serve another request
	for err == nil {
		st.mu.Lock()
		b := st.bufs
		batch := b.buf
		b.buf, b.spare = b.spare, nil
		aborted := st.aborted
		st.mu.Unlock()
		if aborted {
			b.spare = batch[:0] // dropped, never handed to the connection
			break
		}
		if len(batch) > 0 || header {
			if err = st.send(w, batch); err != nil {
				break // netpoll may still hold batch: it is left to the GC
			}
			header = false
			keepalive.reset()
		}
		st.mu.Lock()
		b.spare = batch[:0]
		more := len(b.buf) > 0
		ended := !more && (st.phase == phaseEnding || st.stopped)
		aborted = st.aborted
		st.mu.Unlock()
		if aborted {
			break
		}
		if ended {
			keep, err = a.endStream(st, w)
			break
		}
		if more {
			continue
		}
		select {
		case <-st.kick:
		case <-ctx.Done():
			err = errAnswerFailed // the client went away
		case <-keepalive.C():
			err = sendKeepalive(st, w)
			keepalive.reset()
		}
	}
	if err != nil {
		code := GoneClient
		if errors.Is(err, netpoll.ErrWriteTimeout) {
			code = GoneStalled
		}
		st.fail(code) // nothing if it is over already
	}
	a.streams.remove(st)
	st.mu.Lock()
	bufs, limit := st.bufs, st.limit
	st.bufs = nil
	enc := st.enc
	st.enc = nil
	st.mu.Unlock()
	enc.release()
	a.putBufs(bufs, limit)
	handBack(c, keep)
}

// send hands batch to the kernel in slices; after each, the queue shrinks.
func (st *stream) send(w network.Writer, batch []byte) error {
	if len(batch) == 0 {
		return w.Flush()
	}
	for len(batch) > 0 {
		n := min(len(batch), writeSlice)
		if _, err := w.WriteBinary(batch[:n]); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		st.sent(n)
		batch = batch[n:]
	}
	return nil
}

// endStream finishes st once everything queued is on the wire. After a
// ChunkEnd, whose bytes included the terminator, the stream is WRITTEN;
// an SSE stream that Shutdown stopped gets its terminator now (its event
// is queued already). It reports whether the connection may serve another
// request: not after a close-delimited body, nor while the app stops.
func (a *App) endStream(st *stream, w network.Writer) (bool, error) {
	st.mu.Lock()
	stopped := st.stopped
	st.mu.Unlock()
	if stopped {
		if st.framing == frameChunked {
			if _, err := w.WriteBinary(lastChunkBytes); err != nil {
				return false, err
			}
			if err := w.Flush(); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	st.mu.Lock()
	st.endLocked(EventWritten, 0)
	st.mu.Unlock()
	return st.framing != frameClose, nil
}

// Frames written as they are; netpoll copies writes this small.
var (
	lastChunkBytes        = []byte(lastChunk)
	sseKeepaliveChunked   = []byte("3\r\n" + sseKeepalive + "\r\n")
	sseKeepaliveDelimited = []byte(sseKeepalive)
)

// sendKeepalive writes the SSE keep-alive comment, framed for the wire.
func sendKeepalive(st *stream, w network.Writer) error {
	frame := sseKeepaliveDelimited
	if st.framing == frameChunked {
		frame = sseKeepaliveChunked
	}
	if _, err := w.WriteBinary(frame); err != nil {
		return err
	}
	return w.Flush()
}
