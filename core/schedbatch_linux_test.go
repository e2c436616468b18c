package core

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSchedBatch: with sched_batch every thread of the process runs under
// SCHED_BATCH once the app has started, with its nice value kept.
func TestSchedBatch(t *testing.T) {
	before, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	startApp(t, func(c *Config) { c.SchedBatch = true })
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue // exited meanwhile
		}
		if attr.Policy != unix.SCHED_BATCH || attr.Nice != before.Nice {
			t.Errorf("thread %d: policy %d nice %d, want SCHED_BATCH nice %d", tid, attr.Policy, attr.Nice, before.Nice)
		}
	}
}
