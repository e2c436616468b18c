//go:build !linux

package core

import (
	"net"
	"sync"
)

// drainListener elsewhere is the listener netpoll converts itself (see
// drainlistener_linux.go for what the Linux one adds).
type drainListener struct {
	net.Listener
	registered chan struct{}
	once       sync.Once
}

func newDrainListener(ln net.Listener) (*drainListener, error) {
	l := &drainListener{Listener: ln, registered: make(chan struct{})}
	close(l.registered)
	return l, nil
}

// drain closes the listener; -1: the connections handed over are not
// counted here.
func (l *drainListener) drain() int {
	_ = l.Close()
	return -1
}

func (l *drainListener) Close() error {
	var err error
	l.once.Do(func() { err = l.Listener.Close() })
	return err
}

func bytesQueued(int) bool { return false }
