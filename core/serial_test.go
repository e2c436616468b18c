package core

import (
	"testing"
	"time"
)

// pushHeld queues n fake exchanges on l and returns them.
func pushHeld(t *testing.T, slab *exchanges, l *Lane, n int) []*exchange {
	t.Helper()
	exs := make([]*exchange, n)
	for i := range exs {
		ex := slab.acquire()
		slab.setWaiting(ex)
		if err := l.push(ex, ex.id()); err != nil {
			t.Fatal(err)
		}
		exs[i] = ex
	}
	return exs
}

// TestSerialLaneOneAtATime: on a serial lane a pool of pollers holds one
// request at a time. Queued requests wake one poller; while it holds a
// request the others get none and are not woken; once it answers, it takes
// the next itself (it is busy, so nobody else is woken for it).
func TestSerialLaneOneAtATime(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	l.serial = newSerialLane(time.Hour)
	pls, fds := readyPollers(t, l, 4)
	exs := pushHeld(t, &slab, l, 3)
	ready := pollReadable(t, fds, 0)
	if count(ready) != 1 || !ready[3] {
		t.Fatalf("3 queued on a serial lane: readable %v, want only the most recently idle poller", ready)
	}
	var one [1]*Request
	if n, _ := pls[3].Poll(one[:], 0); n != 1 || one[0] != &exs[0].req {
		t.Fatalf("the woken poller took %d", n)
	}
	for i := range 3 {
		if n, _ := pls[i].Poll(one[:], 0); n != 0 {
			t.Fatalf("poller %d took a request while another is held", i)
		}
	}
	if c := count(pollReadable(t, fds, 0)); c != 0 {
		t.Fatalf("%d fds readable while the only allowed request is held", c)
	}
	for i := 1; i < 3; i++ {
		l.unholdRequest(exs[i-1])
		if c := count(pollReadable(t, fds, 0)); c != 0 {
			t.Fatalf("an answer woke %d pollers though the busy one comes back", c)
		}
		if n, _ := pls[3].Poll(one[:], 0); n != 1 || one[0] != &exs[i].req {
			t.Fatalf("after answering, the busy poller took %d", n)
		}
	}
	l.unholdRequest(exs[2])
	if n, _ := pls[3].Poll(one[:], 0); n != 0 {
		t.Fatal("took from an empty lane")
	}
	// All idle again: the next request wakes exactly one poller.
	pushHeld(t, &slab, l, 2)
	if ready := pollReadable(t, fds, 0); count(ready) != 1 || !ready[3] {
		t.Fatalf("after draining: readable %v, want one", ready)
	}
}

// TestSerialLaneStall: a request held past stall_after lets one more in;
// the stall timer wakes an idle poller for it, since the busy one is the
// one held up.
func TestSerialLaneStall(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	l.serial = newSerialLane(20 * time.Millisecond)
	pls, fds := readyPollers(t, l, 3)
	exs := pushHeld(t, &slab, l, 3)
	var one [1]*Request
	if n, _ := pls[2].Poll(one[:], 0); n != 1 {
		t.Fatal("first request not taken")
	}
	// pls[2] now hangs in its handler. Within the stall a poller is woken.
	waitReadableCount(t, fds[:2], 1)
	woken := 1
	if pollReadable(t, fds[:1], 0)[0] {
		woken = 0
	}
	if n, _ := pls[woken].Poll(one[:], 0); n != 1 || one[0] != &exs[1].req {
		t.Fatalf("the poller woken for the stall took %d", n)
	}
	// Two held, one of them stalled: the allowance is spent until the
	// second stalls too or one is answered.
	l.mu.Lock()
	allowed := l.serial.allowance(l.serial.held[1].at)
	l.mu.Unlock()
	if allowed != 0 {
		t.Fatalf("allowance %d with one stalled and one fresh request held", allowed)
	}
	l.unholdRequest(exs[1])
	l.unholdRequest(exs[0])
	if n, _ := pls[woken].Poll(one[:], 0); n != 1 || one[0] != &exs[2].req {
		t.Fatalf("after both answered, took %d", n)
	}
}

// TestSerialAllowance: the rule itself, on an explicit clock.
func TestSerialAllowance(t *testing.T) {
	s := newSerialLane(10 * time.Millisecond)
	a, b := &exchange{}, &exchange{}
	if got := s.allowance(0); got != 1 {
		t.Fatalf("nothing held: allowance %d, want 1", got)
	}
	s.hold(a, 0)
	for _, c := range []struct {
		now  time.Duration
		want int
	}{{0, 0}, {9 * time.Millisecond, 0}, {10 * time.Millisecond, 1}} {
		if got := s.allowance(c.now); got != c.want {
			t.Errorf("one held since 0, at %v: allowance %d, want %d", c.now, got, c.want)
		}
	}
	s.hold(b, 12*time.Millisecond)
	if got := s.allowance(15 * time.Millisecond); got != 0 {
		t.Errorf("one stalled and one fresh: allowance %d, want 0", got)
	}
	if got := s.allowance(22 * time.Millisecond); got != 1 {
		t.Errorf("both stalled: allowance %d, want 1", got)
	}
	if !s.unhold(a) || s.unhold(a) {
		t.Error("unhold must report whether it was held, once")
	}
	if got := s.allowance(13 * time.Millisecond); got != 0 {
		t.Errorf("one fresh left: allowance %d, want 0", got)
	}
}

// TestSerialLaneBlockingPoller: a host that waits by blocking in Poll (no
// fd) gets the next request once the held one is answered.
func TestSerialLaneBlockingPoller(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	l.serial = newSerialLane(time.Hour)
	exs := pushHeld(t, &slab, l, 2)
	var one [1]*Request
	if n, _ := l.Poll(one[:], 0); n != 1 {
		t.Fatal("first request not taken")
	}
	// Drain the wake-ups the pushes left, so the poller below really parks.
	for len(l.wake) > 0 {
		<-l.wake
	}
	parked := make(chan struct{}, 1)
	hook := func() {
		select {
		case parked <- struct{}{}:
		default:
		}
	}
	testHookPollWaits.Store(&hook)
	t.Cleanup(func() { testHookPollWaits.Store(nil) })
	got := make(chan int, 1)
	go func() {
		var next [1]*Request
		n, _ := l.Poll(next[:], 5*time.Second)
		got <- n
	}()
	<-parked
	l.unholdRequest(exs[0])
	if n := <-got; n != 1 {
		t.Fatalf("a blocked poller took %d after the held request was answered", n)
	}
	l.unholdRequest(exs[1])
}
