package core

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// Server-sent events (ADR 0002 §3.4): on a stream opened with
// ResponseStream|ResponseSSE, core sets content-type text/event-stream and
// cache-control no-cache, and frames every chunk as one event:
//
//	event: <Event>        when Event is set
//	id: <ID>              when ID is set
//	retry: <RetryMS>      when RetryMS is not 0
//	data: <line>          one per line of Data, split at CRLF, LF or CR
//	                      (an empty line is written "data:")
//	<blank line>
//
// Empty Data is one empty line, so it gives one "data:" line: the event
// exists, with empty data. (Browsers' EventSource dispatch no event whose
// data is empty, but still take its id and retry.) Data ending in a line
// break gives a last empty "data:" line, so the client reads the data back
// with its final line break. The one chunk that is no event is a ChunkEnd
// with no Data, Event, ID or RetryMS: it only ends the stream.
//
// Refused, changing nothing: an Event or ID containing CR or LF, an ID
// containing NUL (the client would drop the id or split the event).
//
// After Config.SSEKeepalive with no byte written, the writer sends the
// comment ":" and a blank line, so proxies and clients see a live stream.

var (
	errSSEEvent = fmt.Errorf("stream write: an SSE event name contains a line break: %w", ErrInvalid)
	errSSEID    = fmt.Errorf("stream write: an SSE id contains a line break or NUL: %w", ErrInvalid)
)

// sseKeepalive is the comment an idle SSE stream gets.
const sseKeepalive = ":\n\n"

// sseCheck refuses an event whose fields would break the framing.
func sseCheck(ch *Chunk) error {
	if bytes.ContainsAny(ch.Event, "\r\n") {
		return errSSEEvent
	}
	if bytes.ContainsAny(ch.ID, "\r\n\x00") {
		return errSSEID
	}
	return nil
}

// sseOnlyEnd reports the chunk that is no event: an end with nothing else.
func sseOnlyEnd(ch *Chunk) bool {
	return ch.Flags&ChunkEnd != 0 && len(ch.Data) == 0 && len(ch.Event) == 0 && len(ch.ID) == 0 && ch.RetryMS == 0
}

// sseLen is the length of ch framed as an event (appendSSE).
func sseLen(ch *Chunk) int {
	if sseOnlyEnd(ch) {
		return 0
	}
	n := 1 // the blank line
	if len(ch.Event) > 0 {
		n += len("event: \n") + len(ch.Event)
	}
	if len(ch.ID) > 0 {
		n += len("id: \n") + len(ch.ID)
	}
	if ch.RetryMS != 0 {
		n += len("retry: \n") + decimalLen(ch.RetryMS)
	}
	eachLine(ch.Data, func(line []byte) {
		n += len("data:\n")
		if len(line) > 0 {
			n += 1 + len(line)
		}
	})
	return n
}

// appendSSE appends ch framed as an event.
func appendSSE(b []byte, ch *Chunk) []byte {
	if sseOnlyEnd(ch) {
		return b
	}
	if len(ch.Event) > 0 {
		b = append(b, "event: "...)
		b = append(b, ch.Event...)
		b = append(b, '\n')
	}
	if len(ch.ID) > 0 {
		b = append(b, "id: "...)
		b = append(b, ch.ID...)
		b = append(b, '\n')
	}
	if ch.RetryMS != 0 {
		b = append(b, "retry: "...)
		b = strconv.AppendUint(b, uint64(ch.RetryMS), 10)
		b = append(b, '\n')
	}
	eachLine(ch.Data, func(line []byte) {
		b = append(b, "data:"...)
		if len(line) > 0 {
			b = append(b, ' ')
			b = append(b, line...)
		}
		b = append(b, '\n')
	})
	return append(b, '\n')
}

// eachLine calls fn for each line of d, split at CRLF, LF or CR; d has one
// line more than it has line breaks.
func eachLine(d []byte, fn func(line []byte)) {
	start := 0
	for i := 0; i < len(d); i++ {
		switch d[i] {
		case '\r':
			fn(d[start:i])
			if i+1 < len(d) && d[i+1] == '\n' {
				i++
			}
			start = i + 1
		case '\n':
			fn(d[start:i])
			start = i + 1
		}
	}
	fn(d[start:])
}

func decimalLen(n uint32) int {
	l := 1
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}

// keepaliveTimer fires after an SSE stream has been idle for its period.
// A nil *keepaliveTimer never fires: streams without keep-alive use one.
type keepaliveTimer struct {
	t *time.Timer
	d time.Duration
}

func newKeepaliveTimer(d time.Duration) *keepaliveTimer {
	return &keepaliveTimer{t: time.NewTimer(d), d: d}
}

// C is the timer's channel, or nil.
func (k *keepaliveTimer) C() <-chan time.Time {
	if k == nil {
		return nil
	}
	return k.t.C
}

// reset starts the idle period again, after a write.
func (k *keepaliveTimer) reset() {
	if k != nil {
		k.t.Reset(k.d) // since Go 1.23 no stale tick survives a Reset
	}
}

func (k *keepaliveTimer) stop() {
	if k != nil {
		k.t.Stop()
	}
}
