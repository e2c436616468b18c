package core

import (
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/request"
	"github.com/spikard/spikard/core/route"
)

// Exchange states, guarded by exchanges.mu.
const (
	stateFree      uint8 = iota // in the free list
	stateRunning                // owned by its Hertz goroutine, not answerable
	stateWaiting                // queued or handed to a host: Respond may claim it
	stateAnswered               // claimed by Respond; the Hertz goroutine waits for done, then writes a WRITTEN answer or a stream
	stateAbandoned              // timed out, client gone or shut down
)

// exchange is one request in flight. Exchanges are pooled in a slab and
// reused, together with their buffers, so a steady load allocates nothing
// per request. Fields other than gen and state belong to the Hertz
// goroutine serving the request, except while a Respond that claimed it
// writes the response (the Hertz goroutine is then blocked on done).
type exchange struct {
	slot  uint32
	gen   uint32 // bumped on release so stale ids miss
	state uint8

	req     Request
	c       *app.RequestContext
	rt      *compiledRoute
	head    bool // HEAD served by a GET route: send no body
	done    chan struct{}
	pins    sync.WaitGroup // PollEach callbacks reading req; abandon and await wait them out
	timer   *time.Timer
	queued  bool    // guarded by the lane's mu
	owner   *Poller // the Poller that took the REQUEST, or nil; guarded by the lane's mu (delivery.go)
	handed  bool    // the REQUEST was handed out by Poll, unpinned; guarded by the lane's mu
	seen    bool    // PollEach pinned the REQUEST for its callback; guarded by exchanges.mu
	answer  uint8   // answer* kind Respond chose; written before done is signalled
	caps    route.Captures
	path    []byte
	params  []byte
	body    []byte
	names   []byte // lower-cased header names
	lens    []int  // header name lengths while collecting
	headers []Header
	errs    []problem.Entry
	scratch request.Scratch
	form    request.FormScratch // form and multipart decoding
	out     []byte              // problem documents
	facts   factScratch         // cookies, query pairs and upload pointers (see facts.go)
	// requestID is the request's id (requestid.go), set as serveHTTP
	// begins when ids are on; the answer and the host's headers carry it.
	// It is also the access line's (accesslog.go); empty: none.
	requestID []byte
	claims    []byte // the verified JWT payload of a guarded route (guard.go)

	hk hookState // lifecycle visits (hooks.go)

	ws *wsConn // the WebSocket this exchange became, from its ResponseWSAccept; guarded by exchanges.mu (websocket.go)

	st stream // a WRITTEN answer or a stream being written (stream.go); last, away from the hot fields
}

func (ex *exchange) id() uint64 { return uint64(ex.gen)<<32 | uint64(ex.slot+1) }

// PathParam, Query, Header and Cookie make an exchange the request.Input
// of its own parameter extraction.
func (ex *exchange) PathParam(i int) []byte {
	if i >= ex.caps.N {
		return nil
	}
	s := ex.caps.Spans[i]
	return ex.path[s.Start:s.End:s.End]
}

func (ex *exchange) Query() []byte { return ex.c.Request.URI().QueryString() }

func (ex *exchange) Header(name string) []byte { return ex.c.Request.Header.Peek(name) }

func (ex *exchange) Cookie(name string) []byte { return ex.c.Request.Header.Cookie(name) }

// exchanges is the slab of exchanges and the map from ids to them: an id
// is (generation << 32 | slot+1), so lookup is an index and a generation
// compare under one short mutex, and an id is never 0.
type exchanges struct {
	mu    sync.Mutex
	slots []*exchange
	free  []uint32
}

// acquire returns an exchange in stateRunning.
func (t *exchanges) acquire() *exchange {
	t.mu.Lock()
	var ex *exchange
	if n := len(t.free); n > 0 {
		ex = t.slots[t.free[n-1]]
		t.free = t.free[:n-1]
	} else {
		ex = &exchange{slot: uint32(len(t.slots)), gen: 1, done: make(chan struct{}, 1)}
		t.slots = append(t.slots, ex)
	}
	ex.state = stateRunning
	t.mu.Unlock()
	return ex
}

// release returns ex to the free list and invalidates its id.
func (t *exchanges) release(ex *exchange) {
	ex.c = nil
	ex.rt = nil
	ex.req = Request{}
	ex.requestID = ex.requestID[:0]
	t.mu.Lock()
	ex.gen++
	if ex.gen == 0 {
		ex.gen = 1
	}
	if ex.answer != answerPlain {
		// After the id is dead, so that a StreamWrite finds either the
		// stream over or the exchange gone, never a live one without it.
		ex.st.forget()
		ex.answer = answerPlain
	}
	ex.seen = false
	ex.hk.reset()
	ex.state = stateFree
	t.free = append(t.free, ex.slot)
	t.mu.Unlock()
}

// setWaiting makes ex answerable.
func (t *exchanges) setWaiting(ex *exchange) {
	t.mu.Lock()
	ex.state = stateWaiting
	t.mu.Unlock()
}

// claim moves the waiting exchange id to stateAnswered and returns it, or
// nil when id is not waiting.
func (t *exchanges) claim(id uint64) *exchange {
	slot := uint32(id) - 1
	gen := uint32(id >> 32)
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == 0 || int(slot) >= len(t.slots) {
		return nil
	}
	ex := t.slots[slot]
	if ex.gen != gen || ex.state != stateWaiting {
		return nil
	}
	ex.state = stateAnswered
	return ex
}

// abandon moves ex from stateWaiting to stateAbandoned. It reports false
// when a Respond claimed it first; the caller must then wait for done.
// Once it returns true no poller is reading ex.req.
func (t *exchanges) abandon(ex *exchange) bool {
	t.mu.Lock()
	if ex.state != stateWaiting {
		t.mu.Unlock()
		return false
	}
	ex.state = stateAbandoned
	t.mu.Unlock()
	// No pin can start now (pin requires stateWaiting); wait for those
	// running.
	ex.pins.Wait()
	return true
}

// pin marks ex as being read by a poller if it is still the waiting
// exchange id. The caller calls ex.pins.Done when finished.
func (t *exchanges) pin(ex *exchange, id uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ex.id() != id || ex.state != stateWaiting {
		return false
	}
	ex.pins.Add(1)
	ex.seen = true
	return true
}

// lookup returns the exchange id names until it is released, or nil, and
// whether it is live: not released and not abandoned.
func (t *exchanges) lookup(id uint64) (*exchange, bool) {
	slot := uint32(id) - 1
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == 0 || int(slot) >= len(t.slots) {
		return nil, false
	}
	ex := t.slots[slot]
	if ex.gen != uint32(id>>32) || ex.state == stateFree {
		return nil, false
	}
	return ex, ex.state != stateAbandoned
}
