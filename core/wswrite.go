package core

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// How hosts write to a WebSocket: StreamWrite with a chunk per message
// (websocket.go has the connection). Flags 0 send Data as a text message,
// ChunkWSBinary as a binary one; ChunkWSClose closes with Code and the
// reason Data, after what is queued; ChunkAbort drops the connection. The
// queue is bounded like a stream's (Config.StreamQueueBytes of message
// data): a message that does not fit, unless the queue is empty, gets
// ErrAgain and owes one EventStreamCredit. A close always fits.

var (
	errWSFlags    = fmt.Errorf("stream write: WebSocket chunk flags are 0 (text), ChunkWSBinary, ChunkWSClose or ChunkAbort, alone: %w", ErrUnsupported)
	errWSEnd      = fmt.Errorf("stream write: a WebSocket ends with ChunkWSClose, not ChunkEnd: %w", ErrInvalid)
	errWSFields   = fmt.Errorf("stream write: event, id and retry are for SSE streams: %w", ErrInvalid)
	errWSCode     = fmt.Errorf("stream write: a chunk's code is a ChunkWSClose's close code: %w", ErrInvalid)
	errWSText     = fmt.Errorf("stream write: a text message must be valid UTF-8 (send bytes with ChunkWSBinary): %w", ErrInvalid)
	errCloseCode  = fmt.Errorf("stream write: a close code is 1000..1003, 1007..1014 or 3000..4999 (0: none, with no reason): %w", ErrInvalid)
	errCloseText  = fmt.Errorf("stream write: a close reason is at most 123 bytes of UTF-8: %w", ErrInvalid)
	errAbortBytes = fmt.Errorf("stream write: a ChunkAbort carries no data: %w", ErrInvalid)
)

// checkWSChunk refuses a chunk no WebSocket can take.
func checkWSChunk(ch *Chunk) error {
	switch f := ch.Flags; {
	case f&ChunkEnd != 0 && f&^ChunkEnd == 0:
		return errWSEnd
	case f != 0 && f != ChunkWSBinary && f != ChunkWSClose && f != ChunkAbort:
		return errWSFlags
	case len(ch.Event) > 0 || len(ch.ID) > 0 || ch.RetryMS != 0:
		return errWSFields
	case f != ChunkWSClose && ch.Code != 0:
		return errWSCode
	case f == ChunkAbort && len(ch.Data) > 0:
		return errAbortBytes
	case f == 0 && !utf8.Valid(ch.Data):
		return errWSText
	case f == ChunkWSClose:
		return checkClose(ch.Code, ch.Data)
	}
	return nil
}

// checkClose refuses a close code or reason a peer would take as a
// protocol error (RFC 6455 §7.4: 1004..1006 and 1015 are never sent).
func checkClose(code uint32, reason []byte) error {
	switch {
	case code == 0 && len(reason) > 0:
		return errCloseCode
	case code == 0, code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
	default:
		return errCloseCode
	}
	if len(reason) > 123 || !utf8.Valid(reason) {
		return errCloseText
	}
	return nil
}

// writeWS applies one chunk to the WebSocket w, waiting for room as
// StreamWrite's timeout allows.
func (c *streamCall) writeWS(w *wsConn, ch *Chunk) error {
	if err := checkWSChunk(ch); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase == wsOver {
		return ErrUnknownExchange
	}
	switch ch.Flags {
	case ChunkAbort:
		w.abortLocked()
		return nil
	case ChunkWSClose:
		w.closeLocked(ch.Code, string(ch.Data), false)
		return nil
	}
	size := len(ch.Data)
	for w.queued > 0 && w.queued+size > w.limit {
		if c.timeout == 0 || c.timedOut() {
			w.owed = true
			return ErrAgain
		}
		w.waiters++
		w.mu.Unlock()
		roomy := c.wait(w.room)
		w.mu.Lock()
		w.waiters--
		if w.phase == wsOver {
			if w.waiters > 0 {
				notify(w.room) // the others see the end too
			}
			return ErrUnknownExchange
		}
		if !roomy {
			c.deadline = time.Now() // no time left for later chunks either
		}
	}
	kind := msgText
	if ch.Flags == ChunkWSBinary {
		kind = msgBinary
	}
	w.queued += size
	if w.waiters > 0 && w.queued < w.limit {
		notify(w.room)
	}
	w.sendLocked(wsFrame{kind: kind, data: ch.Data})
	return nil
}
