package core

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrClosed is returned by Lane.Poll once the app has stopped and the lane
// is drained.
var ErrClosed = errors.New("spikard: app stopped")

// ErrUnknownExchange is returned by App.Respond for an exchange that is no
// longer waiting for an answer.
var ErrUnknownExchange = errors.New("spikard: unknown exchange")

// errPollerClosed is Poller.ReadyFD's error once the poller or its app has
// been closed.
var errPollerClosed = errors.New("spikard: poller closed")

// testHookPollWaits, when set by a test, runs each time a blocking poll is
// about to wait, so a test can act once a poller is parked.
var testHookPollWaits atomic.Pointer[func()]

// MaxBatch is the most requests one poll takes, whatever capacity it is
// given, so that its scratch array stays on the stack.
const MaxBatch = 256

// batchBytes ends a batch once the bodies taken reach it (the first request
// is always taken). A host copies a batch whole and answers it whole, so a
// batch of large bodies would otherwise pass through the caches several
// megabytes at a time; the rest stays queued for the next poll.
const batchBytes = 256 << 10

// Lane is a queue of requests waiting for a host thread. It is safe for
// concurrent use: goroutines that wait by blocking poll it directly, and a
// host thread that waits on a file descriptor polls through a Poller of
// its own.
type Lane struct {
	// mu guards everything below and the readiness state of the Pollers.
	mu       sync.Mutex
	q        []queued
	head     int
	closed   bool
	released bool // App.Close closed the pollers' pipes; no new ones

	// Readiness of the pollers with a fd. While the lane is open, idle
	// holds the waiting pollers whose pipe is empty, most recently idle
	// last; signalled counts the pollers whose pipe holds its byte (none of
	// them is in idle); and whenever idle is non-empty, signalled is at
	// least the number of queued entries. So no entry waits while every
	// waiting poller sleeps, and a push wakes at most one poller.
	idle      []*Poller
	signalled int
	withFD    []*Poller // every Poller with a pipe, for close and release

	// serial, for a lane named in Config.SerialLanes, limits how many
	// requests its hosts hold at once (see serialLane). On such a lane the
	// readiness rule above is narrowed: pollers are woken only for what the
	// lane allows, and not while a busy poller (one that will poll again)
	// can take it.
	serial *serialLane

	wake     chan struct{} // cap 1: a push or a leftover after a batch
	closedCh chan struct{}
	ex       *exchanges // the app's slab, for PollEach's pins
	timers   sync.Pool  // *time.Timer for waiting polls, so waiting allocates nothing
}

// queued is a queue entry: a REQUEST (ex and the id it had when queued,
// so a poller can tell a recycled exchange from the one it took), or a
// later event of exchange id (ex nil; see delivery.go). 32 bytes, so that a
// poll's scratch array of MaxBatch entries stays small on the stack.
type queued struct {
	ex    *exchange
	id    uint64
	msg   *wsMessage // an EventWSMessage's message or an EventWSClose's reason; else nil
	route RouteID
	kind  uint8  // an event's Event* kind; 0 for a REQUEST
	code  uint16 // an event's Request.Code
}

func newLane(ex *exchanges) *Lane {
	return &Lane{wake: make(chan struct{}, 1), closedCh: make(chan struct{}), ex: ex}
}

// Poller is a host thread's handle on a lane, for hosts that wait for work
// on a file descriptor (ReadyFD) rather than by blocking in Poll. Each
// Poller has a fd of its own, and the lane makes as many of them readable
// as there are queued requests (at most the number of pollers waiting),
// most recently idle first: a request wakes one thread of a pool, not all
// of them. A Poller is used by one goroutine at a time; polls with a
// timeout wait as the Lane's do.
//
// The protocol is spikard.h's (spikard_poller_fd): a host waits on the fd
// only after a poll that returned fewer requests than it asked for (the
// Poller then counts as waiting), and after a full poll it polls again
// without waiting. A poll asks for max requests even when max exceeds
// MaxBatch, so a poll that returns MaxBatch of a larger max counts as
// waiting too, like the host that sees it.
//
// The Poller that takes an exchange's REQUEST owns the exchange: its later
// events (EventDisconnect, EventWritten, EventStreamCredit) come through
// that Poller's polls, before anything of the lane's, and make its fd
// readable (see delivery.go).
type Poller struct {
	lane *Lane
	// Guarded by lane.mu.
	rfd, wfd  int  // the readiness pipe; -1 until ReadyFD, after Close and after App.Close
	signalled bool // the pipe holds its byte
	idleAt    int  // index in lane.idle, or -1
	closed    bool
	owned     []queued // events of the exchanges p owns, oldest from ownedHead
	ownedHead int

	wake chan struct{} // cap 1: an owned event for a poll of p blocked in take
	ev   Request       // PollEach's view of an owned event, valid during its callback
}

