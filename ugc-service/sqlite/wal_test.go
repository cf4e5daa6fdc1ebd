package sqlite

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// TestWALStaysBounded writes 60 MB of 20 KB reviews while readers keep
// reading, then checks the WAL file is back under its limit. Passive
// checkpoints alone left it as large as everything written: SQLite starts
// the log over only when no reader holds an old snapshot, which steady reads
// never allow.
func TestWALStaysBounded(t *testing.T) {
	const limit = 4 << 20
	s, err := Open(t.Context(), t.TempDir(), WithWALLimit(limit))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	ctx, stop := context.WithCancel(t.Context())
	var readers sync.WaitGroup
	film := uuid.New()
	for range 4 {
		readers.Go(func() {
			for ctx.Err() == nil {
				_, _ = s.ListFilmReviews(ctx, film, ugc.SortNewest, ugc.Page{Limit: 20})
			}
		})
	}
	var peak atomic.Int64
	readers.Go(func() {
		for ctx.Err() == nil {
			if n := s.WALBytes(); n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	text := strings.Repeat("🎬", ugc.MaxReviewText) // 20 KB, the longest review
	const writers, each = 4, 400                   // 1,600 reviews, 32 MB
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				if _, err := s.CreateReview(t.Context(), uuid.New(), film, text); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for s.WALBytes() > limit && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	readers.Wait()
	t.Logf("WAL peak %d MiB, now %d KiB (limit %d MiB, %d MiB written)", peak.Load()>>20, s.WALBytes()>>10, limit>>20, writers*each*len(text)>>20)
	if n := s.WALBytes(); n > limit {
		t.Fatalf("WAL is %d MiB after the writes, over its %d MiB limit", n>>20, limit>>20)
	}
}
