package bench

import (
	"testing"
	"time"
)

func TestIndexUpperRoundTrip(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<24; v = v*17/16 + 1 {
		i := index(v)
		if i < prev {
			t.Fatalf("index not monotonic at %d", v)
		}
		prev = i
		if u := upper(i); u < v || float64(u-v) > 0.04*float64(v)+1 {
			t.Fatalf("v=%d bucket %d upper %d", v, i, u)
		}
	}
}

func TestQuantiles(t *testing.T) {
	var h Hist
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, 1000 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if got < c.want || float64(got-c.want) > 0.035*float64(c.want) {
			t.Errorf("q%.2f = %v, want ≈%v", c.q, got, c.want)
		}
	}
}
