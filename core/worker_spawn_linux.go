package core

import "syscall"

// workerProcAttr has the kernel send a worker SIGTERM when the thread that
// spawned it ends, so that no worker outlives its supervisor, however the
// supervisor dies (see Supervisor.run on why it is the thread).
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
