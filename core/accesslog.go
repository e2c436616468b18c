package core

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// The access log: one line per request, formatted here on the request's
// Hertz goroutine and handed to its sink (the Logger, or EventLog events
// on a lane) in batches by one flusher goroutine.
//
// A request's line is pushed onto a lock-free stack (one CAS; the nodes
// come from a sync.Pool, so a steady load allocates nothing per request).
// The flusher swaps the whole stack out at batch time, restores arrival
// order and concatenates the lines into one batch. The first line of a
// batch wakes the flusher, which waits accessLogInterval for more, or
// less once accessLogBatchBytes are pending. Shutdown stops the flusher
// after every request has left the handler (its line pushed) and before
// the lanes close, and the flusher's last batch takes whatever is left:
// no line of a request that finished is lost.
//
// Off (the default), the app has no accessLog: serveHTTP reads no clock
// and formats nothing.

// accessLogInterval is the longest a line waits for its batch to go out.
const accessLogInterval = 100 * time.Millisecond

// accessLogBatchBytes sends a batch sooner once its lines reach this size.
const accessLogBatchBytes = 64 << 10

// accessLine is one formatted line on the stack.
type accessLine struct {
	next *accessLine
	buf  []byte // the line, '\n' included
}

// accessLog collects and ships an app's access lines.
type accessLog struct {
	head    atomic.Pointer[accessLine] // lines pushed since the last swap, newest first
	pending atomic.Int64               // their bytes
	kick    chan struct{}              // cap 1: a batch has its first line
	full    chan struct{}              // cap 1: pending reached accessLogBatchBytes
	stopCh  chan struct{}
	done    chan struct{}
	pool    sync.Pool // *accessLine
	emit    func(batch []byte)
	every   time.Duration // accessLogInterval; tests lengthen it

	startOnce, stopOnce sync.Once
	started             atomic.Bool
	order               []*accessLine // the flusher's scratch
}

func newAccessLog(emit func(batch []byte)) *accessLog {
	return &accessLog{kick: make(chan struct{}, 1), full: make(chan struct{}, 1), stopCh: make(chan struct{}),
		done: make(chan struct{}), emit: emit, every: accessLogInterval}
}

// start runs the flusher; the first call only.
func (l *accessLog) start() {
	l.startOnce.Do(func() {
		l.started.Store(true)
		go l.run()
	})
}

// stop ships what is pending as the last batch and ends the flusher; it
// returns once that batch is emitted. Safe to call more than once, and
// before start (it then only emits what is pending).
func (l *accessLog) stop() {
	l.stopOnce.Do(func() {
		if !l.started.Load() {
			l.flush()
			return
		}
		close(l.stopCh)
		<-l.done
	})
}

func (l *accessLog) run() {
	defer close(l.done)
	wait := time.NewTimer(l.every)
	wait.Stop()
	for {
		select {
		case <-l.kick:
		case <-l.stopCh:
			l.flush()
			return
		}
		// Since Go 1.23 Reset needs no drain: a stopped timer holds no tick.
		wait.Reset(l.every)
		select {
		case <-wait.C:
		case <-l.full:
			wait.Stop()
		case <-l.stopCh:
			wait.Stop()
			l.flush()
			return
		}
		l.flush()
	}
}

// flush emits the pending lines as one batch, oldest first.
func (l *accessLog) flush() {
	h := l.head.Swap(nil)
	if h == nil {
		return
	}
	size := 0
	for n := h; n != nil; n = n.next {
		l.order = append(l.order, n)
		size += len(n.buf)
	}
	l.pending.Add(-int64(size))
	batch := make([]byte, 0, size) // the batch's event owns it
	for i := len(l.order) - 1; i >= 0; i-- {
		n := l.order[i]
		batch = append(batch, n.buf...)
		n.next = nil
		l.pool.Put(n)
	}
	clear(l.order)
	l.order = l.order[:0]
	l.emit(batch)
}

