package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

func testRatingLifecycle(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	user, film := uuid.New(), uuid.New()

	_, err := s.GetRating(ctx, user, film)
	wantCode(t, err, ugc.ENOTFOUND)

	before := ugc.Now()
	r, err := s.SetRating(ctx, user, film, 7)
	noErr(t, err)
	if r.UserID != user || r.FilmID != film || r.Score != 7 {
		t.Fatalf("SetRating = %+v, want user %s film %s score 7", r, user, film)
	}
	if r.CreatedAt.Before(before) || !r.UpdatedAt.Equal(r.CreatedAt) {
		t.Fatalf("new rating times: created %v updated %v (set at or after %v)", r.CreatedAt, r.UpdatedAt, before)
	}

	got, err := s.GetRating(ctx, user, film)
	noErr(t, err)
	if *got != *r {
		t.Fatalf("GetRating = %+v, want %+v", got, r)
	}

	r2, err := s.SetRating(ctx, user, film, 10)
	noErr(t, err)
	if r2.Score != 10 || !r2.CreatedAt.Equal(r.CreatedAt) || r2.UpdatedAt.Before(r.UpdatedAt) {
		t.Fatalf("re-rating = %+v, want score 10, created %v kept, updated not before %v", r2, r.CreatedAt, r.UpdatedAt)
	}
	got, err = s.GetRating(ctx, user, film)
	noErr(t, err)
	if *got != *r2 {
		t.Fatalf("GetRating after re-rating = %+v, want %+v", got, r2)
	}

	noErr(t, s.DeleteRating(ctx, user, film))
	_, err = s.GetRating(ctx, user, film)
	wantCode(t, err, ugc.ENOTFOUND)
	wantCode(t, s.DeleteRating(ctx, user, film), ugc.ENOTFOUND)
	wantSummary(t, s, film, ugc.Distribution{})
}

func testRatingValidation(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	user, film := uuid.New(), uuid.New()
	_, err := s.SetRating(ctx, user, film, 4)
	noErr(t, err)
	for _, score := range []int{-1, 11, 1000, -1 << 31} {
		_, err := s.SetRating(ctx, user, film, score)
		wantCode(t, err, ugc.EINVALID)
	}
	got, err := s.GetRating(ctx, user, film)
	noErr(t, err)
	if got.Score != 4 {
		t.Fatalf("score after rejected updates = %d, want 4", got.Score)
	}
	wantSummary(t, s, film, ugc.Distribution{4: 1})
}

func testFilmSummary(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	film, other := uuid.New(), uuid.New()

	wantSummary(t, s, film, ugc.Distribution{})

	users := ids(6)
	for i, score := range []int{10, 10, 0, 7, 3, 10} {
		_, err := s.SetRating(ctx, users[i], film, score)
		noErr(t, err)
	}
	_, err := s.SetRating(ctx, users[0], other, 1)
	noErr(t, err)
	wantSummary(t, s, film, ugc.Distribution{0: 1, 3: 1, 7: 1, 10: 3})

	// Changing a score moves it between buckets; deleting removes it.
	_, err = s.SetRating(ctx, users[1], film, 0)
	noErr(t, err)
	noErr(t, s.DeleteRating(ctx, users[3], film))
	wantSummary(t, s, film, ugc.Distribution{0: 2, 3: 1, 10: 2})
	wantSummary(t, s, other, ugc.Distribution{1: 1})

	sum, err := s.FilmSummary(ctx, film)
	noErr(t, err)
	if sum.Count != 5 || sum.Likes != 2 || sum.Dislikes != 2 || sum.Average == nil || *sum.Average != 23.0/5 {
		t.Fatalf("summary = %+v, want count 5, likes 2, dislikes 2, average 4.6", sum)
	}
}

