package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

// Loading the library sets Go's GOGC and a floor on GOMAXPROCS unless the
// environment sets them (spikard.h, RUNTIME); the test binary loads the
// same init functions.
func TestRuntimePolicy(t *testing.T) {
	if os.Getenv("GOGC") == "" {
		prev := debug.SetGCPercent(gcPercent)
		if prev != gcPercent {
			t.Errorf("GOGC at load = %d, want %d", prev, gcPercent)
		}
	}
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < minProcs {
		t.Errorf("GOMAXPROCS at load = %d, want at least %d", runtime.GOMAXPROCS(0), minProcs)
	}
}

// Loading the library sets a soft memory limit that follows the live heap
// (memlimit.go), unless GOMEMLIMIT is set: never below the floor, and
// twice a live heap past half of it once a GC has seen that heap.
func TestMemoryLimitFollowsLiveHeap(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: the environment decides")
	}
	if got := debug.SetMemoryLimit(-1); got < memLimitFloor {
		t.Fatalf("memory limit at load = %d, want at least %d", got, memLimitFloor)
	}
	live := make([]byte, 3*memLimitFloor)
	for i := range live {
		live[i] = 1
	}
	want := int64(memLimitHeadroom * len(live))
	// Cleanups run on their own goroutine after a cycle: each GC gives the
	// last cycle's one a turn.
	for i := 0; i < 100 && debug.SetMemoryLimit(-1) < want; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if got := debug.SetMemoryLimit(-1); got < want {
		t.Errorf("memory limit with %d live bytes = %d, want at least %d", len(live), got, want)
	}
	runtime.KeepAlive(live)
	for i := 0; i < 100 && debug.SetMemoryLimit(-1) >= want; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if got := debug.SetMemoryLimit(-1); got >= want {
		t.Errorf("memory limit after the heap was freed = %d, still at least %d", got, want)
	}
}

// The limit moves toward twice the live heap, never below the floor,
// rising by at most a quarter a cycle and falling at once.
func TestNextMemLimit(t *testing.T) {
	const mib = 1 << 20
	cases := []struct{ cur, live, want int64 }{
		{memLimitFloor, 1 * mib, memLimitFloor},           // small heap: the floor
		{memLimitFloor, 16 * mib, memLimitFloor + 2*mib},  // 2x live, within a quarter
		{memLimitFloor, 100 * mib, memLimitFloor * 5 / 4}, // a burst: a quarter more
		{100 * mib, 60 * mib, 120 * mib},                  // still rising, by a quarter at most
		{200 * mib, 20 * mib, 40 * mib},                   // the heap fell: at once
		{200 * mib, 1 * mib, memLimitFloor},               // and never below the floor
		{0, 32 * mib, memLimitFloor * 5 / 4},              // a limit below the floor rises from it
	}
	for _, c := range cases {
		if got := nextMemLimit(c.cur, c.live); got != c.want {
			t.Errorf("nextMemLimit(%d MiB, live %d MiB) = %.2f MiB, want %.2f MiB", c.cur/mib, c.live/mib, float64(got)/mib, float64(c.want)/mib)
		}
	}
}
