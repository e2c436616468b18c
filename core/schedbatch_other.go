//go:build !linux

package core

// batchThreads: SCHED_BATCH is Linux's; elsewhere the option does nothing.
func batchThreads() error { return nil }
