package ratelimit

import (
	"context"
	"testing"
	"time"
)

// BenchmarkMemoryTake is the per-request cost of an in-memory limit.
func BenchmarkMemoryTake(b *testing.B) {
	m := NewMemory(Rate{PerSecond: 1e9, Burst: 1 << 30})
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		m.Take(ctx, "ip:127.0.0.1", now)
	}
}
