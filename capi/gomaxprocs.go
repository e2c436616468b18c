package main

import (
	"os"
	"runtime"
)

// minProcs is the fewest Ps the library runs with. A host thread calls into
// Go (poll, respond) while Hertz's goroutines run, and each call needs a P:
// with GOMAXPROCS 1 (a process pinned to one CPU) the host waits for the
// only P to be handed over on every call, and the goroutines it wakes wait
// for it in turn. Spare Ps let both sides run, the OS sharing the CPU;
// measured +15% requests per second on one core (bench/PROFILE.md).
// GOMAXPROCS in the environment still decides.
const minProcs = 4

func init() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < minProcs {
		runtime.GOMAXPROCS(minProcs)
	}
}
