package core

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// batchThreads moves every thread of the process that runs under the
// default policy to SCHED_BATCH, keeping its nice value. Threads created
// later inherit the policy of the thread that creates them.
//
// Why: a server's threads hand work to each other (Hertz's goroutines queue
// a request, the host thread answers a batch and wakes them). Under the
// default policy every such wake-up may preempt the thread that caused it,
// so on a busy core each side runs a few requests and switches; SCHED_BATCH
// turns off wake-up preemption, each side runs its whole batch, and a
// context switch serves many requests instead of a few (bench/PROFILE.md).
// It gives no priority over other processes.
func batchThreads() error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil || attr.Policy != unix.SCHED_NORMAL {
			continue // exited meanwhile, or a policy someone chose on purpose
		}
		attr.Policy = unix.SCHED_BATCH
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}
