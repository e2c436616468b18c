package ratelimit

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spikard/spikard/core/internal/redistest"
)

var t0 = time.Unix(1_800_000_000, 0)

// bucketRules runs the token-bucket rules against a store with an injected
// clock: the same table for memory and Redis, so they have one semantics.
func bucketRules(t *testing.T, newStore func(Rate) Store) {
	ctx := context.Background()
	r := Rate{PerSecond: 2, Burst: 3}
	s := newStore(r)
	defer s.Close()
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	steps := []struct {
		at        time.Duration
		key       string
		allowed   bool
		remaining int
		retry     time.Duration
		reset     time.Duration
	}{
		{0, "a", true, 2, 0, 500 * time.Millisecond},
		{0, "a", true, 1, 0, time.Second},
		{0, "a", true, 0, 0, 1500 * time.Millisecond},
		{0, "a", false, 0, 500 * time.Millisecond, 1500 * time.Millisecond},
		{0, "b", true, 2, 0, 500 * time.Millisecond}, // another key has its own bucket
		{250 * time.Millisecond, "a", false, 0, 250 * time.Millisecond, 1250 * time.Millisecond},
		{500 * time.Millisecond, "a", true, 0, 0, 1500 * time.Millisecond},                       // one token refilled
		{100 * time.Millisecond, "a", false, 0, 500 * time.Millisecond, 1500 * time.Millisecond}, // clock went back: no refill
		{10 * time.Second, "a", true, 2, 0, 500 * time.Millisecond},                              // refill capped at burst
	}
	for i, st := range steps {
		d, err := s.Take(ctx, st.key, at(st.at))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if d.Allowed != st.allowed || d.Remaining != st.remaining || d.RetryAfter != st.retry || d.Reset != st.reset || d.Limit != 3 {
			t.Fatalf("step %d: got %+v, want allowed=%v remaining=%d retry=%v reset=%v",
				i, d, st.allowed, st.remaining, st.retry, st.reset)
		}
	}
	// Over a window t at a steady overload, admitted = burst + rate*t.
	s2 := newStore(Rate{PerSecond: 10, Burst: 5})
	defer s2.Close()
	admitted := 0
	for ms := 0; ms <= 2000; ms += 10 { // 100 offers a second for 2 s
		if d, _ := s2.Take(ctx, "w", at(time.Duration(ms)*time.Millisecond)); d.Allowed {
			admitted++
		}
	}
	if admitted != 5+20 {
		t.Fatalf("admitted %d, want burst+rate*t = 25", admitted)
	}
}

func TestMemoryBucket(t *testing.T) {
	bucketRules(t, func(r Rate) Store { return NewMemory(r) })
}

func TestMemorySweep(t *testing.T) {
	m := NewMemory(Rate{PerSecond: 1, Burst: 1})
	ctx := context.Background()
	for i := 0; i < 64*1024; i++ {
		m.Take(ctx, strconv.Itoa(i), t0)
	}
	if n := m.Len(); n != 64*1024 {
		t.Fatalf("held %d", n) // none is full yet: all kept
	}
	later := t0.Add(2 * time.Second)
	for i := 0; i < 64*1024; i++ {
		m.Take(ctx, "new"+strconv.Itoa(i), later)
	}
	if n := m.Len(); n > 64*1024+64*1024/2 {
		t.Fatalf("held %d: the refilled buckets were not dropped", n)
	}
}

func TestRateCheck(t *testing.T) {
	for _, c := range []struct {
		r    Rate
		want string
	}{
		{Rate{0, 1}, "rate_limit.per_second must be a positive number, got 0"},
		{Rate{-1, 1}, "rate_limit.per_second"},
		{Rate{1, 0}, "rate_limit.burst must be at least 1, got 0"},
	} {
		if err := c.r.Check("rate_limit."); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.r, err)
		}
	}
}

func startRedis(t *testing.T) string { return redistest.Start(t) }

func freePort(t *testing.T) int { return redistest.FreePort(t) }

