//go:build !unix

package core

import (
	"errors"
	"syscall"
)

// reusePort: SO_REUSEPORT exists only on Unix systems.
func reusePort(_, _ string, _ syscall.RawConn) error {
	return errors.New("reuse_port is not supported on this platform")
}
