package core

import (
	"context"
	"net"
	"sync"

	hnetpoll "github.com/cloudwego/hertz/pkg/network/netpoll"
	"github.com/cloudwego/netpoll"
)

// connSet tracks an app's open connections so Shutdown can close idle
// keep-alive connections: Hertz holds those in a blocking read that its
// own graceful shutdown waits out until its deadline. One entry per
// connection, never per request. Safe for concurrent use.
type connSet struct {
	mu     sync.Mutex
	m      map[netpoll.Connection]struct{}
	closed bool
}

// onAccept is Hertz's OnAccept hook.
func (s *connSet) onAccept(conn net.Conn) context.Context {
	ctx := context.Background()
	hc, ok := conn.(*hnetpoll.Conn)
	if !ok {
		return ctx
	}
	nc, ok := hc.Conn.(netpoll.Connection)
	if !ok {
		return ctx
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return ctx
	}
	if s.m == nil {
		s.m = map[netpoll.Connection]struct{}{}
	}
	s.m[nc] = struct{}{}
	s.mu.Unlock()
	_ = nc.AddCloseCallback(func(c netpoll.Connection) error {
		s.mu.Lock()
		delete(s.m, c)
		s.mu.Unlock()
		return nil
	})
	return ctx
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
