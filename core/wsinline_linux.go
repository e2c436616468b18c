package core

import (
	"syscall"
	"unsafe"

	"github.com/cloudwego/hertz/pkg/network"
	hnetpoll "github.com/cloudwego/hertz/pkg/network/netpoll"
	"golang.org/x/sys/unix"
)

// sendRoom is how a WebSocket tells whether a frame can be written on the
// caller's goroutine (a host thread inside StreamWrite) without waiting:
// the kernel must have room for it in the socket's send buffer with half
// the buffer to spare. netpoll writes in the caller and waits only when the
// kernel takes part of a write, which the spare half rules out but for a
// peer that stops reading at that very moment (then the write waits up to
// Config.ReadTimeout, as the writer goroutine's would).
type sendRoom struct {
	fd     int // -1: unknown, never inline
	sndbuf int // SO_SNDBUF when the WebSocket started (the kernel only grows it)
}

// newSendRoom finds the socket under a Hertz netpoll connection.
func newSendRoom(c network.Conn) sendRoom {
	hc, ok := c.(*hnetpoll.Conn)
	if !ok {
		return sendRoom{fd: -1}
	}
	f, ok := hc.Conn.(interface{ Fd() int })
	if !ok {
		return sendRoom{fd: -1}
	}
	fd := f.Fd()
	n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil || n <= 0 {
		return sendRoom{fd: -1}
	}
	return sendRoom{fd: fd, sndbuf: n}
}

// fits reports whether n more bytes leave half the send buffer free
// (SIOCOUTQ: the bytes the kernel holds, unsent or unacknowledged).
func (r sendRoom) fits(n int) bool {
	if r.fd < 0 {
		return false
	}
	var held int32
	if _, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(r.fd), unix.SIOCOUTQ, uintptr(unsafe.Pointer(&held))); e != 0 {
		return false
	}
	return int(held)+n+16 <= r.sndbuf/2
}
