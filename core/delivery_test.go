package core

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// TestOwnerDelivery: the events of an exchange go to the poller that took
// its REQUEST: only that poller's fd becomes readable, they come in the
// order produced, and before the lane's requests.
func TestOwnerDelivery(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	pls, fds := readyPollers(t, l, 2)
	fakeExchanges(t, &slab, l, 1, 0)
	var one [1]*Request
	if n, _ := pls[0].Poll(one[:], 0); n != 1 {
		t.Fatal("the request was not taken")
	}
	ex := slab.slots[0]
	ex.req.Exchange = ex.id()
	if n, _ := pls[1].Poll(one[:], 0); n != 0 { // spends its wake-up for the request
		t.Fatal("a second poller took something")
	}
	if c := count(pollReadable(t, fds, 0)); c != 0 {
		t.Fatalf("%d fds readable with nothing queued", c)
	}
	l.deliver(ex, EventStreamCredit, 0)
	l.deliver(ex, EventDisconnect, GoneClient)
	if ready := pollReadable(t, fds, 0); !ready[0] || ready[1] {
		t.Fatalf("readable %v, want only the owner's", ready)
	}
	if err := l.checkReadiness(); err != nil {
		t.Fatal(err)
	}
	if n, _ := pls[1].Poll(one[:], 0); n != 0 {
		t.Fatal("another poller got the owner's event")
	}
	fakeExchanges(t, &slab, l, 1, 0) // a request on the lane, queued after the events
	var batch [8]*Request
	n, _ := pls[0].Poll(batch[:], 0)
	if n != 3 || batch[0].Kind != EventStreamCredit || batch[1].Kind != EventDisconnect || batch[1].Code != GoneClient ||
		batch[0].Exchange != ex.id() || batch[2] != &slab.slots[1].req {
		t.Fatalf("owner's poll: %d entries %+v %+v", n, batch[0], batch[1])
	}
	if pollReadable(t, fds[:1], 0)[0] {
		t.Fatal("the owner's fd is readable after it drained its events")
	}
}

// TestOwnerClosed: the events an owner held when it closed, and the later
// ones, go to the lane, in order; a request taken with no Poller has no
// owner either.
func TestOwnerClosed(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	pls, fds := readyPollers(t, l, 2)
	fakeExchanges(t, &slab, l, 2, 0)
	var one [1]*Request
	pls[0].Poll(one[:], 0)
	owned := slab.slots[0]
	owned.req.Exchange = owned.id()
	l.Poll(one[:], 0) // no owner
	unowned := slab.slots[1]
	unowned.req.Exchange = unowned.id()
	pls[1].Poll(one[:], 0)

	l.deliver(owned, EventStreamCredit, 0)
	pls[0].Close()
	l.deliver(owned, EventWritten, 0)
	l.deliver(unowned, EventWritten, 0)
	if !pollReadable(t, fds[1:], 0)[0] {
		t.Fatal("the lane's remaining poller was not woken for the handed-over events")
	}
	var batch [8]*Request
	n, _ := pls[1].Poll(batch[:], 0)
	if n != 3 || batch[0].Kind != EventStreamCredit || batch[0].Exchange != owned.id() ||
		batch[1].Kind != EventWritten || batch[1].Exchange != owned.id() || batch[2].Exchange != unowned.id() {
		t.Fatalf("after the owner closed: %d entries", n)
	}
}

// TestOwnerReadyFDLater: a poller that owns a pending event when it first
// asks for its fd gets a readable fd.
func TestOwnerReadyFDLater(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	pl := l.NewPoller()
	t.Cleanup(pl.Close)
	fakeExchanges(t, &slab, l, 1, 0)
	var one [1]*Request
	if n, _ := pl.Poll(one[:], 0); n != 1 {
		t.Fatal("no request")
	}
	ex := slab.slots[0]
	ex.req.Exchange = ex.id()
	l.deliver(ex, EventWritten, 0)
	fd, err := pl.ReadyFD()
	if err != nil {
		t.Fatal(err)
	}
	if !pollReadable(t, []int{fd}, 0)[0] {
		t.Fatal("the fd of a poller with an owned event is not readable")
	}
	if n, _ := pl.Poll(one[:], 0); n != 1 || one[0].Kind != EventWritten {
		t.Fatal("the owned event")
	}
	if err := l.checkReadiness(); err != nil {
		t.Fatal(err)
	}
}

