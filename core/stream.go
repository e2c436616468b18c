package core

import (
	"strconv"
	"sync"

	"github.com/cloudwego/hertz/pkg/network"
)

// Streams and WRITTEN answers: answers the exchange's Hertz goroutine
// writes itself, so that it knows when the last byte reached the kernel.
//
// A stream is opened by Respond with ResponseStream: status and headers go
// out at once, the response's Body is the first chunk, and the Hertz
// goroutine stays in serveHTTP (wire.go), draining the stream's queue into
// the connection. Hosts add chunks, the end and an abort with StreamWrite
// (streamwrite.go).
// The queue holds the framed bytes accepted and not yet handed to the
// kernel, bounded by Config.StreamQueueBytes: a chunk that does not fit
// (unless the queue is empty) is refused with ErrAgain, which owes the
// host one EventStreamCredit once the queue drains to half the bound.
//
// Every opened stream, and every answer flagged ResponseWritten, gets
// exactly one terminal event, queued under the stream's lock as its phase
// becomes phaseOver; StreamWrite answers ErrUnknownExchange only from then
// on. The terminal event is
//
//   - EventWritten once the answer's last byte (for a stream, its
//     terminating chunk after ChunkEnd) was handed to the kernel. A stream
//     counts as asking for it whether or not its Response had
//     ResponseWritten.
//   - EventDisconnect otherwise, with Code GoneClient (the client left, or a
//     write failed), GoneStalled (with data queued, no writeSlice reached
//     the kernel for read_timeout: the client takes nothing), GoneStopping
//     (Shutdown ended it; streamset.go), or GoneAborted when the host ended
//     it uncleanly itself: ChunkAbort, or a ChunkEnd short of the stream's
//     content-length. The host asked for those, but a binding may release
//     the exchange's state on the terminal event alone.
//
// Lock order: exchanges.mu, then stream.mu, then the lane's mu; streamSet.mu
// comes before stream.mu.

// Answer kinds of exchange.answer.
const (
	answerPlain  uint8 = iota // handed back to Hertz, as before flags existed
	answerWhole               // ResponseWritten: written and flushed here, then EventWritten
	answerStream              // ResponseStream: chunks follow through StreamWrite
	answerWS                  // ResponseWSAccept: the connection becomes a WebSocket (websocket.go)
)

// How a stream's body is framed on the wire.
const (
	frameChunked uint8 = iota + 1 // HTTP/1.1, no content-length from the host
	frameLength                   // exactly the host's content-length
	frameClose                    // HTTP/1.0: the body ends when the connection closes
	frameNone                     // HEAD: headers only; chunks are checked and dropped
)

// Phases of a stream.
const (
	phaseOpen   uint8 = iota + 1 // taking chunks
	phaseEnding                  // ChunkEnd taken; the writer sends the rest, then EventWritten
	phaseOver                    // its terminal event is queued
)

// writeSlice is the most one flush hands to the connection. The write
// timeout that detects a stalled client (read_timeout) runs per flush, so
// a client that reads slowly but steadily is not taken for stalled; and
// the queue shrinks, and credits go out, as the slices leave.
const writeSlice = 64 << 10

// defaultStreamQueueBytes is Config.StreamQueueBytes when it is not set.
const defaultStreamQueueBytes = 4 << 20

