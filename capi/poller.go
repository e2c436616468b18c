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

// list is a run of pairs (or upload pointers) in poller.pairs or
// poller.strs while a batch is copied.
type list struct{ at, n int }

// copied is one event as offsets into the arena.
type copied struct {
	exchange                          uint64
	kind, route, code, flags          uint32
	method, path, query, params, body span
	attachments                       span
	headers, cookies, queryPairs      list // runs of poller.pairs
	uploads                           list // a run of poller.strs
}

// eventArray is the host's event array: n elements, stride bytes apart (the
// event_size it passed, by spikard.h's GROWTH rule).
type eventArray struct {
	base   unsafe.Pointer
	stride uintptr
	n      int
}

// ownEventSize is the size of the event record this library writes.
const ownEventSize = unsafe.Sizeof(C.spikard_event_lib{})

// poll takes a batch of up to want events from the lane and lays it out in
// dst and the arena; dst holds min(want, core.MaxBatch), all that one poll
// takes. It copies through Poller.PollEach, which keeps each request from
// being recycled (timeout, client gone) while it is read.
func (pl *poller) poll(dst eventArray, want int, timeout time.Duration) (int, error) {
	pl.buf.used = 0
	pl.buf.grow(1) // so that even an all-empty batch has a buffer to point into
	pl.evs = pl.evs[:0]
	pl.pairs = pl.pairs[:0]
	pl.strs = pl.strs[:0]
	if _, err := pl.core.PollEach(want, timeout, pl.copyFn); len(pl.evs) == 0 {
		return 0, err
	}
	// The pair and pointer arrays go last, aligned, once the byte strings
	// are in place.
	pl.buf.align(int(unsafe.Alignof(C.spikard_pair{})))
	poff := pl.buf.used
	pl.buf.grow(len(pl.pairs) * int(unsafe.Sizeof(C.spikard_pair{})))
	soff := pl.buf.used
	pl.buf.grow(len(pl.strs) * int(unsafe.Sizeof(C.spikard_str{})))
	base := pl.buf.base
	str := func(s span) C.spikard_str {
		return C.spikard_str{ptr: (*C.char)(unsafe.Add(base, s.off)), len: C.size_t(s.len)}
	}
	var pairs []C.spikard_pair
	if len(pl.pairs) > 0 {
		pairs = unsafe.Slice((*C.spikard_pair)(unsafe.Add(base, poff)), len(pl.pairs))
		for i, h := range pl.pairs {
			pairs[i] = C.spikard_pair{name: str(h[0]), value: str(h[1])}
		}
	}
	var strs []C.spikard_str
	if len(pl.strs) > 0 {
		strs = unsafe.Slice((*C.spikard_str)(unsafe.Add(base, soff)), len(pl.strs))
		for i, s := range pl.strs {
			strs[i] = str(s)
		}
	}
	pairsAt := func(l list) (*C.spikard_pair, C.size_t) {
		if l.n == 0 {
			return nil, 0
		}
		return &pairs[l.at], C.size_t(l.n)
	}
	var scratch C.spikard_event_lib // for a host compiled against an older minor
	for i, c := range pl.evs {
		slot := unsafe.Add(dst.base, uintptr(i)*dst.stride)
		rec := &scratch
		if dst.stride >= ownEventSize {
			rec = (*C.spikard_event_lib)(slot)
		}
		ev := &rec.base
		ev.exchange = C.uint64_t(c.exchange)
		ev.kind = C.uint32_t(c.kind)
		ev.route = C.uint32_t(c.route)
		ev.code = C.uint32_t(c.code)
		ev.flags = C.uint32_t(c.flags)
		ev.method = str(c.method)
		ev.path = str(c.path)
		ev.query = str(c.query)
		ev.params = str(c.params)
		ev.body = str(c.body)
		ev.attachments = str(c.attachments)
		ev.headers, ev.header_count = pairsAt(c.headers)
		ev.cookies, ev.cookie_count = pairsAt(c.cookies)
		ev.query_pairs, ev.query_pair_count = pairsAt(c.queryPairs)
		ev.uploads, ev.upload_count = nil, C.size_t(c.uploads.n)
		if c.uploads.n > 0 {
			ev.uploads = &strs[c.uploads.at]
		}
		fillNext(rec)
		switch {
		case dst.stride > ownEventSize:
			// A host of a later minor: its fields we do not know are absent.
			clear(unsafe.Slice((*byte)(unsafe.Add(slot, ownEventSize)), dst.stride-ownEventSize))
		case dst.stride < ownEventSize:
			copy(unsafe.Slice((*byte)(slot), dst.stride), unsafe.Slice((*byte)(unsafe.Pointer(rec)), dst.stride))
		}
	}
	return len(pl.evs), nil
}

