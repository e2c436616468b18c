package core

import (
	"sync"
	"sync/atomic"

	"github.com/cloudwego/hertz/pkg/network"
)

// socketSet is an app's open WebSockets, so that Shutdown can close them,
// and the upgrades Hertz has not handed over yet. Safe for concurrent use.
type socketSet struct {
	mu       sync.Mutex
	m        map[*wsConn]struct{}
	pending  map[network.Conn]*wsConn
	npending atomic.Int32
	stopping bool // Shutdown has begun: every WebSocket is closed with 1001
	forced   bool // its deadline passed: every WebSocket is dropped
}

// add registers w, whose upgrade on conn is under way.
func (s *socketSet) add(w *wsConn, conn network.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[*wsConn]struct{}{}
		s.pending = map[network.Conn]*wsConn{}
	}
	s.m[w] = struct{}{}
	s.pending[conn] = w
	s.npending.Add(1)
	switch {
	case s.forced:
		w.close(CloseGoingAway, "server shutting down", true)
		w.drop()
	case s.stopping:
		w.close(CloseGoingAway, "server shutting down", false)
	}
}

// started records that Hertz handed conn over.
func (s *socketSet) started(conn network.Conn) {
	s.mu.Lock()
	if _, ok := s.pending[conn]; ok {
		delete(s.pending, conn)
		s.npending.Add(-1)
	}
	s.mu.Unlock()
}

// orphaned ends the WebSocket whose upgrade on conn Hertz never handed
// over; the front calls it for every connection that ends in an error.
func (s *socketSet) orphaned(conn network.Conn) {
	if s.npending.Load() == 0 {
		return
	}
	s.mu.Lock()
	w := s.pending[conn]
	if w != nil {
		delete(s.pending, conn)
		s.npending.Add(-1)
	}
	s.mu.Unlock()
	if w != nil {
		w.orphan()
	}
}

func (s *socketSet) remove(w *wsConn) {
	s.mu.Lock()
	delete(s.m, w)
	s.mu.Unlock()
}

// stop closes every WebSocket with 1001, after what is queued.
func (s *socketSet) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = true
	for w := range s.m {
		w.close(CloseGoingAway, "server shutting down", false)
	}
}

// force drops every WebSocket still open at the shutdown deadline.
func (s *socketSet) force() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced = true
	for w := range s.m {
		w.close(CloseGoingAway, "server shutting down", true)
		w.drop()
	}
}
