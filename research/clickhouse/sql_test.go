package clickhouse

import (
	"sync"
	"testing"
)

// Two upserts of one rating must never share a version, or argMax could
// return the older score: versions stay strictly increasing across writers.
func TestNewVersionStrictlyIncreases(t *testing.T) {
	const writers, each = 8, 1000
	got := make([][]uint64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				got[w] = append(got[w], NewVersion())
			}
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, vs := range got {
		for i, v := range vs {
			if seen[v] {
				t.Fatalf("version %d handed out twice", v)
			}
			seen[v] = true
			if i > 0 && v <= vs[i-1] {
				t.Fatalf("a writer got %d after %d", v, vs[i-1])
			}
		}
	}
}
