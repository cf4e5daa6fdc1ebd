package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

func testBookmarks(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	user, film := uuid.New(), uuid.New()

	b, created, err := s.AddBookmark(ctx, user, film)
	noErr(t, err)
	if !created || b.UserID != user || b.FilmID != film || b.CreatedAt.IsZero() {
		t.Fatalf("AddBookmark = %+v created=%v", b, created)
	}
	time.Sleep(2 * time.Millisecond)
	again, created, err := s.AddBookmark(ctx, user, film)
	noErr(t, err)
	if created || *again != *b {
		t.Fatalf("adding again = %+v created=%v, want the original %+v, created=false", again, created, b)
	}

	noErr(t, s.RemoveBookmark(ctx, user, film))
	wantCode(t, s.RemoveBookmark(ctx, user, film), ugc.ENOTFOUND)
	l, err := s.ListBookmarks(ctx, user, ugc.Page{Limit: 10})
	noErr(t, err)
	if len(l.Items) != 0 || l.Next != nil {
		t.Fatalf("bookmarks after removal: %+v", l.Items)
	}
}

// testPagingStableWhileInserting pages through a user's bookmarks while new
// ones arrive: the client must see every bookmark that existed when it started,
// once, in order, whatever is inserted in between.
func testPagingStableWhileInserting(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	user := uuid.New()
	films := ids(30)
	var want []*ugc.Bookmark
	for i, film := range films {
		b, _, err := s.AddBookmark(ctx, user, film)
		noErr(t, err)
		want = append(want, b)
		if i%5 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	_, _, err := s.AddBookmark(ctx, uuid.New(), films[0]) // another user's
	noErr(t, err)
	slices.SortFunc(want, func(a, b *ugc.Bookmark) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return compareIDs(b.FilmID, a.FilmID)
	})

	var got []*ugc.Bookmark
	page := ugc.Page{Limit: 7}
	for {
		l, err := s.ListBookmarks(ctx, user, page)
		noErr(t, err)
		got = append(got, l.Items...)
		if l.Next == nil {
			break
		}
		page.After = l.Next
		// Newer bookmarks sort before the cursor and must not disturb the rest.
		for range 3 {
			_, _, err := s.AddBookmark(ctx, user, uuid.New())
			noErr(t, err)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("paged %d bookmarks, want the %d that existed at the start", len(got), len(want))
	}
	for i := range want {
		if *got[i] != *want[i] {
			t.Fatalf("item %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testMigrateIsIdempotent(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	user, film := uuid.New(), uuid.New()
	_, err := s.SetRating(ctx, user, film, 6)
	noErr(t, err)
	noErr(t, s.Migrate(ctx))
	noErr(t, s.Migrate(ctx))
	noErr(t, s.Ping(ctx))
	r, err := s.GetRating(ctx, user, film)
	noErr(t, err)
	if r.Score != 6 {
		t.Fatalf("migrate changed data: score %d", r.Score)
	}
	wantSummary(t, s, film, ugc.Distribution{6: 1})
}

// testNewestFirstIsExact: a user's quick writes, many within one
// millisecond, list newest first in the order made. Times are kept to the
// millisecond, and ties fell back on the film id: 25 quick bookmarks came
// back with 6 pairs out of order. The films go in descending id order, so
// an id tie-break reverses them.
func testNewestFirstIsExact(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	films := ids(25)
	user := uuid.New()
	for i := len(films) - 1; i >= 0; i-- {
		_, _, err := s.AddBookmark(ctx, user, films[i])
		noErr(t, err)
		_, err = s.SetRating(ctx, user, films[i], i%11)
		noErr(t, err)
	}
	bookmarks := collect(t, 7, func(p ugc.Page) (*ugc.List[*ugc.Bookmark], error) { return s.ListBookmarks(ctx, user, p) })
	ratings := collect(t, 7, func(p ugc.Page) (*ugc.List[*ugc.Rating], error) { return s.ListUserRatings(ctx, user, p) })
	if len(bookmarks) != len(films) || len(ratings) != len(films) {
		t.Fatalf("%d bookmarks and %d ratings listed, want %d each", len(bookmarks), len(ratings), len(films))
	}
	for i, film := range films { // the last written, films[0], first
		if bookmarks[i].FilmID != film || ratings[i].FilmID != film {
			t.Fatalf("position %d: bookmark of %s, rating of %s; want %s (newest first, as written)", i, bookmarks[i].FilmID, ratings[i].FilmID, film)
		}
	}
	// Re-rating moves a rating to the front, even within the millisecond.
	_, err := s.SetRating(ctx, user, films[24], 3)
	noErr(t, err)
	first, err := s.ListUserRatings(ctx, user, ugc.Page{Limit: 1})
	noErr(t, err)
	if first.Items[0].FilmID != films[24] {
		t.Fatalf("after re-rating %s, %s is listed first", films[24], first.Items[0].FilmID)
	}
}