// NewPoller returns a poller of l. Until its ReadyFD is called it is only
// another way to poll l.
func (l *Lane) NewPoller() *Poller {
	return &Poller{lane: l, rfd: -1, wfd: -1, idleAt: -1, wake: make(chan struct{}, 1)}
}

// Poll moves up to len(dst) waiting requests into dst, waiting up to
// timeout for the first one (0: no wait; negative: until one arrives or the
// app stops). The Requests stay valid until they are answered; but a
// request that times out or whose client leaves meanwhile is recycled, so
// a host that reads requests after another goroutine might drop them
// should use PollEach, which pins each request while it is read.
func (l *Lane) Poll(dst []*Request, timeout time.Duration) (int, error) {
	return l.poll(nil, dst, timeout)
}

// PollEach is Poll for hosts that copy requests out: it takes up to max
// waiting requests (waiting up to timeout for the first, as Poll) and
// calls fn for each on the calling goroutine. While fn runs, the request
// cannot time out, be dropped or, should fn answer it, be recycled from
// under it, so everything fn reads is stable; fn must copy what it keeps.
// It returns how many fn saw.
func (l *Lane) PollEach(max int, timeout time.Duration, fn func(*Request)) (int, error) {
	return l.pollEach(nil, max, timeout, fn)
}

// Poll is Lane.Poll through p.
func (p *Poller) Poll(dst []*Request, timeout time.Duration) (int, error) {
	return p.lane.poll(p, dst, timeout)
}

// PollEach is Lane.PollEach through p.
func (p *Poller) PollEach(max int, timeout time.Duration, fn func(*Request)) (int, error) {
	return p.lane.pollEach(p, max, timeout, fn)
}

// poll serves Lane.Poll and Poller.Poll; p is nil for the former.
func (l *Lane) poll(p *Poller, dst []*Request, timeout time.Duration) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	var taken [MaxBatch]queued
	n, err := l.take(p, taken[:min(len(dst), MaxBatch)], len(dst), timeout, true)
	for i := 0; i < n; i++ {
		if taken[i].ex == nil {
			ev := new(Request) // events are rare enough on this path; PollEach reuses one
			taken[i].event(ev)
			dst[i] = ev
		} else {
			dst[i] = &taken[i].ex.req
		}
	}
	return n, err
}

