// Package bench runs the read-path benchmark: warm-up, a fixed duration or
// count per path, N concurrent readers, an optional concurrent writer at a
// target rate, and log-linear latency histograms (HdrHistogram-style: about
// 3% relative precision, constant memory, exact counts).
package bench

import (
	"math/bits"
	"sync"
	"time"
)

const subBits = 5 // 32 sub-buckets per power of two: ≤ 3.2% error

// Hist is a log-linear histogram of microsecond latencies, safe for concurrent use.
type Hist struct {
	mu     sync.Mutex
	counts [64 << subBits]uint64
	n      uint64
	max    uint64
}

func index(v uint64) int {
	if v < 2<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - (subBits + 1)
	return (e+1)<<subBits + int(v>>uint(e)) - (1 << subBits)
}

// upper returns the largest value that maps to bucket i.
func upper(i int) uint64 {
	if i < 2<<subBits {
		return uint64(i)
	}
	e := i>>subBits - 1
	sub := uint64(i&(1<<subBits-1)) + 1<<subBits
	return (sub+1)<<uint(e) - 1
}

// Record adds one observation.
func (h *Hist) Record(d time.Duration) {
	v := uint64(d.Microseconds())
	h.mu.Lock()
	h.counts[index(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
	h.mu.Unlock()
}

// Count is the number of observations.
func (h *Hist) Count() uint64 { h.mu.Lock(); defer h.mu.Unlock(); return h.n }

// Quantile returns the latency at q (0..1), reported as the bucket's upper bound.
func (h *Hist) Quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			u := upper(i)
			if u > h.max {
				u = h.max
			}
			return time.Duration(u) * time.Microsecond
		}
	}
	return time.Duration(h.max) * time.Microsecond
}
