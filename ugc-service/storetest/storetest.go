// Package storetest is the behavioural contract of ugc.Store: one suite that
// every implementation (embedded SQLite, MongoDB, MongoDB-over-FerretDB) runs,
// so that the stores cannot drift apart in what they promise.
package storetest

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// Options adapts the suite to a store.
type Options struct {
	// SkipConcurrency, when non-empty, skips the cases that change the same
	// rows from many goroutines, printing this reason. Only for test servers
	// known to lose concurrent updates; never for a production store.
	SkipConcurrency string

	// Drift corrupts the store's derived counters behind its back: the score
	// distribution of filmID and the vote counters of reviewID. The suite then
	// checks that ReconcileSummaries repairs both.
	Drift func(t *testing.T, s ugc.Store, filmID, reviewID uuid.UUID)
}

// Run runs every case. newStore must return a fresh, empty, migrated store
// and close it through t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) ugc.Store, opts Options) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s ugc.Store)
	}{
		{"RatingLifecycle", testRatingLifecycle},
		{"RatingValidation", testRatingValidation},
		{"FilmSummary", testFilmSummary},
		{"FilmSummaries", testFilmSummaries},
		{"ListUserRatings", testListUserRatings},
		{"ReviewLifecycle", testReviewLifecycle},
		{"ReviewValidation", testReviewValidation},
		{"ReviewOwnership", testReviewOwnership},
		{"ReviewAuthorScore", testReviewAuthorScore},
		{"Votes", testVotes},
		{"DeleteReviewRemovesVotes", testDeleteReviewRemovesVotes},
		{"ListFilmReviewsSorts", testListFilmReviewsSorts},
		{"Bookmarks", testBookmarks},
		{"PagingStableWhileInserting", testPagingStableWhileInserting},
		{"NewestFirstIsExact", testNewestFirstIsExact},
		{"MigrateIsIdempotent", testMigrateIsIdempotent},
		{"Events", testEvents},
		{"ReconcileSummaries", func(t *testing.T, s ugc.Store) { testReconcile(t, s, opts.Drift) }},
		{"ConcurrentRatingsAndVotes", func(t *testing.T, s ugc.Store) {
			if opts.SkipConcurrency != "" {
				t.Skip(opts.SkipConcurrency)
			}
			testConcurrentRatingsAndVotes(t, s)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore(t)) })
	}
}

// wantCode fails the test unless err carries the domain error code want.
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := ugc.ErrorCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// collect pages through a listing with the given page size and returns every
// item, failing on a page that is too long or a listing that never ends.
func collect[T any](t *testing.T, limit int, fetch func(ugc.Page) (*ugc.List[T], error)) []T {
	t.Helper()
	var all []T
	page := ugc.Page{Limit: limit}
	for range 10_000 {
		l, err := fetch(page)
		noErr(t, err)
		if len(l.Items) > limit {
			t.Fatalf("page has %d items, limit %d", len(l.Items), limit)
		}
		all = append(all, l.Items...)
		if l.Next == nil {
			return all
		}
		if len(l.Items) != limit {
			t.Fatalf("a page with a next cursor has %d items, want the full %d", len(l.Items), limit)
		}
		page.After = l.Next
	}
	t.Fatal("listing did not end")
	return nil
}

// ids returns n random ids in ascending order, so that tests can reason about
// id tie-breakers.
func ids(n int) []uuid.UUID {
	out := make([]uuid.UUID, n)
	for i := range out {
		out[i] = uuid.New()
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return compareIDs(a, b) })
	return out
}

func compareIDs(a, b uuid.UUID) int {
	return slices.Compare(a[:], b[:])
}
