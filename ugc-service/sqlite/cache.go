package sqlite

import (
	"sync"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// summaryCache keeps film distributions in memory, so that the hottest read
// of the API, a film's summary, is a map lookup rather than a query.
//
// It is exact for writes made through this Store: SetRating and DeleteRating
// invalidate the film after their transaction commits. Writes by another
// process on the same file (say `ugc reconcile-summaries` against a live data
// directory) are noticed by the background watcher through PRAGMA
// data_version, which clears the cache within one watch interval.
//
// A read that misses records its shard's generation before querying and only
// fills the cache if no invalidation happened meanwhile; together with
// invalidating after commit, a value read before a commit can never outlive it.
type summaryCache struct {
	perShard int
	shards   [cacheShards]cacheShard
}

const cacheShards = 16

type cacheShard struct {
	mu  sync.Mutex
	gen uint64
	m   map[uuid.UUID]ugc.Distribution
}

// newSummaryCache holds up to size films (at about 150 bytes each).
func newSummaryCache(size int) *summaryCache {
	c := &summaryCache{perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[uuid.UUID]ugc.Distribution)
	}
	return c
}

func (c *summaryCache) shard(film uuid.UUID) *cacheShard {
	return &c.shards[film[15]%cacheShards] // ids are random: any byte spreads evenly
}

// get returns the cached distribution, or the generation to pass to put.
func (c *summaryCache) get(film uuid.UUID) (d ugc.Distribution, gen uint64, ok bool) {
	sh := c.shard(film)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	d, ok = sh.m[film]
	return d, sh.gen, ok
}

// put caches d unless the shard was invalidated since gen was read.
func (c *summaryCache) put(film uuid.UUID, d ugc.Distribution, gen uint64) {
	sh := c.shard(film)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.gen != gen {
		return
	}
	if len(sh.m) >= c.perShard {
		for k := range sh.m { // map order is random: evict an arbitrary film
			delete(sh.m, k)
			break
		}
	}
	sh.m[film] = d
}

// invalidate forgets film; call it after the change has committed.
func (c *summaryCache) invalidate(film uuid.UUID) {
	sh := c.shard(film)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.m, film)
	sh.gen++
}

// clear forgets everything.
func (c *summaryCache) clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.gen++
		sh.mu.Unlock()
	}
}