func testFilmSummaries(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	films := ids(4)
	users := ids(3)
	for i, film := range films[:3] {
		for _, u := range users[:i+1] {
			_, err := s.SetRating(ctx, u, film, 10-i)
			noErr(t, err)
		}
	}
	// Order as asked, a film nobody rated included, one repeated.
	ask := []uuid.UUID{films[2], films[3], films[0], films[1], films[2]}
	got, err := s.FilmSummaries(ctx, ask)
	noErr(t, err)
	if len(got) != len(ask) {
		t.Fatalf("%d summaries for %d films", len(got), len(ask))
	}
	for i, film := range ask {
		one, err := s.FilmSummary(ctx, film)
		noErr(t, err)
		if got[i].FilmID != film || got[i].Distribution != one.Distribution || got[i].Count != one.Count {
			t.Fatalf("batch summary %d = %+v, want %+v", i, got[i], one)
		}
	}
	if got[1].Count != 0 || got[0].Count != 3 || got[2].Likes != 1 {
		t.Fatalf("summaries %+v %+v %+v", got[0], got[1], got[2])
	}
	for _, n := range []int{0, ugc.MaxBatchSummaries + 1} {
		_, err := s.FilmSummaries(ctx, ids(n))
		wantCode(t, err, ugc.EINVALID)
	}
	_, err = s.FilmSummaries(ctx, ids(ugc.MaxBatchSummaries))
	noErr(t, err)
}

// wantSummary checks that the store's summary of film is the one derived from
// the distribution d.
func wantSummary(t *testing.T, s ugc.Store, film uuid.UUID, d ugc.Distribution) {
	t.Helper()
	got, err := s.FilmSummary(t.Context(), film)
	noErr(t, err)
	want := ugc.NewFilmSummary(film, d)
	if got.FilmID != want.FilmID || got.Distribution != want.Distribution || got.Count != want.Count ||
		got.Likes != want.Likes || got.Dislikes != want.Dislikes ||
		(got.Average == nil) != (want.Average == nil) || (got.Average != nil && *got.Average != *want.Average) {
		t.Fatalf("summary of %s = %+v, want %+v", film, got, want)
	}
}

func testListUserRatings(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	user, stranger := uuid.New(), uuid.New()
	films := ids(23)
	for i, film := range films {
		_, err := s.SetRating(ctx, user, film, i%11)
		noErr(t, err)
		if i%4 == 0 {
			time.Sleep(2 * time.Millisecond) // some distinct timestamps, some ties
		}
	}
	_, err := s.SetRating(ctx, stranger, films[0], 5)
	noErr(t, err)
	// Re-rating moves a film to the front: the listing is by last change.
	time.Sleep(2 * time.Millisecond)
	_, err = s.SetRating(ctx, user, films[3], 9)
	noErr(t, err)

	var want []*ugc.Rating
	for _, film := range films {
		r, err := s.GetRating(ctx, user, film)
		noErr(t, err)
		want = append(want, r)
	}
	slices.SortFunc(want, func(a, b *ugc.Rating) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return compareIDs(b.FilmID, a.FilmID)
	})
	if want[0].FilmID != films[3] {
		t.Fatalf("the re-rated film is not the most recent")
	}

	for _, limit := range []int{1, 5, 23, 100} {
		got := collect(t, limit, func(p ugc.Page) (*ugc.List[*ugc.Rating], error) {
			return s.ListUserRatings(ctx, user, p)
		})
		if len(got) != len(want) {
			t.Fatalf("limit %d: listed %d ratings, want %d", limit, len(got), len(want))
		}
		for i := range want {
			if *got[i] != *want[i] {
				t.Fatalf("limit %d: item %d = %+v, want %+v", limit, i, got[i], want[i])
			}
		}
	}

	empty, err := s.ListUserRatings(ctx, uuid.New(), ugc.Page{Limit: 10})
	noErr(t, err)
	if len(empty.Items) != 0 || empty.Next != nil {
		t.Fatalf("a user without ratings lists %+v", empty)
	}
}
