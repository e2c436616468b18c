package core

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pollReadable waits up to timeout (negative: forever) for any of fds to
// poll readable and returns which are; EINTR from the runtime's signals
// only restarts the wait.
func pollReadable(t *testing.T, fds []int, timeout time.Duration) []bool {
	t.Helper()
	pfds := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		pfds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	}
	deadline := time.Now().Add(timeout)
	for {
		ms := -1
		if timeout >= 0 {
			ms = int(max(time.Until(deadline), 0) / time.Millisecond)
		}
		_, err := unix.Poll(pfds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("poll(2): %v", err)
		}
		ready := make([]bool, len(fds))
		for i, p := range pfds {
			ready[i] = p.Revents&unix.POLLIN != 0
		}
		return ready
	}
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// waitReadableCount waits until at least want of fds are readable; their
// readiness must not go away meanwhile (nobody polls).
func waitReadableCount(t *testing.T, fds []int, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ready := pollReadable(t, fds, 0)
		if count(ready) >= want {
			return
		}
		var waitFor []int
		for i, r := range ready {
			if !r {
				waitFor = append(waitFor, fds[i])
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d fds readable, want %d", count(ready), len(fds), want)
		}
		pollReadable(t, waitFor, time.Until(deadline))
	}
}

// checkReadiness verifies the lane's readiness bookkeeping against the
// pipes themselves, and that no queued entry waits while every waiting
// poller sleeps.
func (l *Lane) checkReadiness() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	signalled := 0
	for _, p := range l.withFD {
		pfd := []unix.PollFd{{Fd: int32(p.rfd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 0)
		for errors.Is(err, unix.EINTR) {
			n, err = unix.Poll(pfd, 0)
		}
		if err != nil {
			return err
		}
		if readable := n == 1; readable != p.signalled {
			return fmt.Errorf("poller fd %d: readable %v, signalled %v", p.rfd, readable, p.signalled)
		}
		if p.signalled {
			signalled++
			if p.idleAt >= 0 {
				return fmt.Errorf("poller fd %d: signalled and idle", p.rfd)
			}
		}
	}
	if signalled != l.signalled {
		return fmt.Errorf("%d pollers signalled, lane counts %d", signalled, l.signalled)
	}
	for i, p := range l.idle {
		if p.idleAt != i {
			return fmt.Errorf("idle poller %d has idleAt %d", i, p.idleAt)
		}
	}
	if queued := len(l.q) - l.head; len(l.idle) > 0 && l.signalled < queued {
		return fmt.Errorf("lost wake-up: %d queued, %d signalled, %d idle", queued, l.signalled, len(l.idle))
	}
	return nil
}

// readyPollers returns k pollers of l with their fds, made ready in order
// (so the last is the most recently idle), and closes them when the test
// ends.
func readyPollers(t *testing.T, l *Lane, k int) ([]*Poller, []int) {
	t.Helper()
	pls := make([]*Poller, k)
	fds := make([]int, k)
	for i := range pls {
		pls[i] = l.NewPoller()
		fd, err := pls[i].ReadyFD()
		if err != nil {
			t.Fatal(err)
		}
		fds[i] = fd
		t.Cleanup(pls[i].Close)
	}
	return pls, fds
}

// TestPollerWakesOne: with K pollers waiting on their fds, N queued requests
// make exactly min(N, K) fds readable, most recently idle pollers first.
func TestPollerWakesOne(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/w/{n}"})
	l := a.Lane(0)
	const K = 4
	pls, fds := readyPollers(t, l, K)
	if n := count(pollReadable(t, fds, 0)); n != 0 {
		t.Fatalf("%d fds readable with an empty lane", n)
	}
	for _, N := range []int{1, 1, 3, 7} {
		replies := make([]chan result, N)
		for i := range replies {
			replies[i] = make(chan result, 1)
			go func() { replies[i] <- get(t, base+"/w/"+strconv.Itoa(i)) }()
		}
		want := min(N, K)
		waitReadableCount(t, fds, want)
		ready := pollReadable(t, fds, 0)
		if n := count(ready); n != want {
			t.Fatalf("%d requests, %d waiting pollers: %d fds readable, want %d", N, K, n, want)
		}
		if N == 1 && !ready[K-1] {
			t.Fatalf("one request woke poller %v, want the most recently idle (%d)", ready, K-1)
		}
		// Serve as a thread pool would: a woken poller polls one at a
		// time until a poll comes back short.
		got := 0
		for got < N {
			ready := pollReadable(t, fds, 5*time.Second)
			if count(ready) == 0 {
				t.Fatalf("%d of %d requests served, and no fd readable", got, N)
			}
			for i, r := range ready {
				if !r {
					continue
				}
				var batch [1]*Request
				for {
					n, err := pls[i].Poll(batch[:], 0)
					if err != nil {
						t.Fatal(err)
					}
					if n == 0 {
						break
					}
					if err := a.Respond(batch[0].Exchange, Response{Status: 200}); err != nil {
						t.Fatal(err)
					}
					got++
				}
			}
		}
		for _, ch := range replies {
			if r := <-ch; r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
		}
		// Wake-ups for requests another poller took are spent by a poll
		// that finds nothing; then no fd is readable.
		for _, pl := range pls {
			if n, err := pl.Poll(make([]*Request, 1), 0); n != 0 || err != nil {
				t.Fatalf("poll of a drained lane: %d %v", n, err)
			}
		}
		if n := count(pollReadable(t, fds, 0)); n != 0 {
			t.Fatalf("%d fds readable with the lane drained", n)
		}
		if err := l.checkReadiness(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPollerNoLostWakeup: hosts that follow the fd protocol with random
// batch sizes, answering inside PollEach or after it, and replacing their
// poller now and then, serve bursts of requests whose clients partly leave
// early (so queued requests are removed and woken pollers find nothing).
// Every request whose client stays is answered: a lost wake-up would leave
// the last requests of a burst waiting for good.
func TestPollerNoLostWakeup(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/n/{id}", Facts: []string{"meta"}})
	l := a.Lane(0)
	const hostCount, rounds = 5, 30

	var hosts sync.WaitGroup
	for h := range hostCount {
		hosts.Add(1)
		go func() {
			defer hosts.Done()
			rng := rand.New(rand.NewPCG(uint64(h), 1))
			pl := l.NewPoller()
			defer func() { pl.Close() }()
			fd, err := pl.ReadyFD()
			if err != nil {
				t.Error(err)
				return
			}
			// PollEach, not Poll: clients leave, and their requests are
			// recycled under a host that reads them without a pin.
			type copied struct {
				exchange uint64
				path     []byte
			}
			var later []copied
			answerNow := func(r *Request) {
				if r.Kind == EventRequest {
					_ = a.Respond(r.Exchange, Response{Status: 200, Body: r.Path}) // refused if its client left
				}
			}
			copyOut := func(r *Request) {
				if r.Kind == EventRequest {
					later = append(later, copied{r.Exchange, append([]byte(nil), r.Path...)})
				}
			}
			for {
				want := 1 + rng.IntN(4)
				var n int
				if h%2 == 0 {
					n, err = pl.PollEach(want, 0, answerNow)
				} else {
					later = later[:0]
					n, err = pl.PollEach(want, 0, copyOut)
					for _, c := range later {
						_ = a.Respond(c.exchange, Response{Status: 200, Body: c.path})
					}
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				if n == want {
					continue // busy: poll again without waiting
				}
				if err := l.checkReadiness(); err != nil {
					t.Error(err)
					return
				}
				if rng.IntN(16) == 0 { // a host thread leaves, another comes
					pl.Close()
					pl = l.NewPoller()
					if fd, err = pl.ReadyFD(); err != nil {
						t.Error(err)
						return
					}
				}
				pollReadable(t, []int{fd}, -1)
			}
		}()
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(7, 7))
	var answered, left atomic.Int32
	for round := range rounds {
		var burst sync.WaitGroup
		for i := range 1 + rng.IntN(40) {
			leaves := rng.IntN(4) == 0
			limit := 10 * time.Second
			if leaves {
				limit = time.Duration(rng.IntN(3000)) * time.Microsecond
			}
			burst.Add(1)
			go func() {
				defer burst.Done()
				path := "/n/" + strconv.Itoa(round) + "-" + strconv.Itoa(i)
				ctx, cancel := context.WithTimeout(context.Background(), limit)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
				resp, err := client.Do(req)
				if err != nil {
					if !leaves {
						t.Errorf("GET %s: %v (a lost wake-up?)", path, err)
					}
					left.Add(1)
					return
				}
				defer resp.Body.Close()
				var body [64]byte
				n, _ := resp.Body.Read(body[:])
				if resp.StatusCode != 200 || string(body[:n]) != path {
					t.Errorf("GET %s: %d %q", path, resp.StatusCode, body[:n])
				}
				answered.Add(1)
			}()
		}
		burst.Wait()
		if t.Failed() {
			break
		}
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	hosts.Wait()
	t.Logf("%d answered, %d clients left early", answered.Load(), left.Load())
	if left.Load() == 0 {
		t.Error("no client left early: removals were not exercised")
	}
}

// TestPollerClose: at stop every poller's fd becomes readable and stays so,
// polls return ErrClosed, and a fd made after the stop is readable at once.
func TestPollerClose(t *testing.T) {
	a, _ := startApp(t, nil, RouteSpec{Method: "GET", Path: "/c"})
	l := a.Lane(0)
	pls, fds := readyPollers(t, l, 3)
	if n := count(pollReadable(t, fds, 0)); n != 0 {
		t.Fatalf("%d fds readable with an empty lane", n)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		if n := count(pollReadable(t, fds, 0)); n != len(fds) {
			t.Fatalf("round %d after stop: %d of %d fds readable", round, n, len(fds))
		}
		for _, pl := range pls {
			if _, err := pl.Poll(make([]*Request, 1), 0); !errors.Is(err, ErrClosed) {
				t.Fatalf("poll after stop: %v", err)
			}
		}
	}
	fd, err := l.NewPoller().ReadyFD()
	if err != nil {
		t.Fatal(err)
	}
	if !pollReadable(t, []int{fd}, 0)[0] {
		t.Fatal("fd made after stop not readable")
	}
}

// fakeExchanges queues n requests with bodies of size bytes on l directly,
// as waiting exchanges of slab.
func fakeExchanges(t *testing.T, slab *exchanges, l *Lane, n, size int) {
	t.Helper()
	for range n {
		ex := slab.acquire()
		ex.req.Body = make([]byte, size)
		slab.setWaiting(ex)
		if err := l.push(ex, ex.id()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPollerLeftovers: a poll that returns fewer requests than asked for
// but leaves some queued (the batch met its byte budget, or MaxBatch)
// leaves its own fd readable, as spikard.h promises, also when the lane has
// other waiting pollers.
func TestPollerLeftovers(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	pls, fds := readyPollers(t, l, 2)
	var batch [64]*Request
	fakeExchanges(t, &slab, l, 4, batchBytes/3+1)
	ready := pollReadable(t, fds, 0)
	if count(ready) != 2 {
		t.Fatalf("4 requests, 2 waiting pollers: readable %v", ready)
	}
	for _, want := range []int{3, 1} {
		n, _ := pls[0].Poll(batch[:], 0)
		if n != want {
			t.Fatalf("batch of %d large bodies, want %d", n, want)
		}
		if left := n == 3; pollReadable(t, fds[:1], 0)[0] != left {
			t.Fatalf("after a batch of %d: fd readable %v, want %v", n, !left, left)
		}
	}
	// The other poller's wake-up found nothing left.
	if n, _ := pls[1].Poll(batch[:], 0); n != 0 || count(pollReadable(t, fds, 0)) != 0 {
		t.Fatal("fds readable with the lane drained")
	}

	// More than MaxBatch asked for: the poll takes MaxBatch and, short of
	// what was asked, counts as waiting with the rest left.
	fakeExchanges(t, &slab, l, MaxBatch+5, 0)
	n, _ := pls[0].PollEach(MaxBatch+100, 0, func(*Request) {})
	if readable := pollReadable(t, fds[:1], 0)[0]; n != MaxBatch || !readable {
		t.Fatalf("poll of %d: took %d, fd readable %v; want %d and readable", MaxBatch+100, n, readable, MaxBatch)
	}
	if err := l.checkReadiness(); err != nil {
		t.Fatal(err)
	}
}

// TestPollerShortFullBatch: when PollEach takes a full batch but skips a
// request that timed out before it could be read, its host sees a short
// batch and waits on its fd; the next request must wake it.
func TestPollerShortFullBatch(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	pls, fds := readyPollers(t, l, 1)
	gone := slab.acquire() // never waiting: as if it had timed out
	if err := l.push(gone, gone.id()); err != nil {
		t.Fatal(err)
	}
	if n, _ := pls[0].PollEach(1, 0, func(*Request) { t.Error("callback for a gone request") }); n != 0 {
		t.Fatalf("saw %d", n)
	}
	if pollReadable(t, fds, 0)[0] {
		t.Fatal("fd readable with the lane drained")
	}
	fakeExchanges(t, &slab, l, 1, 0)
	if !pollReadable(t, fds, 0)[0] {
		t.Fatal("a request left the waiting poller's fd unreadable")
	}
}

// TestPollerCloseHandsOn: a poller closed while woken hands its wake-up to
// another waiting poller.
func TestPollerCloseHandsOn(t *testing.T) {
	var slab exchanges
	l := newLane(&slab)
	pls, fds := readyPollers(t, l, 2)
	fakeExchanges(t, &slab, l, 1, 0)
	if ready := pollReadable(t, fds, 0); ready[0] || !ready[1] {
		t.Fatalf("readable %v, want only the most recently idle poller", ready)
	}
	pls[1].Close()
	if !pollReadable(t, fds[:1], 0)[0] {
		t.Fatal("the wake-up of a closed poller was lost")
	}
	if _, err := pls[1].ReadyFD(); err == nil {
		t.Fatal("ReadyFD of a closed poller")
	}
	if err := l.checkReadiness(); err != nil {
		t.Fatal(err)
	}
}
