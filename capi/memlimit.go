package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The library's soft memory limit follows the load: after every GC it
// moves toward memLimitHeadroom times the live heap, never below
// memLimitFloor, rising by at most a quarter a cycle and falling at once.
// GOGC alone bounds the heap's goal, not what the process keeps: pages a
// burst used (64 connections sending 150 KB bodies at once, each body in
// netpoll's buffer and in its exchange's) stay resident until Go's lazy
// scavenger returns them, and a burst's goal grows with it. Under the
// limit the collector runs before Go's total memory passes it and returns
// free pages at once; the slow rise lets a short burst be collected
// against the old limit instead of raising it. The target is twice the
// live heap because GOGC 50 already collects at 1.5 times it: the rest is
// for stacks, the runtime's own memory and pages on their way back, so a
// lasting large heap is collected on GOGC's schedule after a few cycles
// and never spins against the limit. GOMEMLIMIT in the environment still
// decides, and then nothing here runs.
const (
	memLimitFloor    = 30 << 20
	memLimitHeadroom = 2
)

// liveHeap is the metric retuneMemLimit reads; touched only by the one
// goroutine that runs cleanups, one at a time.
var liveHeap = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

func init() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(memLimitFloor)
	armMemLimit()
}

// gcTick is an object made only to be collected: its cleanup runs once
// per GC cycle, retunes the limit and arms the next one. It holds a
// pointer so that it is never one of the runtime's tiny allocations,
// whose cleanups may never run.
type gcTick struct{ _ *byte }

func armMemLimit() {
	runtime.AddCleanup(&gcTick{}, func(struct{}) {
		retuneMemLimit()
		armMemLimit()
	}, struct{}{})
}

// retuneMemLimit sets the limit from the live heap the last GC found.
func retuneMemLimit() {
	metrics.Read(liveHeap)
	if liveHeap[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live := int64(liveHeap[0].Value.Uint64())
	debug.SetMemoryLimit(nextMemLimit(debug.SetMemoryLimit(-1), live))
}

// nextMemLimit is the limit after a GC that found live bytes, cur before.
func nextMemLimit(cur, live int64) int64 {
	target := max(memLimitFloor, memLimitHeadroom*live)
	if cur = max(cur, memLimitFloor); target <= cur {
		return target
	}
	return min(target, cur+cur/4)
}