// pollEach serves Lane.PollEach and Poller.PollEach; p is nil for the
// former.
func (l *Lane) pollEach(p *Poller, max int, timeout time.Duration, fn func(*Request)) (int, error) {
	if max <= 0 {
		return 0, nil
	}
	var taken [MaxBatch]queued
	n, err := l.take(p, taken[:min(max, MaxBatch)], max, timeout, false)
	seen := 0
	var ev *Request // allocated only if a lane's event comes without a Poller
	for _, q := range taken[:n] {
		if q.ex == nil {
			if p != nil {
				ev = &p.ev
			} else if ev == nil {
				ev = new(Request)
			}
			q.event(ev)
			fn(ev)
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
	if p != nil && n == max && seen < n {
		// The take was full, so p counted as busy; but its host sees a
		// short batch and will wait on its fd.
		l.mu.Lock()
		if p.rfd >= 0 {
			p.settleLocked(seen, max, l.takeableLocked()+p.ownedLeftLocked())
		}
		l.mu.Unlock()
	}
	return seen, err
}

// take moves up to len(dst) entries out of p's owned events and then the
// lane's queue, waiting as Poll. A poll through p asked for max (at least
// len(dst)); take keeps p's readiness. handOut says the caller hands
// requests out without pinning them (Poll): they count as seen by a host
// at once (see App.abandon).
func (l *Lane) take(p *Poller, dst []queued, max int, timeout time.Duration, handOut bool) (int, error) {
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
		hasFD := p != nil && p.rfd >= 0
		if hasFD {
			p.clearLocked()
		}
		n, size := 0, 0
		if p != nil && len(p.owned) > p.ownedHead {
			n, size = p.takeOwnedLocked(dst)
		}
		allowed := len(dst) // requests this poll may take
		var now time.Duration
		if l.serial != nil {
			// Events are not requests to hold: they do not count against
			// the allowance.
			now = l.serial.now()
			allowed = nonNegative(l.serial.allowance(now))
		}
		for n < len(dst) && l.head < len(l.q) && size < batchBytes {
			e := l.q[l.head]
			if e.ex != nil {
				if allowed == 0 {
					break
				}
				allowed--
				size += len(e.ex.req.Body) + len(e.ex.req.Attachments)
				if l.serial != nil {
					l.serial.hold(e.ex, now)
				}
				e.ex.queued = false
				e.ex.owner = p // the one word delivery costs (delivery.go)
				if handOut {
					e.ex.handed = true
				}
			} else if e.msg != nil {
				size += len(e.msg.data)
			}
			l.q[l.head] = queued{}
			l.head++
			dst[n] = e
			n++
		}
		left := len(l.q) - l.head
		if left == 0 {
			l.q = l.q[:0]
			l.head = 0
		}
		takeable := l.takeableLocked()
		if l.serial != nil && left > 0 {
			l.armStallLocked(now)
		}
		if hasFD {
			p.settleLocked(n, max, takeable+p.ownedLeftLocked())
		}
		if n > 0 {
			l.mu.Unlock()
			if takeable > 0 {
				l.signal() // let another blocking poller take the rest
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
		if hook := testHookPollWaits.Load(); hook != nil {
			(*hook)()
		}
		var owned <-chan struct{}
		if p != nil {
			owned = p.wake
		}
		select {
		case <-l.wake:
		case <-owned:
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

// push queues ex's REQUEST under id. It fails with ErrClosed after close.
func (l *Lane) push(ex *exchange, id uint64) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.q = append(l.q, queued{ex: ex, id: id})
	ex.queued = true
	ex.owner, ex.handed = nil, false
	l.wakeLocked()
	if l.serial != nil {
		l.armStallLocked(l.serial.now())
	}
	l.mu.Unlock()
	l.signal()
	return nil
}

// remove takes ex out of the queue if it is still there (it timed out or
// its client left before any host polled it), and reports whether it was.
// A poller signalled for it finds nothing and waits again.
func (l *Lane) remove(ex *exchange) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.removeLocked(ex)
}

func (l *Lane) removeLocked(ex *exchange) bool {
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
	}
	return true
}

// close stops the lane taking requests; pollers drain what is left and
// then get ErrClosed. Every poller's fd becomes, and stays, readable so
// loop-driven hosts wake up and see ErrClosed.
func (l *Lane) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	close(l.closedCh)
	for _, p := range l.withFD {
		l.signalLocked(p)
		p.idleAt = -1
	}
	clear(l.idle)
	l.idle = l.idle[:0]
}

// release closes the pollers' pipes; their fds are invalid afterwards.
func (l *Lane) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.released = true
	for _, p := range l.withFD {
		p.closePipeLocked()
		p.idleAt = -1
	}
	l.withFD, l.idle, l.signalled = nil, nil, 0
}

// signalLocked puts p's byte in its pipe.
func (l *Lane) signalLocked(p *Poller) {
	if p.signalled {
		return
	}
	// The write cannot fail: the pipe is open and empty, and nothing but
	// the lane, under mu, writes to it.
	var b [1]byte
	_, _ = syscall.Write(p.wfd, b[:])
	p.signalled = true
	l.signalled++
}

// takeableLocked is how many queued entries a poll could take now: on a
// serial lane, entries past the allowance wait for an answer or a stall,
// not for a poll.
func (l *Lane) takeableLocked() int {
	left := len(l.q) - l.head
	if s := l.serial; s != nil && left > 0 {
		// Events pass; requests up to the allowance. Few requests are
		// allowed at once, so the scan stops early.
		allowed := nonNegative(s.allowance(s.now()))
		left = 0
		for _, e := range l.q[l.head:] {
			if e.ex != nil {
				if allowed == 0 {
					break
				}
				allowed--
			}
			left++
		}
	}
	return left
}

// wakeLocked signals idle pollers, most recently idle first, until the
// signals cover the queued entries or no poller is idle; on a serial lane,
// only what the lane allows now, and none while a busy poller will come
// back for it.
func (l *Lane) wakeLocked() {
	if l.serial != nil && len(l.withFD)-len(l.idle)-l.signalled > 0 {
		return
	}
	l.wakeUpToLocked(l.takeableLocked())
}

// wakeUpToLocked signals idle pollers, most recently idle first, until
// target pollers are signalled or none is idle.
func (l *Lane) wakeUpToLocked(target int) {
	for l.signalled < target && len(l.idle) > 0 {
		p := l.idle[len(l.idle)-1]
		l.unidleLocked(p)
		l.signalLocked(p)
	}
}

// idleLocked puts p on top of the idle stack.
func (l *Lane) idleLocked(p *Poller) {
	p.idleAt = len(l.idle)
	l.idle = append(l.idle, p)
}

// unidleLocked takes p out of the idle stack if it is there, keeping the
// order of the rest. p is usually the top.
func (l *Lane) unidleLocked(p *Poller) {
	i := p.idleAt
	if i < 0 {
		return
	}
	copy(l.idle[i:], l.idle[i+1:])
	l.idle[len(l.idle)-1] = nil
	l.idle = l.idle[:len(l.idle)-1]
	for _, q := range l.idle[i:] {
		q.idleAt--
	}
	p.idleAt = -1
}

// clearLocked empties p's pipe as p starts a poll. Once the lane is closed
// the byte stays.
func (p *Poller) clearLocked() {
	l := p.lane
	if !p.signalled || l.closed {
		return
	}
	// Read more than the one byte there should be, so that a stray byte
	// could not keep the fd readable for good.
	var b [8]byte
	_, _ = syscall.Read(p.rfd, b[:])
	p.signalled = false
	l.signalled--
}

// settleLocked records where p stands once a poll of max took n, leaving
// left queued: busy (n == max: its host polls again) or waiting (its host
// goes back to its fd). A waiting poller that leaves entries behind (the
// batch met its byte budget or MaxBatch) is signalled itself, so that its
// fd stays readable as spikard.h promises.
//
// No other poller needs a signal: the poll spent at most p's own, and
// either took an entry for it or found the queue empty; and p only joins
// idle when nothing is left.
func (p *Poller) settleLocked(n, max, left int) {
	l := p.lane
	if l.closed {
		return
	}
	switch {
	case n == max:
		l.unidleLocked(p)
	case left > 0:
		l.unidleLocked(p)
		l.signalLocked(p)
	case n > 0 || p.idleAt < 0:
		// It has just worked (or woke for nothing): it is now the most
		// recently idle. An idle poller that found nothing keeps its place.
		l.unidleLocked(p)
		l.idleLocked(p)
	}
}

// ReadyFD returns p's file descriptor, creating it on first use. It is
// readable while p should poll: the lane has woken it for a queued request,
// or a poll of p that returned fewer requests than asked for left some
// behind, or the app has stopped (level semantics; see the Poller
// protocol). p owns it until Close, or App.Close, whichever comes first.
// A Poller with a fd counts as waiting from the start: its host may wait
// on the fd before it first polls.
func (p *Poller) ReadyFD() (int, error) {
	l := p.lane
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.closed || l.released {
		return -1, errPollerClosed
	}
	if p.rfd >= 0 {
		return p.rfd, nil
	}
	var fds [2]int
	// syscall.Pipe rather than os.Pipe: os.File.Fd would switch the fd to
	// blocking mode, and the runtime poller must not own it either.
	if err := syscall.Pipe(fds[:]); err != nil {
		return -1, err
	}
	for _, fd := range fds {
		syscall.CloseOnExec(fd)
		if err := syscall.SetNonblock(fd, true); err != nil {
			syscall.Close(fds[0])
			syscall.Close(fds[1])
			return -1, err
		}
	}
	p.rfd, p.wfd = fds[0], fds[1]
	l.withFD = append(l.withFD, p)
	if l.closed || p.ownedLeftLocked() > 0 {
		l.signalLocked(p) // readable at once: there is something to poll
		return p.rfd, nil
	}
	l.idleLocked(p)
	l.wakeLocked()
	return p.rfd, nil
}

// Close takes p off its lane and closes its fd; a wake-up it had not
// taken passes to another waiting poller, and so do the events of the
// exchanges it owns, queued or still to come (they go to the lane). p must
// not be used afterwards. Closing twice is harmless.
func (p *Poller) Close() {
	l := p.lane
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	handed := p.handOverLocked()
	if p.rfd < 0 {
		if handed && !l.closed {
			l.wakeLocked()
			l.signal()
		}
		return
	}
	l.unidleLocked(p)
	if p.signalled && !l.closed {
		l.signalled--
	}
	if i := slices.Index(l.withFD, p); i >= 0 {
		l.withFD = slices.Delete(l.withFD, i, i+1)
	}
	p.closePipeLocked()
	if !l.closed {
		l.wakeLocked()
		if handed {
			l.signal()
		}
	}
}

func (p *Poller) closePipeLocked() {
	syscall.Close(p.rfd)
	syscall.Close(p.wfd)
	p.rfd, p.wfd = -1, -1
	p.signalled = false
}
