//go:build linux

package core

import (
	"errors"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// drainListener is the listening socket as netpoll sees it. netpoll would
// otherwise convert a net.Listener itself (netpoll.ConvertListener), and
// that conversion is behind three faults this type removes:
//
//   - It dups the socket and keeps the copy open until its server closes;
//     a Shutdown issued before the server had started (right after Start)
//     found nothing to close, and the copy went on listening, and, with
//     reuse_port, taking a share of the address's new connections that
//     nobody would answer. netpoll calls Fd when its server registers the
//     socket: Start waits for that (registered), so a Shutdown always finds
//     a server to stop.
//   - Its Close closes the copy's fd number twice (once by number, once
//     through the os.File), which can close a file opened between the two.
//     Here the fd is a plain number closed once.
//   - Its Accept takes connections without SOCK_CLOEXEC, so a worker the
//     supervisor spawns inherits every open connection (a client would then
//     not see its connection close), and without TCP_NODELAY (netpoll sets
//     it only on its own connection type).
//
// And it drains: when the kernel closes a listening socket it resets the
// connections queued on it that nobody accepted yet (with reuse_port the
// other processes' sockets do not take them over unless the
// net.ipv4.tcp_migrate_req sysctl is set). drain closes the socket only once
// its queue is empty, so every connection the kernel queued here before the
// shutdown is accepted and served.
type drainListener struct {
	addr *net.TCPAddr

	mu       sync.Mutex
	fd       int  // the listening socket, then a placeholder once shut; -1 once closed
	shut     bool // the listening socket is gone (drain); fd is a placeholder
	draining bool

	registered chan struct{} // closed when netpoll's server takes the fd (Fd)
	regOnce    sync.Once
	shutDone   chan struct{} // closed once shut
	drainSince time.Time

	accepted int // connections handed to netpoll, under mu
}

// queueDrainLimit bounds how long drain waits for the queue to be empty: under a
// steady stream of new connections it may never be, and a reset of the
// few then queued beats not stopping.
const queueDrainLimit = 100 * time.Millisecond

// newDrainListener takes over ln's socket: ln is closed, and the socket
// lives on as the returned listener's own fd.
func newDrainListener(ln net.Listener) (*drainListener, error) {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil, errors.New("spikard: listener is not TCP")
	}
	raw, err := tl.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := raw.Control(func(s uintptr) {
		fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	addr, _ := tl.Addr().(*net.TCPAddr)
	_ = tl.Close() // the socket stays open through fd
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	return &drainListener{addr: addr, fd: fd, registered: make(chan struct{}), shutDone: make(chan struct{})}, nil
}

// Fd is netpoll.Listener's: netpoll's server calls it as it registers the
// socket with its poller.
func (l *drainListener) Fd() int {
	l.regOnce.Do(func() { close(l.registered) })
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fd
}

// Addr is net.Listener's.
func (l *drainListener) Addr() net.Addr { return l.addr }

// Accept is net.Listener's, as netpoll's server calls it: on its poller
// goroutine, once per readable event; (nil, nil) means nothing to accept.
func (l *drainListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shut || l.fd < 0 {
		return nil, nil
	}
	nfd, sa, err := unix.Accept4(l.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		if l.draining {
			l.tryShutLocked()
		}
		switch {
		case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
			return nil, err // netpoll backs off and retries
		}
		return nil, nil // EAGAIN, or a connection that went away in the queue
	}
	_ = unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	l.accepted++
	if l.draining {
		l.tryShutLocked()
	}
	return &acceptedConn{fd: nfd, local: l.addr, remote: tcpAddrOf(sa)}, nil
}

// drain begins the end of the listening socket: it closes as soon as its
// queue is empty (now, or after netpoll has accepted what is queued), or
// after queueDrainLimit. It returns when the socket is gone, with the number of
// connections ever handed to netpoll.
func (l *drainListener) drain() int {
	l.mu.Lock()
	if !l.draining {
		l.draining = true
		l.drainSince = time.Now()
	}
	l.tryShutLocked()
	l.mu.Unlock()
	t := time.NewTimer(queueDrainLimit)
	defer t.Stop()
	select {
	case <-l.shutDone:
	case <-t.C:
		l.mu.Lock()
		l.shutLocked()
		l.mu.Unlock()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted
}

// tryShutLocked shuts the socket if no connection is queued on it; one that
// is makes the socket readable, and netpoll's next Accept comes back here.
func (l *drainListener) tryShutLocked() {
	if l.shut || l.fd < 0 {
		return
	}
	fds := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 0); err == nil && n > 0 && fds[0].Revents&unix.POLLIN != 0 &&
		time.Since(l.drainSince) < queueDrainLimit {
		return
	}
	l.shutLocked()
}

// shutLocked closes the listening socket while its fd number stays taken
// (by an unbound socket) until netpoll, which still has the number, has
// detached it and calls Close: a number closed early could be reused by a
// new file, which netpoll's detach or a late Accept would then act on.
func (l *drainListener) shutLocked() {
	if l.shut || l.fd < 0 {
		return
	}
	l.shut = true
	defer close(l.shutDone)
	ph, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		err = unix.Dup3(ph, l.fd, unix.O_CLOEXEC) // closes the listening socket
		_ = unix.Close(ph)
	}
	if err != nil {
		// No placeholder (out of fds): close the number itself; Accept
		// no longer touches it.
		_ = unix.Close(l.fd)
		l.fd = -1
	}
}

// Close is net.Listener's: netpoll calls it once it has detached the fd
// from its poller. A listener netpoll never ran is closed by the app.
func (l *drainListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.shut {
		l.shut = true
		close(l.shutDone)
	}
	if l.fd >= 0 {
		_ = unix.Close(l.fd)
		l.fd = -1
	}
	return nil
}

func tcpAddrOf(sa unix.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
	case *unix.SockaddrInet6:
		a := &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	}
	return &net.TCPAddr{}
}

// acceptedConn carries an accepted socket to netpoll, which takes its fd
// and addresses (netpoll.Conn) and does all I/O itself; the net.Conn
// methods are never called.
type acceptedConn struct {
	fd            int
	local, remote net.Addr
}

func (c *acceptedConn) Fd() int                          { return c.fd }
func (c *acceptedConn) LocalAddr() net.Addr              { return c.local }
func (c *acceptedConn) RemoteAddr() net.Addr             { return c.remote }
func (c *acceptedConn) Read([]byte) (int, error)         { return 0, errNotForIO }
func (c *acceptedConn) Write([]byte) (int, error)        { return 0, errNotForIO }
func (c *acceptedConn) Close() error                     { return unix.Close(c.fd) }
func (c *acceptedConn) SetDeadline(time.Time) error      { return errNotForIO }
func (c *acceptedConn) SetReadDeadline(time.Time) error  { return errNotForIO }
func (c *acceptedConn) SetWriteDeadline(time.Time) error { return errNotForIO }

var errNotForIO = errors.New("spikard: accepted socket: netpoll does the I/O")

// bytesQueued reports whether the kernel holds bytes to read on socket fd.
func bytesQueued(fd int) bool {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	return err == nil && n > 0
}
