package main

/*
#include "shim.h"
*/
import "C"

import (
	"time"
	"unsafe"

	"github.com/spikard/spikard/core"
)

// arena is the poller's one C buffer. Events point into it, so C may keep
// those pointers after the poll returns (it could not keep Go pointers).
// It only grows, and each poll overwrites it: spikard.h promises event
// memory only until the next poll.
type arena struct {
	base unsafe.Pointer // C.malloc'ed; nil until first used
	size int
	used int
}

// put appends b, growing the buffer (contents kept) as needed, and returns
// b's offset. Offsets, not pointers, are recorded while a batch is copied,
// because growing may move the buffer.
func (a *arena) put(b []byte) int {
	off := a.used
	a.grow(len(b))
	if len(b) > 0 {
		copy(unsafe.Slice((*byte)(a.base), a.size)[off:], b)
	}
	return off
}

// grow reserves n more bytes at the end, contents unspecified.
func (a *arena) grow(n int) {
	if need := a.used + n; need > a.size {
		size := max(need, 2*a.size, 4096)
		a.base = C.realloc(a.base, C.size_t(size)) // cgo's allocators abort rather than return NULL
		a.size = size
	}
	a.used += n
}

// align pads the used length to a multiple of n.
func (a *arena) align(n int) {
	var zeros [16]byte
	if pad := (n - a.used%n) % n; pad > 0 {
		a.put(zeros[:pad])
	}
}

func (a *arena) free() {
	C.free(a.base)
	a.base, a.size, a.used = nil, 0, 0
}

// span is a byte string's place in the arena while a batch is copied.
type span struct{ off, len int }

// copied is one event as offsets into the arena.
type copied struct {
	exchange                          uint64
	kind, route                       uint32
	method, path, query, params, body span
	attachments                       span
	headers, headerCount              int // index into poller.hdrs
}

// poll takes a batch of up to want events from the lane and lays it out in
// events and the arena; events holds min(want, core.MaxBatch), all that one
// poll takes. It copies through Poller.PollEach, which keeps each request
// from being recycled (timeout, client gone) while it is read.
func (pl *poller) poll(events []C.spikard_event, want int, timeout time.Duration) (int, error) {
	pl.buf.used = 0
	pl.buf.grow(1) // so that even an all-empty batch has a buffer to point into
	pl.evs = pl.evs[:0]
	pl.hdrs = pl.hdrs[:0]
	if _, err := pl.core.PollEach(want, timeout, pl.copyFn); len(pl.evs) == 0 {
		return 0, err
	}
	// Header structs go last, aligned, once the byte strings are in place.
	pl.buf.align(int(unsafe.Alignof(C.spikard_header{})))
	hoff := pl.buf.used
	hsize := int(unsafe.Sizeof(C.spikard_header{}))
	pl.buf.grow(len(pl.hdrs) * hsize)
	base := pl.buf.base
	str := func(s span) C.spikard_str {
		return C.spikard_str{ptr: (*C.char)(unsafe.Add(base, s.off)), len: C.size_t(s.len)}
	}
	var hdrs []C.spikard_header
	if len(pl.hdrs) > 0 {
		hdrs = unsafe.Slice((*C.spikard_header)(unsafe.Add(base, hoff)), len(pl.hdrs))
		for i, h := range pl.hdrs {
			hdrs[i] = C.spikard_header{name: str(h[0]), value: str(h[1])}
		}
	}
	for i, c := range pl.evs {
		ev := &events[i]
		ev.exchange = C.uint64_t(c.exchange)
		ev.kind = C.uint32_t(c.kind)
		ev.route = C.uint32_t(c.route)
		ev.method = str(c.method)
		ev.path = str(c.path)
		ev.query = str(c.query)
		ev.params = str(c.params)
		ev.body = str(c.body)
		ev.attachments = str(c.attachments)
		ev.headers = nil
		ev.header_count = C.size_t(c.headerCount)
		if c.headerCount > 0 {
			ev.headers = &hdrs[c.headers]
		}
	}
	return len(pl.evs), nil
}

// copyRequest is PollEach's callback: it copies one request into the arena
// as offsets. Bound once per poller (copyFn) so a poll allocates no closure.
func (pl *poller) copyRequest(r *core.Request) {
	put := func(b []byte) span { return span{pl.buf.put(b), len(b)} }
	c := copied{
		exchange: r.Exchange, kind: r.Kind, route: uint32(r.Route),
		method: put(r.Method), path: put(r.Path), query: put(r.Query),
		params: put(r.Params), body: put(r.Body), attachments: put(r.Attachments),
		headers: len(pl.hdrs), headerCount: len(r.Headers),
	}
	for _, h := range r.Headers {
		pl.hdrs = append(pl.hdrs, [2]span{put(h.Name), put(h.Value)})
	}
	pl.evs = append(pl.evs, c)
}

// core's event kinds are spikard.h's, so Kind crosses unchanged; these stop
// compiling if the two ever drift apart.
var (
	_ [0]struct{} = [core.EventRequest - C.SPIKARD_EVENT_REQUEST]struct{}{}
	_ [0]struct{} = [core.EventDisconnect - C.SPIKARD_EVENT_DISCONNECT]struct{}{}
)

// timeoutOf converts spikard.h's milliseconds (negative: forever) to Poll's.
func timeoutOf(ms C.int) time.Duration {
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}