// TestOwnerBlockingPoll: a poll of the owner blocked in Poll wakes for its
// event, and a poll of the lane blocked meanwhile does not get it.
func TestOwnerBlockingPoll(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	owner := l.NewPoller()
	fakeExchanges(t, &slab, l, 1, 0)
	var one [1]*Request
	if n, _ := owner.Poll(one[:], 0); n != 1 {
		t.Fatal("no request")
	}
	ex := slab.slots[0]
	ex.req.Exchange = ex.id()
	parked := make(chan struct{}, 16)
	hook := func() {
		select {
		case parked <- struct{}{}:
		default:
		}
	}
	testHookPollWaits.Store(&hook)
	defer testHookPollWaits.Store(nil)
	got := make(chan *Request, 2)
	for _, poll := range []func([]*Request, time.Duration) (int, error){owner.Poll, l.Poll} {
		go func() {
			var b [1]*Request
			if n, _ := poll(b[:], wireWait); n == 1 {
				got <- b[0]
			} else {
				got <- nil
			}
		}()
	}
	<-parked
	<-parked
	l.deliver(ex, EventWritten, 0)
	first := <-got
	if first == nil || first.Kind != EventWritten {
		t.Fatalf("first poll to return got %+v, want the owner's WRITTEN", first)
	}
	fakeExchanges(t, &slab, l, 1, 0) // for the lane's poll
	if second := <-got; second != &slab.slots[1].req {
		t.Fatalf("the lane's poll got %+v", second)
	}
}

// TestOwnedEventsPassSerialAllowance: on a serial lane whose one allowed
// request is held, the holder's owned event still comes, and the queued
// request still waits.
func TestOwnedEventsPassSerialAllowance(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	l.serial = newSerialLane(time.Hour)
	pls, fds := readyPollers(t, l, 2)
	exs := pushHeld(t, &slab, l, 2)
	var one [1]*Request
	if n, _ := pls[1].Poll(one[:], 0); n != 1 || one[0] != &exs[0].req {
		t.Fatal("the first request was not taken")
	}
	exs[0].req.Exchange = exs[0].id()
	l.deliver(exs[0], EventStreamCredit, 0)
	if ready := pollReadable(t, fds, 0); !ready[1] || ready[0] {
		t.Fatalf("readable %v, want the holder's alone", ready)
	}
	var batch [4]*Request
	n, _ := pls[1].Poll(batch[:], 0)
	if n != 1 || batch[0].Kind != EventStreamCredit {
		t.Fatalf("holder's poll took %d", n)
	}
	if n, _ := pls[0].Poll(batch[:], 0); n != 0 {
		t.Fatal("the held lane let a second request in")
	}
	// The holder closes with an event pending: handed to the lane, it
	// passes the allowance there too, and the request still waits.
	l.deliver(exs[0], EventWritten, 0)
	pls[1].Close()
	if !pollReadable(t, fds[:1], 0)[0] {
		t.Fatal("the handed-over event woke no poller")
	}
	n, _ = pls[0].Poll(batch[:], 0)
	if n != 1 || batch[0].Kind != EventWritten || batch[0].Exchange != exs[0].id() {
		t.Fatalf("after the hand-over: took %d", n)
	}
}

// disconnectApp starts an app whose lane 0 route asked for disconnects and
// whose lane 1 route did not, with a short request_timeout.
func disconnectApp(t *testing.T) (*App, string) {
	return startApp(t, func(c *Config) { c.RequestTimeout = 300 * time.Millisecond },
		RouteSpec{Method: "GET", Path: "/d", Events: []string{"disconnect"}},
		RouteSpec{Method: "GET", Path: "/q", Lane: 1})
}

