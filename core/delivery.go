package core

// Delivery: an exchange belongs to the Poller that took its REQUEST.
//
// take stores the taking Poller in the exchange (exchange.owner, one word,
// under the lane's lock it already holds). Every later event of the
// exchange (EventDisconnect, EventWritten, EventStreamCredit) goes into
// that Poller's own queue, Poller.owned: the event makes the Poller's fd
// readable and wakes a poll of it blocked in take, and each poll drains
// owned before the lane's queue. So one host thread sees an exchange's
// whole life, in the order core produced it. A request taken through
// Lane.Poll or Lane.PollEach has no owner, and the events of an exchange
// whose owner was closed go to the lane's queue; Poller.Close hands the
// events it holds over to the lane, ahead of the lane's own entries, so
// their order per exchange is kept.
//
// Readiness: a Poller signalled for an owned event counts among the lane's
// signalled pollers. That keeps the lane's rule (no entry waits while every
// waiting poller sleeps): a signalled poller polls, and a poll that drains
// its owned events goes on to the lane's queue. Owned events are not
// requests to hold, so on a serial lane they pass the allowance.
//
// Which events exist at all is the producers' business: App.abandon below
// for a request that ends unanswered, and stream.go for WRITTEN answers
// and streams. Every one of them is queued before a call naming its
// exchange can answer ErrUnknownExchange (ADR 0002 §2.3, guarantee 3).

// event fills r with the event e holds. A WebSocket message counts as taken
// by a host from here on (websocket.go).
func (e *queued) event(r *Request) {
	*r = Request{Exchange: e.id, Route: e.route, Kind: uint32(e.kind), Code: uint32(e.code)}
	if m := e.msg; m != nil {
		r.Body, r.Flags = m.data, m.flags
		if m.conn != nil {
			m.conn.taken(len(m.data))
		}
	}
}

// takeOwnedLocked moves up to len(dst) of p's owned events into dst, and
// reports how many and the bytes of the WebSocket messages among them; it
// stops once those reach batchBytes, as the lane's queue does.
func (p *Poller) takeOwnedLocked(dst []queued) (int, int) {
	n, size := 0, 0
	for _, e := range p.owned[p.ownedHead:] {
		if n == len(dst) || size >= batchBytes {
			break
		}
		if e.msg != nil {
			size += len(e.msg.data)
		}
		dst[n] = e
		n++
	}
	if n == 0 {
		return 0, 0
	}
	clear(p.owned[p.ownedHead : p.ownedHead+n])
	p.ownedHead += n
	if p.ownedHead == len(p.owned) {
		p.owned = p.owned[:0]
		p.ownedHead = 0
	}
	return n, size
}

// ownedLeftLocked is how many owned events wait for p; p may be nil.
func (p *Poller) ownedLeftLocked() int {
	if p == nil {
		return 0
	}
	return len(p.owned) - p.ownedHead
}

// handOverLocked moves p's owned events to the head of the lane's queue,
// as p closes, and reports whether there were any.
func (p *Poller) handOverLocked() bool {
	l := p.lane
	rest := p.owned[p.ownedHead:]
	if len(rest) == 0 {
		return false
	}
	q := make([]queued, 0, len(rest)+len(l.q)-l.head)
	q = append(q, rest...)
	q = append(q, l.q[l.head:]...)
	l.q, l.head = q, 0
	p.owned, p.ownedHead = nil, 0
	return true
}

// deliverLocked queues an event of ex, whose REQUEST a host took, for the
// exchange's owner, or on the lane when it has none or it was closed. It
// returns the owner it queued for, or nil, and whether the event was
// queued at all (not once the lane is closed). The caller wakes them with
// l.woken once it has let go of l.mu.
func (l *Lane) deliverLocked(ex *exchange, kind uint32, code uint32, msg *wsMessage) (*Poller, bool) {
	if l.closed {
		return nil, false
	}
	e := queued{id: ex.req.Exchange, route: ex.req.Route, kind: uint8(kind), code: uint16(code), msg: msg}
	if p := ex.owner; p != nil && !p.closed {
		p.owned = append(p.owned, e)
		if p.rfd >= 0 && !p.signalled {
			l.unidleLocked(p)
			l.signalLocked(p)
		}
		return p, true
	}
	l.q = append(l.q, e)
	l.wakeLocked()
	if l.serial != nil {
		l.armStallLocked(l.serial.now())
	}
	return nil, true
}

// woken wakes a poll blocked in take for what deliverLocked queued: the
// owner's, or any poller's for an event on the lane.
func (l *Lane) woken(owner *Poller, queued bool) {
	switch {
	case !queued:
	case owner != nil:
		select {
		case owner.wake <- struct{}{}:
		default:
		}
	default:
		l.signal()
	}
}

// deliver is deliverLocked for a caller that does not hold l.mu.
func (l *Lane) deliver(ex *exchange, kind, code uint32) {
	l.deliverMessage(ex, kind, code, nil)
}

// deliverMessage is deliver for an event that carries a WebSocket message
// or close reason; it reports whether the event was queued.
func (l *Lane) deliverMessage(ex *exchange, kind, code uint32, msg *wsMessage) bool {
	l.mu.Lock()
	owner, ok := l.deliverLocked(ex, kind, code, msg)
	l.mu.Unlock()
	l.woken(owner, ok)
	return ok
}

// abandon ends the waiting exchange ex, which no answer will reach (its
// request_timeout passed, the app stops, or its client left; code says
// which, as a Gone* reason). It reports false when a Respond claimed ex
// first; the caller must then wait for done. Otherwise it reports whether
// ex was still queued, untaken. Once it returns true no poller is reading
// ex.req.
//
// A route that asked for "disconnect" gets an EventDisconnect with code,
// but only for a request a host has seen: handed out by Poll, or pinned by
// PollEach (a PollEach that could not pin it skips it, and its host never
// hears of it). The state change, the removal and the event happen under
// the slab's lock, so a Respond that fails for ex finds its event queued.
func (a *App) abandon(ex *exchange, code uint32) (ok, wasQueued bool) {
	lane := ex.rt.lane
	t := &a.ex
	if ex.rt.events&eventDisconnect == 0 {
		if !t.abandon(ex) {
			return false, false
		}
		return true, lane.remove(ex)
	}
	t.mu.Lock()
	if ex.state != stateWaiting {
		t.mu.Unlock()
		return false, false
	}
	ex.state = stateAbandoned
	lane.mu.Lock()
	wasQueued = lane.removeLocked(ex)
	var owner *Poller
	var queued bool
	if !wasQueued && (ex.seen || ex.handed) {
		owner, queued = lane.deliverLocked(ex, EventDisconnect, code, nil)
	}
	lane.mu.Unlock()
	t.mu.Unlock()
	lane.woken(owner, queued)
	ex.pins.Wait()
	return true, wasQueued
}
