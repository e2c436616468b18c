package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the library's GOGC. Go's heap in a host process is mostly
// transient request and answer buffers (64 connections with 150 KB bodies
// hold about 20 MB of them at once), and the default of 100 lets the heap
// grow to twice that before collecting. At 50, peak RSS on the largest
// benchmark bodies fell 7% (91 to 85 MB) with throughput unchanged within
// noise (bench/PROFILE.md). GOGC in the environment still decides.
const gcPercent = 50

func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
