package core

import (
	"errors"
	"sync"
	"syscall"
	"time"
)

// ErrClosed is returned by Lane.Poll once the app has stopped and the lane
// is drained.
var ErrClosed = errors.New("spikard: app stopped")

// ErrUnknownExchange is returned by App.Respond for an exchange that is no
// longer waiting for an answer.
var ErrUnknownExchange = errors.New("spikard: unknown exchange")

// Lane is a queue of requests waiting for a host thread. It is safe for
// concurrent use by any number of pollers. Its readiness fd, once created
// by ReadyFD, lives until App.Close.
type Lane struct {
	// mu guards everything below, including the pipe invariant: while the
	// lane is open the pipe holds exactly one byte iff q is non-empty, so
	// the read end is level-readable exactly when there is work.
	mu     sync.Mutex
	q      []queued
	head   int
	closed bool
	rfd    int // -1 until ReadyFD
	wfd    int
	inPipe bool // the pipe holds its byte

	wake     chan struct{} // cap 1: a push or a leftover after a batch
	closedCh chan struct{}
	ex       *exchanges // the app's slab, for PollEach's pins
	timers   sync.Pool  // *time.Timer for waiting polls, so waiting allocates nothing
}

// queued is a lane entry: the exchange and the id it had when queued, so
// a poller can tell a recycled exchange from the one it took.
type queued struct {
	ex *exchange
	id uint64
	ev *Request // a standalone event (EventDisconnect) instead of ex
}

func newLane(ex *exchanges) *Lane {
	return &Lane{rfd: -1, wfd: -1, wake: make(chan struct{}, 1), closedCh: make(chan struct{}), ex: ex}
}

// Poll moves up to len(dst) waiting requests into dst, waiting up to
// timeout for the first one (0: no wait; negative: until one arrives or the
// app stops). The Requests stay valid until they are answered; but a
// request that times out or whose client leaves meanwhile is recycled, so
// a host that reads requests after another goroutine might drop them
// should use PollEach, which pins each request while it is read.
func (l *Lane) Poll(dst []*Request, timeout time.Duration) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	var taken [pollChunk]queued
	n, err := l.take(taken[:min(len(dst), pollChunk)], timeout)
	for i := 0; i < n; i++ {
		if taken[i].ev != nil {
			dst[i] = taken[i].ev
		} else {
			dst[i] = &taken[i].ex.req
		}
	}
	return n, err
}

// pollChunk bounds one take so its scratch array stays on the stack.
const pollChunk = 256

// batchBytes ends a batch once the bodies taken reach it (the first request
// is always taken). A host copies a batch whole and answers it whole, so a
// batch of large bodies would otherwise pass through the caches several
// megabytes at a time; the rest stays queued for the next poll.
const batchBytes = 256 << 10

// PollEach is Poll for hosts that copy requests out: it takes up to max
// waiting requests (waiting up to timeout for the first, as Poll) and
// calls fn for each on the calling goroutine. While fn runs, the request
// cannot time out or be dropped from under it, so everything fn reads is
// stable; fn must copy what it keeps. It returns how many fn saw.
func (l *Lane) PollEach(max int, timeout time.Duration, fn func(*Request)) (int, error) {
	var taken [pollChunk]queued
	n, err := l.take(taken[:min(max, pollChunk)], timeout)
	seen := 0
	for _, q := range taken[:n] {
		if q.ev != nil {
			fn(q.ev)
			seen++
			continue
		}
		if !l.ex.pin(q.ex, q.id) {
			continue // timed out or client gone between take and pin
		}
		fn(&q.ex.req)
		q.ex.pins.Done()
		seen++
	}
	return seen, err
}

