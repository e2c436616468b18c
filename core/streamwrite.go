package core

import (
	"fmt"
	"slices"
	"time"
)

// StreamWrite: how a host adds chunks, the end and an abort to its
// streams (the stream record and its queue are in stream.go).

var (
	errNotStream   = fmt.Errorf("stream write: the exchange has no open stream: %w", ErrInvalid)
	errStreamEnded = fmt.Errorf("stream write: the stream has ended (ChunkEnd): %w", ErrInvalid)
	errChunkFlags  = fmt.Errorf("stream write: chunk flags %w", ErrUnsupported)
	errEndAbort    = fmt.Errorf("stream write: ChunkEnd and ChunkAbort together: %w", ErrInvalid)
	errAbortData   = fmt.Errorf("stream write: a ChunkAbort carries no data, event, id or retry: %w", ErrInvalid)
	errRawFields   = fmt.Errorf("stream write: event, id and retry are for SSE streams: %w", ErrInvalid)
	errPastLength  = fmt.Errorf("stream write: more bytes than the stream's content-length: %w", ErrInvalid)
	errResults     = fmt.Errorf("stream write: fewer results than chunks: %w", ErrInvalid)
	errStreamCode  = fmt.Errorf("stream write: a chunk's code is a WebSocket close code; 0 on a stream: %w", ErrInvalid)
)