// copyRequest is PollEach's callback: it copies one request into the arena
// as offsets. Bound once per poller (copyFn) so a poll allocates no closure.
func (pl *poller) copyRequest(r *core.Request) {
	put := func(b []byte) span { return span{pl.buf.put(b), len(b)} }
	putPairs := func(hs []core.Header) list {
		l := list{len(pl.pairs), len(hs)}
		for _, h := range hs {
			pl.pairs = append(pl.pairs, [2]span{put(h.Name), put(h.Value)})
		}
		return l
	}
	c := copied{
		exchange: r.Exchange, kind: r.Kind, route: uint32(r.Route), code: r.Code, flags: r.Flags,
		method: put(r.Method), path: put(r.Path), query: put(r.Query),
		params: put(r.Params), body: put(r.Body), attachments: put(r.Attachments),
	}
	c.headers = putPairs(r.Headers)
	c.cookies = putPairs(r.Cookies)
	c.queryPairs = putPairs(r.QueryPairs)
	c.uploads = list{len(pl.strs), len(r.Uploads)}
	for _, u := range r.Uploads {
		pl.strs = append(pl.strs, put(u))
	}
	pl.evs = append(pl.evs, c)
}

// core's event kinds and codes are spikard.h's, so they cross unchanged;
// these stop compiling if the two ever drift apart.
var (
	_ [0]struct{} = [core.EventRequest - C.SPIKARD_EVENT_REQUEST]struct{}{}
	_ [0]struct{} = [core.EventDisconnect - C.SPIKARD_EVENT_DISCONNECT]struct{}{}
	_ [0]struct{} = [core.EventWritten - C.SPIKARD_EVENT_WRITTEN]struct{}{}
	_ [0]struct{} = [core.EventStreamCredit - C.SPIKARD_EVENT_STREAM_CREDIT]struct{}{}
	_ [0]struct{} = [core.EventWSOpen - C.SPIKARD_EVENT_WS_OPEN]struct{}{}
	_ [0]struct{} = [core.EventWSMessage - C.SPIKARD_EVENT_WS_MESSAGE]struct{}{}
	_ [0]struct{} = [core.EventWSClose - C.SPIKARD_EVENT_WS_CLOSE]struct{}{}
	_ [0]struct{} = [core.EventLog - C.SPIKARD_EVENT_LOG]struct{}{}
	_ [0]struct{} = [core.EventFBinary - C.SPIKARD_EVENT_F_BINARY]struct{}{}
	_ [0]struct{} = [core.ResponseWSAccept - C.SPIKARD_RESPONSE_WS_ACCEPT]struct{}{}
	_ [0]struct{} = [core.ChunkWSBinary - C.SPIKARD_CHUNK_WS_BINARY]struct{}{}
	_ [0]struct{} = [core.ChunkWSClose - C.SPIKARD_CHUNK_WS_CLOSE]struct{}{}
	_ [0]struct{} = [core.GoneClient - C.SPIKARD_GONE_CLIENT]struct{}{}
	_ [0]struct{} = [core.GoneTimeout - C.SPIKARD_GONE_TIMEOUT]struct{}{}
	_ [0]struct{} = [core.GoneStopping - C.SPIKARD_GONE_STOPPING]struct{}{}
	_ [0]struct{} = [core.GoneStalled - C.SPIKARD_GONE_STALLED]struct{}{}
	_ [0]struct{} = [core.GoneAborted - C.SPIKARD_GONE_ABORTED]struct{}{}
	_ [0]struct{} = [core.ResponseStream - C.SPIKARD_RESPONSE_STREAM]struct{}{}
	_ [0]struct{} = [core.ResponseSSE - C.SPIKARD_RESPONSE_SSE]struct{}{}
	_ [0]struct{} = [core.ResponseWritten - C.SPIKARD_RESPONSE_WRITTEN]struct{}{}
	_ [0]struct{} = [core.ChunkEnd - C.SPIKARD_CHUNK_END]struct{}{}
	_ [0]struct{} = [core.ChunkAbort - C.SPIKARD_CHUNK_ABORT]struct{}{}
)

// timeoutOf converts spikard.h's milliseconds (negative: forever) to Poll's.
func timeoutOf(ms C.int) time.Duration {
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}