// TestDisconnectCodes: a route that asked for "disconnect" hears, at the
// poller that took the request, why it ended: client gone, timeout (core
// answered 408) or stop (503). Respond then fails, with the event queued.
func TestDisconnectCodes(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		a, base := disconnectApp(t)
		pl := a.Lane(0).NewPoller()
		defer pl.Close()
		c := dialRaw(t, base, 0)
		c.send("GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
		id := takeRequest(t, pl).Exchange
		c.conn.Close()
		wantEvent(t, nextEvent(t, pl), EventDisconnect, GoneClient, id)
		if err := a.Respond(id, Response{Status: 200}); !errors.Is(err, ErrUnknownExchange) {
			t.Fatalf("respond after the disconnect: %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		a, base := disconnectApp(t)
		pl := a.Lane(0).NewPoller()
		defer pl.Close()
		res := make(chan result, 1)
		go func() { res <- get(t, base+"/d") }()
		id := takeRequest(t, pl).Exchange
		// Spin until the exchange is gone: ErrUnknownExchange must never
		// come before its DISCONNECT is queued (guarantee 3). StreamWrite
		// names the exchange without answering it.
		for {
			err := a.StreamWrite([]Chunk{{Exchange: id}}, nil, 0)
			if errors.Is(err, ErrUnknownExchange) {
				break
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("StreamWrite on a waiting exchange: %v", err)
			}
			runtime.Gosched()
		}
		var ev Request
		if n, _ := pl.PollEach(1, 0, func(r *Request) { ev = *r }); n != 1 {
			t.Fatal("the exchange was gone before its DISCONNECT was queued")
		}
		wantEvent(t, ev, EventDisconnect, GoneTimeout, id)
		if r := <-res; r.status != 408 {
			t.Fatalf("client got %d", r.status)
		}
	})
	t.Run("stopping", func(t *testing.T) {
		a, base := disconnectApp(t)
		pl := a.Lane(0).NewPoller()
		defer pl.Close()
		res := make(chan result, 1)
		go func() { res <- get(t, base+"/d") }()
		id := takeRequest(t, pl).Exchange
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if r := <-res; r.status != 503 {
			t.Fatalf("client got %d", r.status)
		}
		evs := drainUntilClosed(t, pl) // the lane closed only after the event was queued
		if len(evs) != 1 {
			t.Fatalf("events %+v, want one DISCONNECT", evs)
		}
		wantEvent(t, evs[0], EventDisconnect, GoneStopping, id)
	})
}

// TestDisconnectOptIn: a route that did not ask for "disconnect" gets no
// event when its client leaves, times out or is stopped; and no route gets
// one for a request no host had taken.
func TestDisconnectOptIn(t *testing.T) {
	a, base := disconnectApp(t)
	quiet := a.Lane(1).NewPoller()
	defer quiet.Close()
	loud := a.Lane(0).NewPoller()
	defer loud.Close()

	// Lane 1, client gone.
	c := dialRaw(t, base, 0)
	c.send("GET /q HTTP/1.1\r\nHost: x\r\n\r\n")
	gone := takeRequest(t, quiet).Exchange
	c.conn.Close()
	waitFor(t, "the exchange to end", func() bool { _, live := a.ex.lookup(gone); return !live })
	// Lane 1, timeout.
	if r := get(t, base+"/q"); r.status != 408 { // nobody takes it: never seen
		t.Fatalf("untaken request: %d", r.status)
	}
	res := make(chan result, 1)
	go func() { res <- get(t, base+"/q") }()
	takeRequest(t, quiet)
	if r := <-res; r.status != 408 {
		t.Fatalf("taken request: %d", r.status)
	}
	// Lane 0 asked, but its client leaves before any host takes it.
	c = dialRaw(t, base, 0)
	c.send("GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
	l := a.Lane(0)
	waitFor(t, "the request to queue", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return len(l.q) > l.head })
	c.conn.Close()
	waitFor(t, "the request to leave the queue", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return len(l.q) == l.head })
	// Lane 1 again, stopped.
	go func() { res <- get(t, base+"/q") }()
	takeRequest(t, quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.status != 503 {
		t.Fatalf("stopped request: %d", r.status)
	}
	for _, pl := range []*Poller{quiet, loud} {
		if evs := drainUntilClosed(t, pl); len(evs) != 0 {
			t.Fatalf("events nobody asked for: %+v", evs)
		}
	}
}
