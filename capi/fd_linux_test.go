package main

import (
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readable waits up to wait for fd to poll readable.
func readable(t *testing.T, fd int, wait time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var set syscall.FdSet
		set.Bits[fd/64] |= 1 << (uint(fd) % 64)
		tv := syscall.NsecToTimeval(max(time.Until(deadline), 0).Nanoseconds())
		n, err := syscall.Select(fd+1, &set, nil, nil, &tv)
		if err == syscall.EINTR { // the Go runtime's own signals
			if time.Now().After(deadline) {
				return false
			}
			continue
		}
		if err != nil {
			t.Fatalf("select(%d): %v", fd, err)
		}
		return n > 0
	}
}

// TestReadyFD: the fd is readable while a request waits on the lane and
// not once a poll has drained it; it wakes a loop-driven host at stop.
func TestReadyFD(t *testing.T) {
	a := newApp(t, `{"port":0,"quiet":true}`)
	addRoute(t, a, `{"method":"GET","path":"/r","lane":2}`)
	base := start(t, a)
	pl := openPoller(t, a, 2)
	fd := pollerFD(t, pl)
	if fd < 0 {
		t.Fatalf("spikard_poller_fd = %d", fd)
	}
	if fd >= 1024 {
		t.Skipf("fd %d does not fit an fd_set", fd)
	}
	if fd2 := pollerFD(t, pl); fd2 != fd {
		t.Errorf("second spikard_poller_fd = %d, first %d", fd2, fd)
	}
	if readable(t, fd, 0) {
		t.Fatal("fd readable with an empty lane")
	}
	evs := make([]cEvent, 4)
	for round := range 2 {
		var replies []<-chan reply
		for range round + 1 { // one request, then two
			replies = append(replies, getAsync(base+"/r"))
		}
		var got []event
		for len(got) < len(replies) {
			if !readable(t, fd, 5*time.Second) {
				t.Fatalf("round %d: fd not readable with %d of %d requests polled", round, len(got), len(replies))
			}
			batch, rc := poll(pl, evs, 0)
			if rc != rcOK {
				t.Fatalf("poll = %d", rc)
			}
			got = append(got, batch...)
		}
		if readable(t, fd, 0) {
			t.Errorf("round %d: fd readable after the lane was drained", round)
		}
		for _, e := range got {
			if rc := respond(a, answer{exchange: e.exchange, status: 204}); rc != rcOK {
				t.Errorf("respond = %d", rc)
			}
		}
		for _, ch := range replies {
			if r := <-ch; r.err != nil || r.status != 204 {
				t.Errorf("round %d: %d %v, want 204", round, r.status, r.err)
			}
		}
	}
	if rc := spikard_app_stop(a, 1000); rc != rcOK {
		t.Fatalf("spikard_app_stop = %d", rc)
	}
	if !readable(t, fd, time.Second) {
		t.Error("fd not readable after stop: a loop-driven host would never see SPIKARD_E_CLOSED")
	}
	if _, rc := poll(pl, evs, 0); rc != rcClosed {
		t.Errorf("poll after stop = %d, want %d", rc, rcClosed)
	}
}

// TestPollerFDWakesOne: each poller has a fd of its own, and a request wakes
// one waiting poller of the lane, not all of them.
func TestPollerFDWakesOne(t *testing.T) {
	a := newApp(t, `{"port":0,"quiet":true}`)
	addRoute(t, a, `{"method":"GET","path":"/one","lane":1}`)
	base := start(t, a)
	pls := []*cPoller{openPoller(t, a, 1), openPoller(t, a, 1), openPoller(t, a, 1)}
	fds := make([]int, len(pls))
	for i, pl := range pls {
		if fds[i] = pollerFD(t, pl); fds[i] < 0 {
			t.Fatalf("spikard_poller_fd = %d", fds[i])
		}
		for _, other := range fds[:i] {
			if other == fds[i] {
				t.Fatalf("two pollers share fd %d", other)
			}
		}
	}
	reply := getAsync(base + "/one")
	woken := -1
	for i, r := range readableAny(t, fds, 5*time.Second) {
		if r && woken >= 0 {
			t.Fatalf("one request made pollers %d and %d readable", woken, i)
		}
		if r {
			woken = i
		}
	}
	if woken < 0 {
		t.Fatal("no poller woken for a request")
	}
	evs := make([]cEvent, 4)
	got, rc := poll(pls[woken], evs, 0)
	if rc != rcOK || len(got) != 1 {
		t.Fatalf("poll of the woken poller = %d with %d events", rc, len(got))
	}
	if rc := respond(a, answer{exchange: got[0].exchange, status: 204}); rc != rcOK {
		t.Fatalf("respond = %d", rc)
	}
	if r := <-reply; r.err != nil || r.status != 204 {
		t.Fatalf("%d %v, want 204", r.status, r.err)
	}
	for i, r := range readableAny(t, fds, 0) {
		if r {
			t.Errorf("poller %d readable with the lane drained", i)
		}
	}
}

// readableAny waits up to wait for any of fds to poll readable and returns
// which are.
func readableAny(t *testing.T, fds []int, wait time.Duration) []bool {
	t.Helper()
	pfds := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		pfds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	}
	deadline := time.Now().Add(wait)
	for {
		_, err := unix.Poll(pfds, int(max(time.Until(deadline), 0)/time.Millisecond))
		if err == unix.EINTR { // the Go runtime's own signals
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
