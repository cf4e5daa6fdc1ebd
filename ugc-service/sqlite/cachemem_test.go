package sqlite

import (
	"runtime"
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSummaryCacheMemoryIsBounded: the cache's size is in films, and its
// memory at that size, under millions of random film ids (a crawler, or
// someone probing ids), must stay under summaryCacheBytes. At 200,000 films
// it held about 60 MB of live heap where the README said 30.
func TestSummaryCacheMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the cache with 1M films")
	}
	before := liveHeap()
	c := newSummaryCache(summaryCacheSize)
	var d ugc.Distribution
	for i := range 1_000_000 {
		d[i%len(d)]++
		c.put(uuid.New(), d, 0)
	}
	used := liveHeap() - before
	runtime.KeepAlive(c)
	t.Logf("summary cache: %d films max, %.1f MiB live heap after 1M random films (%.0f bytes a film)",
		summaryCacheSize, float64(used)/(1<<20), float64(used)/summaryCacheSize)
	if used > summaryCacheBytes {
		t.Fatalf("the cache holds %.1f MiB, over its %d MiB bound", float64(used)/(1<<20), summaryCacheBytes>>20)
	}
}
