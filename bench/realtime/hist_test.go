package main

import (
	"math/rand"
	"sort"
	"testing"
	"time"
)

func TestBucketsAreContiguous(t *testing.T) {
	// Every value falls into the bucket whose upper edge is at or above it
	// and whose predecessor's upper edge is below it.
	for _, v := range []uint64{0, 1, 31, 32, 33, 63, 64, 65, 1000, 1 << 20, 1<<20 + 1, 123456789, 1 << 62} {
		b := bucketOf(v)
		if bucketHigh(b) < v {
			t.Errorf("value %d: bucket %d ends at %d, below it", v, b, bucketHigh(b))
		}
		if b > 0 && bucketHigh(b-1) >= v {
			t.Errorf("value %d: bucket %d's predecessor ends at %d, not below it", v, b, bucketHigh(b-1))
		}
	}
	if b := bucketOf(1<<63 + 5); b >= histBuckets {
		t.Fatalf("the largest values overflow: bucket %d of %d", b, histBuckets)
	}
}

func TestQuantilesWithinBucketPrecision(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var h Histogram
	values := make([]time.Duration, 100000)
	for i := range values {
		values[i] = time.Duration(rng.ExpFloat64() * float64(200*time.Microsecond))
		h.Record(values[i])
	}
	sort.Slice(values, func(i, j int) bool { return values[i] < values[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := values[int(q*float64(len(values)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got) > float64(exact)*(1+1.0/(1<<subBits))+1 {
			t.Errorf("q%.3f: got %v, exact %v (allowed: up to %.1f%% above)", q, got, exact, 100.0/(1<<subBits))
		}
	}
	if h.Quantile(1) != values[len(values)-1] {
		t.Errorf("q1: got %v, the largest value is %v", h.Quantile(1), values[len(values)-1])
	}
	if h.Count() != uint64(len(values)) {
		t.Errorf("count %d, want %d", h.Count(), len(values))
	}
}

func TestMergeEqualsOneHistogram(t *testing.T) {
	var a, b, all Histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var merged Histogram
	merged.Merge(&a)
	merged.Merge(&b)
	merged.Merge(&Histogram{}) // an empty one changes nothing
	if merged != all {
		t.Fatalf("merged: n=%d min=%v max=%v; one histogram: n=%d min=%v max=%v",
			merged.n, merged.min, merged.max, all.n, all.min, all.max)
	}
	if got := merged.Mean(); got < 500*time.Microsecond || got > 501*time.Microsecond {
		t.Errorf("mean %v, want 500.5µs", got)
	}
}

func TestEmptyHistogram(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatalf("an empty histogram answers %v, %v, %d", h.Quantile(0.5), h.Mean(), h.Count())
	}
	h.Record(-time.Second)
	if h.Quantile(0.99) != 0 {
		t.Fatalf("a negative latency counts as zero, got %v", h.Quantile(0.99))
	}
}