// record formats the line of the request c answered and pushes it. ex is
// the request's exchange, nil when the request was refused before it had
// one; start is when serveHTTP began.
func (l *accessLog) record(c *app.RequestContext, ex *exchange, start time.Time) {
	n, _ := l.pool.Get().(*accessLine)
	if n == nil {
		n = &accessLine{buf: make([]byte, 0, 128)}
	}
	var id []byte
	if ex != nil {
		id = ex.requestID
	}
	n.buf = appendAccessLine(n.buf[:0], start, time.Since(start), c.RemoteAddr(), c.Request.Header.Method(),
		c.Request.Header.RequestURI(), c.Request.Header.GetProtocol(), c.Response.StatusCode(), id)
	l.push(n)
}

// push puts n on the stack, waking the flusher for a batch's first line
// or a full one.
func (l *accessLog) push(n *accessLine) {
	size := int64(len(n.buf))
	old := l.head.Load()
	for {
		n.next = old
		if l.head.CompareAndSwap(old, n) {
			break
		}
		old = l.head.Load()
	}
	if old == nil {
		signalChan(l.kick)
	}
	if p := l.pending.Add(size); p >= accessLogBatchBytes && p-size < accessLogBatchBytes {
		signalChan(l.full)
	}
}

func signalChan(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// appendAccessLine appends the access line of one request, as spikard.h
// documents it (SPIKARD_EVENT_LOG):
//
//	2026-12-03T11:46:55.123Z 127.0.0.1:54321 "GET /items/7?q=1 HTTP/1.1" 200 0.412ms 4bf92f35
//
// time the request began (UTC, milliseconds), the client's address, the
// request line as received, the status, the time until the answer was
// handed over (milliseconds, three decimals) and the request id, "-" when
// there is none. In the target and the request id a space, a control
// byte, '"', '\\' or a byte past ASCII is written \xHH (the front lets
// only the last three through in a target), so a line is ASCII, its
// fields never hold a space and its quotes delimit.
func appendAccessLine(b []byte, start time.Time, took time.Duration, addr net.Addr, method, target []byte,
	proto string, status int, requestID []byte) []byte {
	b = appendStamp(b, start)
	b = append(b, ' ')
	if t, ok := addr.(*net.TCPAddr); ok {
		ap := t.AddrPort() // an IPv4 peer may come as ::ffff:a.b.c.d
		b = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(b)
	} else if addr != nil {
		b = append(b, addr.String()...)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ', '"')
	b = append(b, method...)
	b = append(b, ' ')
	b = appendEscaped(b, target)
	b = append(b, ' ')
	b = append(b, proto...)
	b = append(b, '"', ' ')
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	us := took.Microseconds()
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10), 'm', 's', ' ')
	if len(requestID) == 0 {
		b = append(b, '-')
	} else {
		b = appendEscaped(b, requestID)
	}
	return append(b, '\n')
}

// pushLog queues an EventLog carrying batch on l (exchange 0, no owner:
// any poller of the lane takes it). After close the batch is dropped; the
// app ships its last batch before it closes its lanes.
func (l *Lane) pushLog(batch []byte) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.q = append(l.q, queued{kind: uint8(EventLog), msg: &wsMessage{data: batch}})
	l.wakeLocked()
	if l.serial != nil {
		l.armStallLocked(l.serial.now())
	}
	l.mu.Unlock()
	l.signal()
}

// appendEscaped appends field with spaces, controls, '"', '\\' and
// non-ASCII bytes as \xHH, so that it stays one ASCII field.
func appendEscaped(b, field []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range field {
		if c <= ' ' || c == '"' || c == '\\' || c >= 0x7f {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

// stamp is one second's "2006-01-02T15:04:05." prefix, formatted once:
// formatting the date was a third of a line's cost.
type stamp struct {
	sec    int64
	prefix [20]byte
}

var lastStamp atomic.Pointer[stamp]

// appendStamp appends t as 2006-01-02T15:04:05.000Z (UTC).
func appendStamp(b []byte, t time.Time) []byte {
	sec := t.Unix()
	s := lastStamp.Load()
	if s == nil || s.sec != sec {
		s = &stamp{sec: sec}
		t.UTC().AppendFormat(s.prefix[:0], "2006-01-02T15:04:05.")
		lastStamp.Store(s)
	}
	b = append(b, s.prefix[:]...)
	ms := t.Nanosecond() / 1e6
	return append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}