// stream is the state of an answer written by its Hertz goroutine: a stream
// or a WRITTEN answer. One lives in each exchange and is reused with it.
type stream struct {
	mu sync.Mutex
	// Guarded by mu.
	id      uint64 // the exchange's id from the answer until release; 0 otherwise
	whole   bool   // a WRITTEN answer, not a stream: StreamWrite refuses it
	sse     bool
	framing uint8
	phase   uint8
	limited bool  // the host gave a content-length
	remain  int64 // if limited: body bytes still to come
	queued  int   // framed bytes accepted, not yet handed to the kernel
	limit   int   // Config.StreamQueueBytes
	owed    bool  // an ErrAgain owes one EventStreamCredit
	aborted bool  // the writer drops what is queued and closes the connection
	stopped bool  // Shutdown ended an SSE stream: the writer flushes and terminates it
	waiters int   // StreamWrite calls waiting for room
	bufs    *streamBufs
	enc     *streamEncoder // the stream's compression, or nil (compress.go)

	// Set when the answer is made, read-only until release.
	ex   *exchange
	conn network.Conn
	kick chan struct{} // cap 1: to the writer: bytes, the end, an abort or a stop
	room chan struct{} // cap 1: to a waiting StreamWrite: the queue shrank or the stream is over
}

// streamBufs are a stream's two buffers. buf takes framed chunks while the
// writer sends the batch it took last; that batch's buffer comes back as
// spare, and the two swap at the writer's next take. Pooled per App, so a
// steady stream allocates nothing.
type streamBufs struct {
	buf, spare []byte
}

// openLocked readies st for a new answer of ex. The caller holds st.mu.
func (st *stream) openLocked(a *App, ex *exchange, whole bool) {
	st.id = ex.req.Exchange
	st.whole = whole
	st.sse, st.limited, st.remain = false, false, 0
	st.framing = 0
	st.phase = phaseOpen
	st.queued = 0
	st.limit = a.cfg.StreamQueueBytes
	if st.limit <= 0 {
		st.limit = defaultStreamQueueBytes
	}
	st.owed, st.aborted, st.stopped = false, false, false
	st.ex = ex
	st.conn = ex.c.GetConn()
	if st.kick == nil {
		st.kick = make(chan struct{}, 1)
		st.room = make(chan struct{}, 1)
	}
	// A token left from the slot's last answer only makes a spurious
	// wake-up: the writer and waiters look again. (Taking it could strand
	// a waiter of that answer that has not run yet.)
	if !whole {
		st.bufs = a.getBufs()
	}
}

