package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const shards = 64

// Memory keeps buckets in this process, in lock shards chosen by a hash of
// the key, so concurrent clients rarely wait on one another. A bucket that
// has refilled completely is the same as no bucket, so shards drop those when
// they grow: memory follows the clients active within one refill period.
type Memory struct {
	rate   Rate
	seed   maphash.Seed
	shards [shards]shard
}

type shard struct {
	mu      sync.Mutex
	buckets map[string]bucket
	sweepAt int
}

type bucket struct {
	tokens float64
	last   int64 // µs since the Unix epoch
}

// NewMemory returns an in-process store of buckets of rate r.
func NewMemory(r Rate) *Memory {
	m := &Memory{rate: r, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].buckets = make(map[string]bucket)
		m.shards[i].sweepAt = 1024
	}
	return m
}

// Take never fails.
func (m *Memory) Take(_ context.Context, key string, now time.Time) (Decision, error) {
	s := &m.shards[maphash.String(m.seed, key)%shards]
	at := now.UnixMicro()
	s.mu.Lock()
	b, ok := s.buckets[key]
	if !ok {
		b = bucket{tokens: float64(m.rate.Burst), last: at}
	}
	var d Decision
	b.tokens, d = take(m.rate, b.tokens, b.last, at)
	if at > b.last {
		b.last = at
	}
	s.buckets[key] = b
	if len(s.buckets) >= s.sweepAt {
		m.sweep(s, at)
	}
	s.mu.Unlock()
	return d, nil
}

// sweep drops the buckets that would be full by now, then lets the shard
// grow to twice what is left before sweeping again.
func (m *Memory) sweep(s *shard, now int64) {
	full := int64(float64(m.rate.Burst)/m.rate.PerSecond*1e6) + 1
	for k, b := range s.buckets {
		if now-b.last >= full {
			delete(s.buckets, k)
		}
	}
	s.sweepAt = max(1024, 2*len(s.buckets))
}

// Len counts the buckets held (for tests).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		m.shards[i].mu.Lock()
		n += len(m.shards[i].buckets)
		m.shards[i].mu.Unlock()
	}
	return n
}

// Close does nothing.
func (m *Memory) Close() error { return nil }