func TestRedisBucket(t *testing.T) {
	url := startRedis(t)
	n := 0
	bucketRules(t, func(r Rate) Store {
		n++ // a prefix per store, as the table reuses key names
		s, err := NewRedis(context.Background(), r, RedisOptions{URL: url, Prefix: "t" + strconv.Itoa(n) + ":"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Two stores on one Redis (two workers) share one bucket.
func TestRedisShared(t *testing.T) {
	url := startRedis(t)
	r := Rate{PerSecond: 1, Burst: 4}
	a, err := NewRedis(context.Background(), r, RedisOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := NewRedis(context.Background(), r, RedisOptions{URL: url})
	defer b.Close()
	admitted := 0
	for i := 0; i < 10; i++ {
		s := Store(a)
		if i%2 == 1 {
			s = b
		}
		if d, err := s.Take(context.Background(), "k", t0); err != nil {
			t.Fatal(err)
		} else if d.Allowed {
			admitted++
		}
	}
	if admitted != 4 {
		t.Fatalf("two stores admitted %d, want the burst of one bucket (4)", admitted)
	}
}

// blackhole accepts connections and never answers: a Redis that hangs.
func blackhole(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return "redis://" + ln.Addr().String()
}

func TestRedisUnreachable(t *testing.T) {
	refused := "redis://127.0.0.1:" + strconv.Itoa(freePort(t))
	hangs := blackhole(t)
	ctx := context.Background()
	for _, url := range []string{refused, hangs} {
		start := time.Now()
		_, err := New(ctx, "rate_limit.", Config{PerSecond: 1, Burst: 1, RedisURL: url, RedisTimeout: 0.2}, nil, nil)
		if err == nil || !strings.Contains(err.Error(), "rate limit store unavailable: rate_limit.redis_url 127.0.0.1:") {
			t.Fatalf("%s: %v", url, err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("%s: the start error took %v", url, el)
		}
		l, err := New(ctx, "rate_limit.", Config{PerSecond: 1, Burst: 1, RedisURL: url, RedisTimeout: 0.2, FailOpen: true}, nil, nil)
		if err != nil {
			t.Fatalf("fail_open: %v", err)
		}
		for i := 0; i < 3; i++ { // more than the burst: all admitted while failing open
			start = time.Now()
			d, err := l.Take(ctx, "k")
			if err != nil || !d.Allowed || d.Limit != 0 {
				t.Fatalf("fail_open take: %+v %v", d, err)
			}
			if el := time.Since(start); el > time.Second {
				t.Fatalf("a fail-open take took %v", el)
			}
		}
		l.Close()
	}
}

// A store lost after start, failing closed: each take is an error.
func TestRedisGoneFailClosed(t *testing.T) {
	url := startRedis(t)
	l, err := New(context.Background(), "rate_limit.", Config{PerSecond: 1, Burst: 5, RedisURL: url, RedisTimeout: 0.2}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if d, err := l.Take(context.Background(), "k"); err != nil || !d.Allowed {
		t.Fatal(d, err)
	}
	l.store.(*Redis).client.Close() // the store is gone
	if _, err := l.Take(context.Background(), "k"); err == nil {
		t.Fatal("a take on a closed store succeeded")
	}
}

// TestRedisPipelinedTakes: takes from many goroutines at once, pipelined
// together, still spend each token once: exactly the burst is admitted at
// one instant. After SCRIPT FLUSH (a Redis restart loses its scripts too)
// takes go on; after Close they fail.
func TestRedisPipelinedTakes(t *testing.T) {
	url := startRedis(t)
	s, err := NewRedis(context.Background(), Rate{PerSecond: 0.001, Burst: 50}, RedisOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := s.Take(context.Background(), "k", t0)
			if err != nil {
				t.Error(err)
			} else if d.Allowed {
				admitted.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 50 {
		t.Fatalf("400 concurrent takes admitted %d, want the burst (50)", n)
	}
	if err := s.client.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Take(context.Background(), "other", t0); err != nil || !d.Allowed {
		t.Fatalf("after SCRIPT FLUSH: %+v %v", d, err)
	}
	s.Close()
	if _, err := s.Take(context.Background(), "k", t0); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after Close: %v", err)
	}
}
