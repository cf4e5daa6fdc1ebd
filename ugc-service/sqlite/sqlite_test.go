package sqlite_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
	"github.com/ugcstack/ugcstack/ugc-service/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, newStore, storetest.Options{Drift: drift})
}

// newStore opens a fresh store in a temporary directory.
func newStore(t *testing.T) ugc.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// drift corrupts the counters behind the store's back, writing the tables
// directly through the store's writer handle.
func drift(t *testing.T, s ugc.Store, filmID, reviewID uuid.UUID) {
	t.Helper()
	db := sqlite.DB(s.(*sqlite.Store))
	if _, err := db.ExecContext(t.Context(),
		`UPDATE film_distributions SET s0 = s0 + 3, s10 = 7 WHERE film_id = ?`, filmID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(),
		`UPDATE reviews SET likes = likes + 5, dislikes = 0 WHERE id = ?`, reviewID); err != nil {
		t.Fatal(err)
	}
	sqlite.ForgetSummaries(s.(*sqlite.Store))
}

// TestReopen checks that data outlives the process's handles and that opening
// a migrated file migrates nothing twice.
func TestReopen(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	user, film := uuid.New(), uuid.New()

	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRating(ctx, user, film, 9); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := s.GetRating(ctx, user, film)
	if err != nil || r.Score != 9 {
		t.Fatalf("after reopening: rating %+v, err %v", r, err)
	}
	sum, err := s.FilmSummary(ctx, film)
	if err != nil || sum.Count != 1 || sum.Distribution[9] != 1 {
		t.Fatalf("after reopening: summary %+v, err %v", sum, err)
	}
}

// TestForeignCursor checks that a cursor from one listing is refused by
// another instead of being read with the wrong key.
func TestForeignCursor(t *testing.T) {
	s := newStore(t)
	ctx, id := t.Context(), uuid.New()
	page := ugc.Page{Limit: 5, After: &ugc.Cursor{Kind: ugc.CursorBookmarks, Key: 1, ID: id}}

	_, err := s.ListUserRatings(ctx, id, page)
	wantCode(t, err, ugc.EINVALID)
	_, err = s.ListFilmReviews(ctx, id, ugc.SortMostLiked, page)
	wantCode(t, err, ugc.EINVALID)
	page.After.Kind = ugc.CursorUserRatings
	_, err = s.ListBookmarks(ctx, id, page)
	wantCode(t, err, ugc.EINVALID)
	_, err = s.ListFilmReviews(ctx, id, "best", ugc.Page{Limit: 5})
	wantCode(t, err, ugc.EINVALID)
}

func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := ugc.ErrorCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

// TestReconcileMissingAndOrphanedRows covers the drift the suite cannot
// express: a rated film whose kept row is gone, and a kept row for a film
// nobody rates any more.
func TestReconcileMissingAndOrphanedRows(t *testing.T) {
	s := newStore(t)
	ctx, db := t.Context(), sqlite.DB(s.(*sqlite.Store))
	rated, orphan := uuid.New(), uuid.New()
	if _, err := s.SetRating(ctx, uuid.New(), rated, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM film_distributions WHERE film_id = ?`, rated); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO film_distributions (film_id, s5) VALUES (?, 2)`, orphan); err != nil {
		t.Fatal(err)
	}
	sqlite.ForgetSummaries(s.(*sqlite.Store))

	rep, err := s.ReconcileSummaries(ctx)
	if err != nil || rep.FilmsChecked != 2 || rep.FilmsRepaired != 2 {
		t.Fatalf("reconcile = %+v, %v; want 2 films checked and repaired", rep, err)
	}
	for film, want := range map[uuid.UUID]ugc.Distribution{rated: {3: 1}, orphan: {}} {
		if sum, err := s.FilmSummary(ctx, film); err != nil || sum.Distribution != want {
			t.Fatalf("summary of %s = %+v, %v; want distribution %v", film, sum, err, want)
		}
	}
	var rows int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM film_distributions`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("film_distributions has %d rows (%v), want only the rated film's", rows, err)
	}
}

// TestSummaryCacheSeesOtherProcesses writes through a second Store on the same
// file, which SQLite treats like another process: the first Store's cached
// summary must follow within the watcher's interval.
func TestSummaryCacheSeesOtherProcesses(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	a, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	film := uuid.New()
	if _, err := a.SetRating(ctx, uuid.New(), film, 3); err != nil {
		t.Fatal(err)
	}
	if sum, err := a.FilmSummary(ctx, film); err != nil || sum.Count != 1 {
		t.Fatalf("summary = %+v, %v", sum, err) // now cached in a
	}
	if _, err := b.SetRating(ctx, uuid.New(), film, 9); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		sum, err := a.FilmSummary(ctx, film)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Count == 2 && sum.Distribution[9] == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a still serves %+v 5s after another process's write", sum)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGroupCommitIsolatesFailures sends many writes at once, so that they
// share transactions, with every other one bound to fail: each failure must
// undo only its own change.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	film, author := uuid.New(), uuid.New()
	if _, err := s.CreateReview(ctx, author, film, "first"); err != nil {
		t.Fatal(err)
	}
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				_, errs[i] = s.CreateReview(ctx, author, film, "duplicate") // ECONFLICT
			} else {
				_, errs[i] = s.SetRating(ctx, uuid.New(), film, i%11)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		want := ""
		if i%2 == 0 {
			want = ugc.ECONFLICT
		}
		if ugc.ErrorCode(err) != want {
			t.Fatalf("write %d: %v, want code %q", i, err, want)
		}
	}
	sum, err := s.FilmSummary(ctx, film)
	if err != nil || sum.Count != n/2 {
		t.Fatalf("summary %+v, %v: want the %d ratings", sum, err, n/2)
	}
	l, err := s.ListFilmReviews(ctx, film, ugc.SortNewest, ugc.Page{Limit: 10})
	if err != nil || len(l.Items) != 1 || l.Items[0].Text != "first" {
		t.Fatalf("reviews %+v, %v", l, err)
	}
	rep, err := s.ReconcileSummaries(ctx)
	if err != nil || rep.FilmsRepaired != 0 {
		t.Fatalf("reconcile %+v, %v", rep, err)
	}
}

func TestWritesAfterCloseFail(t *testing.T) {
	s, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRating(t.Context(), uuid.New(), uuid.New(), 5); err == nil {
		t.Fatal("a write after Close succeeded")
	}
}

// TestWithoutEvents: a store for a deployment without analytics records no
// events, and its changes work as ever.
func TestWithoutEvents(t *testing.T) {
	s, err := sqlite.Open(t.Context(), t.TempDir(), sqlite.WithoutEvents())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	user, film := uuid.New(), uuid.New()
	if _, err := s.SetRating(t.Context(), user, film, 9); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddBookmark(t.Context(), user, film); err != nil {
		t.Fatal(err)
	}
	st, err := s.OutboxStats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 0 {
		t.Fatalf("%d events recorded by a store opened WithoutEvents", st.Pending)
	}
	if sum, err := s.FilmSummary(t.Context(), film); err != nil || sum.Count != 1 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
}
