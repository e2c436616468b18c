package core

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	hnetpoll "github.com/cloudwego/hertz/pkg/network/netpoll"
	"github.com/cloudwego/netpoll"
)

// connSet tracks an app's open connections, and whether each is busy, so
// that Shutdown can tell the ones it may close at once from the ones it
// must let finish.
//
// A connection is busy from the first byte of a request until its answer
// has been written: the front (front.go) marks it, since only the front
// sees a request begin. Hertz reads a body of known length whole before it
// calls the app's handler, so a request whose body is still arriving is in
// no handler yet; counting it busy from its first byte is what lets it
// finish. At shutdown an idle connection (between requests, or accepted
// and silent) is closed at once; a busy one closes itself after its answer
// (the front stops keep-alive), or is cut at the deadline.
//
// Costs: one entry, one connState and one close callback per connection;
// per request, two stores to the connection's own state and one load of
// the set's draining flag (front.go). Safe for concurrent use.
type connSet struct {
	mu       sync.Mutex
	m        map[netpoll.Connection]*connState
	closed   bool        // every connection is being closed; new ones are refused
	draining atomic.Bool // Shutdown has begun: a connection that goes idle closes
	accepted int         // connections seen by onAccept, under mu
	// changed is signalled (cap 1) while draining when a connection goes
	// idle or closes: what Shutdown waits for.
	changed chan struct{}
}

// The states of a connection.
const (
	connNew  int32 = iota // accepted, no request yet
	connIdle              // between requests
	connBusy              // a request has begun and its answer is not written yet
	connShut              // closed by Shutdown while idle
)

// newConnGrace is how long Shutdown lets a connection accepted without a
// request yet send one: a client sends its request right after connecting,
// and one accepted from the queue as the listener drains has usually not
// had the time to.
const newConnGrace = 500 * time.Millisecond

// connState is one connection's entry.
type connState struct {
	state atomic.Int32
	nc    netpoll.Connection
	set   *connSet
	born  time.Time
	// first closes the connection unless its first byte comes within the
	// idle timeout (App.onAccept); the front stops it.
	first *time.Timer
}

// connStateKey keys a connection's *connState in its context.
type connStateKey struct{}

// onAccept is Hertz's OnAccept hook: the connection is tracked, and its
// state travels in the context Hertz hands the front.
func (s *connSet) onAccept(conn net.Conn) (context.Context, *connState) {
	ctx := context.Background()
	s.mu.Lock()
	s.accepted++
	s.mu.Unlock()
	hc, ok := conn.(*hnetpoll.Conn)
	if !ok {
		return ctx, nil
	}
	nc, ok := hc.Conn.(netpoll.Connection)
	if !ok {
		return ctx, nil
	}
	cs := &connState{nc: nc, set: s, born: time.Now()}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return ctx, nil
	}
	if s.m == nil {
		s.m = map[netpoll.Connection]*connState{}
	}
	s.m[nc] = cs
	s.mu.Unlock()
	_ = nc.AddCloseCallback(func(c netpoll.Connection) error {
		s.mu.Lock()
		delete(s.m, c)
		s.mu.Unlock()
		if s.draining.Load() {
			s.signal()
		}
		return nil
	})
	return context.WithValue(ctx, connStateKey{}, cs), cs
}

func (s *connSet) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// begin marks a request begun on the connection: false when Shutdown has
// closed it meanwhile (it was idle), and the request is not served.
func (cs *connState) begin() bool {
	return cs.state.CompareAndSwap(connIdle, connBusy) || cs.state.CompareAndSwap(connNew, connBusy)
}

// end marks the connection's answer written: false when Shutdown has
// begun, and the connection is to close rather than wait for another
// request.
func (cs *connState) end() bool {
	cs.state.Store(connIdle)
	if cs.set.draining.Load() {
		cs.set.signal()
		return false
	}
	return true
}

// drain begins the shutdown of the set: connections that go idle from now
// on close. It returns how many connections onAccept has seen.
func (s *connSet) drain() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{}, 1)
	}
	s.draining.Store(true)
	return s.accepted
}

// seen is how many connections onAccept has seen.
func (s *connSet) seen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// sweep closes every idle connection with no request bytes arrived (in
// netpoll's buffer or the kernel's), and every such new one accepted at
// least newConnGrace ago. It returns how many connections are left open
// (busy ones, idle ones whose request has begun to arrive, new ones within
// their grace) and when the first of those new ones reaches its grace
// (zero: none).
func (s *connSet) sweep() (left int, next time.Time) {
	s.mu.Lock()
	states := make([]*connState, 0, len(s.m))
	for _, cs := range s.m {
		states = append(states, cs)
	}
	s.mu.Unlock()
	now := time.Now()
	for _, cs := range states {
		st := cs.state.Load()
		if (st == connIdle || st == connNew) && !cs.pending() {
			if st == connNew && now.Sub(cs.born) < newConnGrace {
				if due := cs.born.Add(newConnGrace); next.IsZero() || due.Before(next) {
					next = due
				}
			} else if cs.state.CompareAndSwap(st, connShut) {
				_ = cs.nc.Close()
				continue
			}
		}
		left++
	}
	return left, next
}

// open is how many connections are open.
func (s *connSet) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// pending reports whether bytes of a request have arrived on an idle
// connection: netpoll has buffered them, or the kernel holds them.
func (cs *connState) pending() bool {
	if cs.nc.Reader().Len() > 0 {
		return true
	}
	if f, ok := cs.nc.(interface{ Fd() int }); ok {
		return bytesQueued(f.Fd())
	}
	return false
}

// closeAll closes every tracked connection and any accepted later.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	conns := make([]netpoll.Connection, 0, len(s.m))
	for c := range s.m {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}
