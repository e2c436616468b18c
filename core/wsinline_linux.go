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
//
// Asking the kernel (an ioctl) for every frame costs more than the check is
// worth when the buffer is nearly empty, so the answer is kept: spare is
// what may still be written inline before the kernel is asked again. It
// only shrinks between asks, by each frame written inline, and is zeroed
// (so the next frame asks) whenever anything else writes on the socket:
// the writer goroutine, a ping or a pong. The bytes the kernel holds only
// grow by what is written, so spare never overstates the room but by a
// control frame being written at that moment, which the spare half absorbs.
type sendRoom struct {
	fd     int // -1: unknown, never inline
	sndbuf int // SO_SNDBUF when the WebSocket started (the kernel only grows it)
	spare  int // bytes known to fit (frame allowance included) without asking
}

// frameAllowance covers a frame's header (at most 14 bytes from a server).
const frameAllowance = 16

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

// fits reports whether a frame of n bytes leaves half the send buffer free
// (SIOCOUTQ: the bytes the kernel holds, unsent or unacknowledged), and
// if so counts it as written. The caller holds the wsConn's mu.
func (r *sendRoom) fits(n int) bool {
	if r.fd < 0 {
		return false
	}
	n += frameAllowance
	if n <= r.spare {
		r.spare -= n
		return true
	}
	var held int32
	if _, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(r.fd), unix.SIOCOUTQ, uintptr(unsafe.Pointer(&held))); e != 0 {
		r.spare = 0
		return false
	}
	r.spare = r.sndbuf/2 - int(held)
	if n > r.spare {
		return false
	}
	r.spare -= n
	return true
}

// forget makes the next fits ask the kernel: something else wrote. The
// caller holds the wsConn's mu.
func (r *sendRoom) forget() { r.spare = 0 }
