package core

import (
	"context"
	"net/http"
	"syscall"
	"unsafe"
)

type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const pollIn = 0x1

// pollFds is poll(2), to check ReadyFD as an event loop would.
func pollFds(fds []pollFd, timeoutMs int) int {
	n, _, _ := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(timeoutMs))
	return int(n)
}

func newRequestCtx(ctx context.Context, url string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, "GET", url, nil)
}

func httpDo(req *http.Request) (*http.Response, error) { return http.DefaultClient.Do(req) }
