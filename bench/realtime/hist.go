package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits is how finely each power of two is split: 2^subBits buckets per
// octave, so a bucket's width is at most 1/2^subBits (3%) of its value, the
// precision a percentile is quoted with.
const subBits = 5

// histBuckets covers 0 .. 2^63 ns: values below 2^subBits ns get one bucket
// each, every octave above that gets 2^subBits.
const histBuckets = (64 - subBits + 1) << subBits

// Histogram counts latencies in log-linear buckets. The zero value is empty
// and ready; it is not safe for concurrent use (each connection keeps its
// own and the totals are merged at the end, so recording takes no lock).
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    float64 // ns, for the mean
	min    time.Duration
	max    time.Duration
}

// bucketOf is the bucket of a value in ns: exact below 2^subBits, then the
// octave (its highest bit) and the next subBits bits below it.
func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	octave := bits.Len64(v) - subBits - 1 // how far v must shift to keep subBits+1 bits
	mantissa := v >> uint(octave)         // in [2^subBits, 2^(subBits+1))
	return (octave+1)<<subBits + int(mantissa-(1<<subBits))
}

// bucketHigh is the largest value in ns that falls into bucket b.
func bucketHigh(b int) uint64 {
	if b < 1<<subBits {
		return uint64(b)
	}
	octave := b>>subBits - 1
	mantissa := uint64(b&(1<<subBits-1)) + 1<<subBits
	return (mantissa+1)<<uint(octave) - 1
}

// Record adds one latency; a negative one counts as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += float64(d)
}

// Merge adds every count of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is how many latencies were recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Mean is the mean latency, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Quantile is the latency at or below which a fraction q (0..1) of the
// recorded ones fall: the upper edge of the bucket holding the rank
// ceil(q*n), clamped to the largest recorded value; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketHigh(b))
			if v > h.max {
				v = h.max
			}
			if v < h.min {
				v = h.min
			}
			return v
		}
	}
	return h.max
}
