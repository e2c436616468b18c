package core

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
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
	for tid, attr := range threadPolicies(t) {
		if attr.Policy != unix.SCHED_BATCH || attr.Nice != before.Nice {
			t.Errorf("thread %d: policy %d nice %d, want SCHED_BATCH nice %d", tid, attr.Policy, attr.Nice, before.Nice)
		}
	}
}

// schedChildEnv marks the child process of TestSchedBatchNewThreads.
const schedChildEnv = "SPIKARD_TEST_SCHED_BATCH_CHILD"

// TestSchedBatchNewThreads: threads that start while batchThreads switches
// the others, including threads that threads not yet switched start, end
// up under SCHED_BATCH too. Goroutines keep the runtime starting threads
// throughout: each locks a goroutine to its thread and lets it exit, which
// ends the thread. And right after the first pass has listed the threads,
// before it has switched any, the test starts threads that the listing
// therefore lacks and that inherit SCHED_NORMAL: the race, every time.
//
// It runs in a child process: there every thread starts under SCHED_NORMAL,
// whatever other tests in this process have switched already.
func TestSchedBatchNewThreads(t *testing.T) {
	if os.Getenv(schedChildEnv) == "" {
		runSchedChild(t)
		return
	}
	for tid, attr := range threadPolicies(t) {
		if attr.Policy != unix.SCHED_NORMAL {
			t.Fatalf("thread %d starts under policy %d, want SCHED_NORMAL", tid, attr.Policy)
		}
	}

	var stop atomic.Bool
	var churn sync.WaitGroup
	const churners = 4
	started := make(chan struct{}, churners)
	for range churners {
		churn.Add(1)
		go func() {
			defer churn.Done()
			for i := 0; !stop.Load(); i++ {
				done := make(chan struct{})
				go func() {
					runtime.LockOSThread() // not unlocked: the thread ends with the goroutine
					close(done)
				}()
				<-done
				if i == 0 {
					started <- struct{}{}
				}
			}
		}()
	}
	for range churners {
		<-started
	}

	// Each goroutine below holds a thread until release; once the idle
	// threads are taken the runtime has to start new ones, from threads
	// that are all still SCHED_NORMAL.
	release := make(chan struct{})
	var held sync.WaitGroup
	unlisted := 0
	testHookBatchListed = func() {
		testHookBatchListed = nil // the first pass only
		listed := threadPolicies(t)
		for range 200 {
			tid := make(chan int)
			held.Add(1)
			go func() {
				defer held.Done()
				runtime.LockOSThread() // not unlocked: the thread ends with the goroutine
				tid <- unix.Gettid()
				<-release
			}()
			if _, ok := listed[<-tid]; !ok {
				unlisted++
				return
			}
		}
	}
	defer func() { testHookBatchListed = nil }()

	passes, err := batchThreadsPasses(maxBatchPasses)
	stop.Store(true)
	churn.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if unlisted == 0 {
		t.Fatal("no thread started between the first pass's listing and its switching")
	}
	t.Logf("%d passes", passes)
	for tid, attr := range threadPolicies(t) {
		if attr.Policy != unix.SCHED_BATCH {
			t.Errorf("thread %d: policy %d, want SCHED_BATCH (%d passes)", tid, attr.Policy, passes)
		}
	}
	close(release)
	held.Wait()
}

// runSchedChild runs TestSchedBatchNewThreads in a child process, forked
// from a thread put under SCHED_NORMAL, whose policy the child inherits.
func runSchedChild(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attr, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	attr.Policy = unix.SCHED_NORMAL
	if err := unix.SchedSetAttr(0, attr, 0); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSchedBatchNewThreads$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), schedChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestSchedBatchNewThreads")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("child:\n%s", out)
	}
}

// threadPolicies returns the scheduling attributes of the process's
// threads, skipping those that exit meanwhile.
func threadPolicies(t *testing.T) map[int]*unix.SchedAttr {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	attrs := make(map[int]*unix.SchedAttr, len(tasks))
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		if attr, err := unix.SchedGetAttr(tid, 0); err == nil {
			attrs[tid] = attr
		}
	}
	return attrs
}