// take moves up to len(dst) entries out of the queue, waiting as Poll.
func (l *Lane) take(dst []queued, timeout time.Duration) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	var timer *time.Timer
	var timeC <-chan time.Time
	defer func() {
		if timer != nil {
			l.putTimer(timer)
		}
	}()
	for {
		l.mu.Lock()
		n, size := 0, 0
		for n < len(dst) && l.head < len(l.q) && size < batchBytes {
			e := l.q[l.head]
			if e.ex != nil {
				size += len(e.ex.req.Body) + len(e.ex.req.Attachments)
			}
			l.q[l.head] = queued{}
			l.head++
			if e.ex != nil {
				e.ex.queued = false
			}
			dst[n] = e
			n++
		}
		left := len(l.q) - l.head
		if left == 0 {
			l.q = l.q[:0]
			l.head = 0
		}
		if n > 0 {
			if left == 0 {
				l.setReadyLocked(false)
			}
			l.mu.Unlock()
			if left > 0 {
				l.signal() // let another poller take the rest
			}
			return n, nil
		}
		if l.closed {
			l.mu.Unlock()
			return 0, ErrClosed
		}
		l.mu.Unlock()
		if timeout == 0 {
			return 0, nil
		}
		if timeout > 0 && timer == nil {
			// Since Go 1.23 a stopped or fired timer can be Reset without
			// draining, so pooled timers carry no stale tick.
			if t, ok := l.timers.Get().(*time.Timer); ok {
				t.Reset(timeout)
				timer = t
			} else {
				timer = time.NewTimer(timeout)
			}
			timeC = timer.C
		}
		select {
		case <-l.wake:
		case <-l.closedCh:
		case <-timeC:
			return 0, nil
		}
	}
}

func (l *Lane) putTimer(t *time.Timer) {
	t.Stop()
	l.timers.Put(t)
}

func (l *Lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// push queues ex under id. It fails with ErrClosed after close.
func (l *Lane) push(ex *exchange, id uint64) error {
	return l.pushEntry(queued{ex: ex, id: id})
}

// pushEvent queues a standalone event such as EventDisconnect.
func (l *Lane) pushEvent(ev *Request) error {
	return l.pushEntry(queued{ev: ev})
}

func (l *Lane) pushEntry(e queued) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.q = append(l.q, e)
	if e.ex != nil {
		e.ex.queued = true
	}
	if len(l.q)-l.head == 1 {
		l.setReadyLocked(true)
	}
	l.mu.Unlock()
	l.signal()
	return nil
}

// remove takes ex out of the queue if it is still there (it timed out or
// its client left before any host polled it), and reports whether it was.
func (l *Lane) remove(ex *exchange) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !ex.queued {
		return false
	}
	ex.queued = false
	for i := l.head; i < len(l.q); i++ {
		if l.q[i].ex == ex {
			copy(l.q[i:], l.q[i+1:])
			l.q[len(l.q)-1] = queued{}
			l.q = l.q[:len(l.q)-1]
			break
		}
	}
	if len(l.q)-l.head == 0 {
		l.q = l.q[:0]
		l.head = 0
		l.setReadyLocked(false)
	}
	return true
}

// close stops the lane taking requests; pollers drain what is left and
// then get ErrClosed. The fd becomes, and stays, readable so loop-driven
// hosts wake up and see ErrClosed.
func (l *Lane) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	close(l.closedCh)
	l.setReadyLocked(true)
}

// setReadyLocked writes or reads the pipe's byte. Once closed the byte
// stays.
func (l *Lane) setReadyLocked(ready bool) {
	if l.rfd < 0 || ready == l.inPipe || (!ready && l.closed) {
		return
	}
	var b [1]byte
	if ready {
		if n, _ := syscall.Write(l.wfd, b[:]); n == 1 {
			l.inPipe = true
		}
		return
	}
	if n, _ := syscall.Read(l.rfd, b[:]); n == 1 {
		l.inPipe = false
	}
}

// ReadyFD returns a file descriptor that is readable while the lane may
// hold requests (level semantics, see spikard_poller_fd). The lane owns it.
func (l *Lane) ReadyFD() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rfd >= 0 {
		return l.rfd, nil
	}
	var p [2]int
	// syscall.Pipe rather than os.Pipe: os.File.Fd would switch the fd to
	// blocking mode, and the runtime poller must not own it either.
	if err := syscall.Pipe(p[:]); err != nil {
		return -1, err
	}
	for _, fd := range p {
		syscall.CloseOnExec(fd)
		if err := syscall.SetNonblock(fd, true); err != nil {
			syscall.Close(p[0])
			syscall.Close(p[1])
			return -1, err
		}
	}
	l.rfd, l.wfd = p[0], p[1]
	if len(l.q)-l.head > 0 || l.closed {
		l.setReadyLocked(true)
	}
	return l.rfd, nil
}

// release closes the readiness pipe.
func (l *Lane) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rfd >= 0 {
		syscall.Close(l.rfd)
		syscall.Close(l.wfd)
		l.rfd, l.wfd = -1, -1
		l.inPipe = false
	}
}