// forget ends st's tie to its exchange once the exchange is released.
func (st *stream) forget() {
	st.mu.Lock()
	st.id = 0
	st.conn = nil
	st.mu.Unlock()
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// endLocked queues st's terminal event, once. The caller holds st.mu.
func (st *stream) endLocked(kind, code uint32) {
	if st.phase == phaseOver {
		return
	}
	st.phase = phaseOver
	st.owed = false // a credit is never sent after the terminal event
	st.ex.rt.lane.deliver(st.ex, kind, code)
	notify(st.room)
	notify(st.kick)
}

// abortLocked ends st uncleanly: queued bytes are dropped, the connection
// is closed and the terminal event is EventDisconnect with code (unless
// one was queued already). The caller holds st.mu.
func (st *stream) abortLocked(code uint32) {
	st.endLocked(EventDisconnect, code)
	st.aborted = true
	if st.bufs != nil {
		st.queued -= len(st.bufs.buf)
		st.bufs.buf = st.bufs.buf[:0]
	}
	if st.conn != nil {
		_ = st.conn.Close() // a writer blocked in a flush returns
	}
}

// fail records that the writer could not go on; code is the Gone* reason
// unless the stream is over already.
func (st *stream) fail(code uint32) {
	st.mu.Lock()
	st.endLocked(EventDisconnect, code)
	st.aborted = true
	st.mu.Unlock()
}

// sent records that n queued bytes reached the kernel: a credit owed goes
// out once the queue is down to half its bound, and a StreamWrite waiting
// for room looks again.
func (st *stream) sent(n int) {
	st.mu.Lock()
	st.queued -= n
	if st.owed && st.queued <= st.limit/2 && st.phase != phaseOver {
		st.owed = false
		st.ex.rt.lane.deliver(st.ex, EventStreamCredit, 0)
	}
	if st.waiters > 0 {
		notify(st.room)
	}
	st.mu.Unlock()
}

// payloadLen is the length of ch's bytes on st before transfer framing:
// its data, or its SSE event; none on a HEAD stream.
func (st *stream) payloadLen(ch *Chunk) int {
	switch {
	case st.framing == frameNone:
		return 0
	case st.sse:
		return sseLen(ch)
	}
	return len(ch.Data)
}

// framedLen is how many bytes ch adds to st's queue.
func (st *stream) framedLen(ch *Chunk) int {
	n := st.payloadLen(ch)
	if st.framing != frameChunked {
		return n
	}
	if n > 0 {
		n += chunkHeaderLen(n) + 2
	}
	if ch.Flags&ChunkEnd != 0 {
		n += len(lastChunk)
	}
	return n
}

// appendLocked queues ch, framed into size bytes (framedLen), and ends the
// stream after it for ChunkEnd. The caller holds st.mu and checked ch.
func (st *stream) appendLocked(ch *Chunk, size int) {
	if ch.Flags&ChunkEnd != 0 && st.limited && st.remain > int64(len(ch.Data)) {
		// Short of its content-length: the client must not take it as whole.
		st.abortLocked(GoneAborted)
		return
	}
	if st.limited {
		st.remain -= int64(len(ch.Data))
	}
	if st.enc != nil && st.framing != frameNone {
		st.appendEncodedLocked(ch)
		return
	}
	chunked := st.framing == frameChunked
	if n := st.payloadLen(ch); n > 0 {
		b := st.bufs.buf
		if chunked {
			b = appendChunkHeader(b, n)
		}
		if st.sse {
			b = appendSSE(b, ch)
		} else {
			b = append(b, ch.Data...)
		}
		if chunked {
			b = append(b, '\r', '\n')
		}
		st.bufs.buf = b
	}
	if ch.Flags&ChunkEnd != 0 {
		if chunked {
			st.bufs.buf = append(st.bufs.buf, lastChunk...)
		}
		st.phase = phaseEnding
	}
	st.queued += size
}

// appendEncodedLocked is appendLocked for a compressed stream: ch's data
// goes through the codec, flushed, and what comes out is framed and
// queued; the queue counts the compressed bytes (the room check before it
// counted ch's own, never fewer but by a codec's few bytes of framing).
func (st *stream) appendEncodedLocked(ch *Chunk) {
	end := ch.Flags&ChunkEnd != 0
	data := st.enc.chunk(ch.Data, end)
	chunked := st.framing == frameChunked
	b := st.bufs.buf
	before := len(b)
	if n := len(data); n > 0 {
		if chunked {
			b = appendChunkHeader(b, n)
		}
		b = append(b, data...)
		if chunked {
			b = append(b, '\r', '\n')
		}
	}
	if end {
		if chunked {
			b = append(b, lastChunk...)
		}
		st.phase = phaseEnding
	}
	st.bufs.buf = b
	st.queued += len(b) - before
}

// lastChunk ends a chunked body (no trailers).
const lastChunk = "0\r\n\r\n"

// chunkHeaderLen is the length of the size line of a chunk of n bytes.
func chunkHeaderLen(n int) int {
	l := 1
	for n >= 16 {
		n >>= 4
		l++
	}
	return l + 2
}

func appendChunkHeader(b []byte, n int) []byte {
	b = strconv.AppendUint(b, uint64(n), 16)
	return append(b, '\r', '\n')
}

// getBufs and putBufs recycle streams' buffers.
func (a *App) getBufs() *streamBufs {
	if b, ok := a.bufs.Get().(*streamBufs); ok {
		return b
	}
	return new(streamBufs)
}

// putBufs keeps buffers up to twice the queue bound, limit: one that an
// oversized chunk grew further goes to the GC.
func (a *App) putBufs(b *streamBufs, limit int) {
	b.buf, b.spare = b.buf[:0], b.spare[:0]
	if cap(b.buf) > 2*limit {
		b.buf = nil
	}
	if cap(b.spare) > 2*limit {
		b.spare = nil
	}
	a.bufs.Put(b)
}