// StreamWrite queues chunks on open streams (see Respond with
// ResponseStream). Each chunk's data is copied before StreamWrite returns.
// results, if not nil, must have a place for each chunk and gets its
// result: nil (queued); ErrAgain (the queue is full: nothing was queued,
// and one EventStreamCredit follows when it drains to half); ErrUnknownExchange
// (the stream is over, and its terminal event is queued); or a refusal
// wrapping ErrInvalid or ErrUnsupported, which changes nothing. StreamWrite
// returns nil if every chunk was queued, else the first failure.
//
// timeout says how long to wait for room: 0 never (event-loop hosts, which
// wait for the credit instead), > 0 up to that long in all, < 0 until
// there is room or the stream ends. Chunks of one exchange apply in order;
// once one gets ErrAgain, that exchange's later chunks in the call get
// ErrAgain too, so nothing is reordered. Safe for concurrent use.
func (a *App) StreamWrite(chunks []Chunk, results []error, timeout time.Duration) error {
	if results != nil && len(results) < len(chunks) {
		return errResults
	}
	call := streamCall{a: a, timeout: timeout}
	defer call.finish()
	var first error
	for i := range chunks {
		ch := &chunks[i]
		var err error
		if call.refused(ch.Exchange) {
			err = ErrAgain
		} else if err = call.write(ch); err == ErrAgain {
			call.refuse(ch.Exchange)
		}
		if results != nil {
			results[i] = err
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// streamCall is one StreamWrite call: its deadline for room and the
// exchanges refused with ErrAgain so far.
type streamCall struct {
	a        *App
	timeout  time.Duration
	deadline time.Time // set at the first wait when timeout > 0
	timer    *time.Timer
	nAgain   int
	again    [4]uint64 // the first exchanges refused, so a call allocates nothing
	more     []uint64  // and the rest
}

func (c *streamCall) refused(id uint64) bool {
	for _, x := range c.again[:min(c.nAgain, len(c.again))] {
		if x == id {
			return true
		}
	}
	return slices.Contains(c.more, id)
}

func (c *streamCall) refuse(id uint64) {
	if c.nAgain < len(c.again) {
		c.again[c.nAgain] = id
		c.nAgain++
		return
	}
	c.more = append(c.more, id)
}

func (c *streamCall) finish() {
	if c.timer != nil {
		c.timer.Stop()
		c.a.timers.Put(c.timer)
	}
}

// wait waits for room on a stream whose room channel is room, and reports
// false once the call's time is up.
func (c *streamCall) wait(room <-chan struct{}) bool {
	if c.timeout < 0 {
		<-room
		return true
	}
	if c.timer == nil {
		if t, ok := c.a.timers.Get().(*time.Timer); ok {
			t.Reset(c.timeout)
			c.timer = t
		} else {
			c.timer = time.NewTimer(c.timeout)
		}
	}
	select {
	case <-room:
		return true
	case <-c.timer.C:
		return false
	}
}

// write applies one chunk.
func (c *streamCall) write(ch *Chunk) error {
	a := c.a
	id := ch.Exchange
	ex, w := a.ex.lookupWrite(id)
	if w != nil {
		return c.writeWS(w, ch) // wswrite.go
	}
	if ex == nil {
		return ErrUnknownExchange
	}
	st := &ex.st
	st.mu.Lock()
	if st.id != id {
		st.mu.Unlock()
		if w := a.ex.socket(id); w != nil {
			return c.writeWS(w, ch) // wswrite.go
		}
		if _, live := a.ex.lookup(id); live {
			return errNotStream // waiting, or answered without a stream
		}
		return ErrUnknownExchange // over: an abandon queues its event first
	}
	if err := st.checkLocked(ch); err != nil {
		st.mu.Unlock()
		return err
	}
	if ch.Flags&ChunkAbort != 0 {
		st.abortLocked(GoneAborted)
		st.mu.Unlock()
		return nil
	}
	size := st.framedLen(ch)
	for st.queued > 0 && st.queued+size > st.limit {
		if c.timeout == 0 || c.timedOut() {
			st.owed = true
			st.mu.Unlock()
			return ErrAgain
		}
		st.waiters++
		st.mu.Unlock()
		roomy := c.wait(st.room)
		st.mu.Lock()
		st.waiters--
		if st.id != id || st.phase == phaseOver {
			if st.waiters > 0 {
				notify(st.room) // the others see the end too
			}
			st.mu.Unlock()
			return ErrUnknownExchange
		}
		if err := st.checkLocked(ch); err != nil { // another call ended it meanwhile
			st.mu.Unlock()
			return err
		}
		if !roomy {
			c.deadline = time.Now() // no time left for later chunks either
		}
	}
	st.appendLocked(ch, size)
	if st.waiters > 0 && st.queued < st.limit {
		notify(st.room)
	}
	st.mu.Unlock()
	notify(st.kick)
	return nil
}

// timedOut reports, for a call with a timeout, whether its time is up,
// starting the clock at the first need to wait.
func (c *streamCall) timedOut() bool {
	if c.timeout < 0 {
		return false
	}
	now := time.Now()
	if c.deadline.IsZero() {
		c.deadline = now.Add(c.timeout)
		return false
	}
	return !now.Before(c.deadline)
}

// checkLocked refuses what ch cannot be on st; on nil st is open or ending
// and ch can be applied.
func (st *stream) checkLocked(ch *Chunk) error {
	switch {
	case st.whole:
		return errNotStream
	case st.phase == phaseOver:
		return ErrUnknownExchange
	case ch.Flags&^(ChunkEnd|ChunkAbort) != 0:
		return errChunkFlags
	case ch.Code != 0:
		return errStreamCode
	case ch.Flags == ChunkEnd|ChunkAbort:
		return errEndAbort
	case ch.Flags&ChunkAbort != 0:
		if len(ch.Data) > 0 || len(ch.Event) > 0 || len(ch.ID) > 0 || ch.RetryMS != 0 {
			return errAbortData
		}
		return nil // an abort may follow a ChunkEnd whose bytes are still going out
	case st.phase == phaseEnding:
		return errStreamEnded
	case !st.sse && (len(ch.Event) > 0 || len(ch.ID) > 0 || ch.RetryMS != 0):
		return errRawFields
	case st.sse:
		return sseCheck(ch)
	case st.limited && int64(len(ch.Data)) > st.remain:
		return errPastLength
	}
	return nil
}
