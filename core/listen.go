package core

import (
	"context"
	"net"
	"strconv"
)

// listen opens the app's TCP listener. With ReusePort several processes
// bind the same address and the kernel spreads new connections over them:
// that is how one app runs as several worker processes.
func (a *App) listen() (net.Listener, error) {
	lc := net.ListenConfig{}
	if a.cfg.ReusePort {
		lc.Control = reusePort
	}
	return lc.Listen(context.Background(), "tcp", net.JoinHostPort(a.cfg.Host, strconv.Itoa(a.cfg.Port)))
}
