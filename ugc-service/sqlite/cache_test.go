package sqlite

import (
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

func TestSummaryCache(t *testing.T) {
	c := newSummaryCache(cacheShards * 4)
	film := uuid.New()
	old := ugc.Distribution{3: 1}

	_, gen, ok := c.get(film)
	if ok {
		t.Fatal("empty cache hit")
	}
	// A reader that missed before a write must not cache what it read.
	c.invalidate(film)
	c.put(film, old, gen)
	if _, _, ok := c.get(film); ok {
		t.Fatal("a value read before an invalidation was cached")
	}

	_, gen, _ = c.get(film)
	c.put(film, old, gen)
	if d, _, ok := c.get(film); !ok || d != old {
		t.Fatalf("get = %v, %v", d, ok)
	}
	c.invalidate(film)
	if _, _, ok := c.get(film); ok {
		t.Fatal("invalidated film still cached")
	}

	_, gen, _ = c.get(film)
	c.put(film, old, gen)
	c.clear()
	if _, _, ok := c.get(film); ok {
		t.Fatal("cleared film still cached")
	}
}

func TestSummaryCacheIsBounded(t *testing.T) {
	c := newSummaryCache(cacheShards * 4)
	for range 10_000 {
		film := uuid.New()
		_, gen, _ := c.get(film)
		c.put(film, ugc.Distribution{}, gen)
	}
	for i := range c.shards {
		if n := len(c.shards[i].m); n > 4 {
			t.Fatalf("shard %d holds %d films, bound 4", i, n)
		}
	}
}
