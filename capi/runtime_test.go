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
