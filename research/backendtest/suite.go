// Package backendtest is the correctness suite every backend must pass: it
// loads the same small generated dataset into the store and into the
// in-memory oracle, and compares every read path, then applies rating
// upserts and checks the summaries stay exact.
package backendtest

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// Volumes is the small dataset the suite loads (seconds on every store).
var Volumes = ugcdata.Volumes{Users: 300, Films: 60, Ratings: 6000, Reviews: 600, Votes: 3000, Bookmarks: 1200}

// HotSkew is the skewed dataset every store must also answer exactly.
var HotSkew = ugcdata.Skew{Zipf: 1.1}

// Run checks s twice, on a uniform and on a Zipfian dataset: each time it
// loads the dataset into s and the oracle, compares every read path, applies
// 200 rating upserts (spread over all films, or all on ugcdata.HotFilm as
// in a premiere) and compares again.
func Run(t *testing.T, s ugcdata.Store) {
	t.Helper()
	t.Run("uniform", func(t *testing.T) {
		run(t, s, ugcdata.Generator{V: Volumes, Seed: 42}, func(r *rand.Rand) int64 { return r.Int64N(Volumes.Films) + 1 })
	})
	t.Run(HotSkew.String(), func(t *testing.T) {
		run(t, s, ugcdata.Generator{V: Volumes, Seed: 42, Skew: HotSkew}, func(*rand.Rand) int64 { return ugcdata.HotFilm })
	})
}

func run(t *testing.T, s ugcdata.Store, g ugcdata.Generator, film func(*rand.Rand) int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := ugcdata.NewOracle()
	if _, err := ugcdata.Load(ctx, o, g, 500, nil); err != nil {
		t.Fatal(err)
	}
	c, err := ugcdata.Load(ctx, s, g, 500, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if c.Ratings != Volumes.Ratings || c.Votes != Volumes.Votes || c.Bookmarks != Volumes.Bookmarks || c.Reviews != Volumes.Reviews {
		t.Fatalf("loaded %+v, want %v", c, Volumes)
	}
	v, err := s.Version(ctx)
	if err != nil || v == "" {
		t.Fatalf("version %q: %v", v, err)
	}
	t.Logf("%s: %s", s.Name(), v)
	compare(ctx, t, s, o)

	// Upserts: replace existing ratings (including likes/dislikes flips) and add new ones.
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 200; i++ {
		rt := ugcdata.Rating{
			UserID: r.Int64N(Volumes.Users) + 1, FilmID: film(r),
			Score: []int8{0, 10, 5, 10, 0, 3}[i%6], At: ugcdata.Epoch.Add(time.Duration(400*24+i) * time.Hour),
		}
		if err := s.PutRating(ctx, rt); err != nil {
			t.Fatalf("put rating: %v", err)
		}
		_ = o.PutRating(ctx, rt)
	}
	compare(ctx, t, s, o)
}

func compare(ctx context.Context, t *testing.T, s, o ugcdata.Store) {
	t.Helper()
	for f := int64(1); f <= Volumes.Films+1; f++ { // +1: a film nobody rated
		want, _ := o.FilmSummary(ctx, f)
		got, err := s.FilmSummary(ctx, f)
		if err != nil || got != want {
			t.Fatalf("FilmSummary(%d) = %+v, %v; want %+v", f, got, err, want)
		}
		wr, _ := o.FilmReviews(ctx, f, ugcdata.PageSize)
		gr, err := s.FilmReviews(ctx, f, ugcdata.PageSize)
		if err != nil || !sameReviews(gr, wr) {
			t.Fatalf("FilmReviews(%d): %v\n got  %v\n want %v", f, err, ids(gr), ids(wr))
		}
	}
	for u := int64(1); u <= Volumes.Users+1; u += 7 {
		wb, _ := o.UserBookmarks(ctx, u, ugcdata.PageSize)
		gb, err := s.UserBookmarks(ctx, u, ugcdata.PageSize)
		if err != nil || !sameBookmarks(gb, wb) {
			t.Fatalf("UserBookmarks(%d) = %v, %v; want %v", u, gb, err, wb)
		}
		wb, _ = o.UserBookmarks(ctx, u, 2)
		gb, err = s.UserBookmarks(ctx, u, 2)
		if err != nil || !sameBookmarks(gb, wb) {
			t.Fatalf("UserBookmarks(%d, 2) = %v, %v; want %v", u, gb, err, wb)
		}
		wr, _ := o.UserRatings(ctx, u)
		gr, err := s.UserRatings(ctx, u)
		if err != nil || !sameRatings(gr, wr) {
			t.Fatalf("UserRatings(%d) = %v, %v; want %v", u, gr, err, wr)
		}
		for f := int64(1); f <= Volumes.Films; f += 5 {
			ws, wok, _ := o.UserFilmRating(ctx, u, f)
			gs, gok, err := s.UserFilmRating(ctx, u, f)
			if err != nil || ws != gs || wok != gok {
				t.Fatalf("UserFilmRating(%d, %d) = %d %v %v; want %d %v", u, f, gs, gok, err, ws, wok)
			}
		}
	}
}

func ids(rs []ugcdata.Review) [][3]int64 {
	var out [][3]int64
	for _, r := range rs {
		out = append(out, [3]int64{r.ID, r.Likes, r.Dislikes})
	}
	return out
}

func sameReviews(a, b []ugcdata.Review) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.Likes != y.Likes || x.Dislikes != y.Dislikes || x.UserID != y.UserID || x.Text != y.Text || !x.At.Equal(y.At) {
			return false
		}
	}
	return true
}

func sameBookmarks(a, b []ugcdata.Bookmark) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].FilmID != b[i].FilmID || !a[i].At.Equal(b[i].At) {
			return false
		}
	}
	return true
}

func sameRatings(a, b []ugcdata.Rating) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].FilmID != b[i].FilmID || a[i].Score != b[i].Score || !a[i].At.Equal(b[i].At) {
			return false
		}
	}
	return reflect.DeepEqual(len(a), len(b))
}
