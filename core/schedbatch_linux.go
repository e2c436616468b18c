package core

import (
	"errors"
	"fmt"
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
	_, err := batchThreadsPasses(maxBatchPasses)
	return err
}

// maxBatchPasses bounds batchThreads. A quiet process needs two passes;
// each pass more means threads kept starting or exiting under it.
const maxBatchPasses = 1000

// batchThreadsPasses runs passes over the process's threads until one is
// clean, and returns how many it took. One pass is not enough: a thread
// that a not-yet-switched thread creates during the pass inherits
// SCHED_NORMAL, and may not be listed.
//
// Why a clean pass (every thread it lists is still there and none is
// SCHED_NORMAL) proves that no thread is or will be SCHED_NORMAL, leaving
// aside policies someone else sets: a clean pass switches nothing, and
// only passes switch, so every policy is constant while it runs. Listing
// /proc/self/task walks the thread list in order, new threads joining at
// the end, and misses a live thread only when a thread it had already
// listed exits meanwhile, which the pass sees as a listed thread gone; so
// a clean pass lists every thread alive when its walk ends, and found each
// non-SCHED_NORMAL. A thread created after that descends, through its
// creators, from one of those, and a new thread inherits its creator's
// policy. (A thread id reused within the pass would defeat this; Linux
// hands out ids in increasing order, so that needs the whole pid space to
// wrap around during one pass.)
func batchThreadsPasses(limit int) (int, error) {
	for pass := 1; pass <= limit; pass++ {
		clean, err := batchPass()
		if err != nil || clean {
			return pass, err
		}
	}
	return limit, fmt.Errorf("spikard: sched_batch: threads still changing after %d passes over them", limit)
}

// testHookBatchListed, when set, runs in every pass right after the threads
// are listed: tests start threads there, before any is switched.
var testHookBatchListed func()

// batchPass lists the threads once and switches those under SCHED_NORMAL.
// It reports whether the pass was clean: every thread listed was still
// there, and none had to be switched.
func batchPass() (clean bool, err error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false, err
	}
	if testHookBatchListed != nil {
		testHookBatchListed()
	}
	clean = true
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		attr, err := unix.SchedGetAttr(tid, 0)
		if errors.Is(err, unix.ESRCH) {
			clean = false // it exited, and the listing may have missed a thread
			continue
		}
		if err != nil {
			return false, fmt.Errorf("spikard: sched_batch: thread %d: %w", tid, err)
		}
		if attr.Policy != unix.SCHED_NORMAL {
			continue // done, or a policy someone chose on purpose
		}
		clean = false
		attr.Policy = unix.SCHED_BATCH
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return false, fmt.Errorf("spikard: sched_batch: thread %d: %w", tid, err)
		}
	}
	return clean, nil
}
