package core

import "time"

// DefaultStallAfter is Config.StallAfter's default: CPython's GIL switch
// interval, past which a thread holding the GIL is made to let go anyway.
const DefaultStallAfter = 5 * time.Millisecond

// serialLane is the admission rule of a lane named in Config.SerialLanes:
// its hosts hold one request at a time, plus one more for each request held
// longer than stallAfter.
//
// Why: the threads of a CPython (or Ruby) pool share one VM lock, so two
// requests in Python at once do not run in parallel; they take turns at the
// lock, and every turn a thread loses at the switch interval puts its
// request behind the requests of all the other threads. With 16 pool
// threads sharing a busy core that made a def handler's p99 latency 0.5 to
// 0.9 s where one thread gives 40 ms, at a higher throughput. A request held
// long is most likely waiting with the lock released (time.sleep, a
// database call), and then a second thread can run Python meanwhile, so
// each such request lets one more in.
type serialLane struct {
	stallAfter time.Duration
	epoch      time.Time     // held times are offsets from it, on the monotonic clock
	held       []heldRequest // taken and not yet answered, oldest first
	timer      *time.Timer   // wakes a poller when the oldest held request stalls
	armed      bool
}

type heldRequest struct {
	ex *exchange
	at time.Duration
}

func newSerialLane(stallAfter time.Duration) *serialLane {
	if stallAfter <= 0 {
		stallAfter = DefaultStallAfter
	}
	return &serialLane{stallAfter: stallAfter, epoch: time.Now()}
}

func (s *serialLane) now() time.Duration { return time.Since(s.epoch) }

// allowance is how many more requests the lane's hosts may take now.
func (s *serialLane) allowance(now time.Duration) int {
	stalled := 0
	for _, h := range s.held {
		if now-h.at < s.stallAfter {
			break // held in order: the rest are younger
		}
		stalled++
	}
	return 1 + stalled - len(s.held)
}

// hold records that a host took ex.
func (s *serialLane) hold(ex *exchange, now time.Duration) {
	s.held = append(s.held, heldRequest{ex: ex, at: now})
}

// unhold forgets ex and reports whether it was held.
func (s *serialLane) unhold(ex *exchange) bool {
	for i := range s.held {
		if s.held[i].ex == ex {
			copy(s.held[i:], s.held[i+1:])
			s.held[len(s.held)-1] = heldRequest{}
			s.held = s.held[:len(s.held)-1]
			return true
		}
	}
	return false
}

// armLocked makes sure the lane looks again when its oldest held request
// stalls, so that requests queued behind a blocked one are not left waiting
// on a host thread that will not come back soon.
func (l *Lane) armStallLocked(now time.Duration) {
	s := l.serial
	if s.armed || len(s.held) == 0 {
		return
	}
	d := s.held[0].at + s.stallAfter - now
	for _, h := range s.held {
		if w := h.at + s.stallAfter - now; w > 0 {
			d = w // the first one not stalled yet
			break
		}
	}
	if d <= 0 {
		d = s.stallAfter
	}
	s.armed = true
	if s.timer == nil {
		s.timer = time.AfterFunc(d, l.onStall)
	} else {
		s.timer.Reset(d)
	}
}

// onStall runs when a held request may have stalled: it wakes idle pollers
// for what the lane now allows. Busy pollers do not count here, since they
// may be the ones held up.
func (l *Lane) onStall() {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.serial
	s.armed = false
	left := len(l.q) - l.head
	if l.closed || left == 0 {
		return
	}
	now := s.now()
	if a := s.allowance(now); a > 0 {
		l.wakeUpToLocked(min(left, a))
		l.signal() // and a poller blocked in Poll
	}
	l.armStallLocked(now)
}

// unholdRequest is called when ex, taken from l by a host, is answered or
// abandoned: its place goes to the next request.
func (l *Lane) unholdRequest(ex *exchange) {
	if l == nil || l.serial == nil {
		return
	}
	l.mu.Lock()
	more := false
	if l.serial.unhold(ex) && !l.closed {
		l.wakeLocked()
		more = l.head < len(l.q)
	}
	l.mu.Unlock()
	if more {
		l.signal() // and a poller blocked in Poll, which has no fd to be woken by
	}
}

func nonNegative(n int) int { return max(n, 0) }
