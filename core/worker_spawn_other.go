//go:build !linux

package core

import "syscall"

// workerProcAttr: only Linux has PR_SET_PDEATHSIG. Elsewhere a worker
// outlives a supervisor that is killed; a supervisor that stops stops its
// workers first.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}
