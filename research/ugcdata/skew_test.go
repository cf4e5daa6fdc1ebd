package ugcdata

import (
	"reflect"
	"testing"
)

func TestParseSkew(t *testing.T) {
	for in, want := range map[string]Skew{"": {}, "uniform": {}, "zipf:1.1": {Zipf: 1.1}, "zipf:2": {Zipf: 2}} {
		got, err := ParseSkew(in)
		if err != nil || got != want {
			t.Errorf("ParseSkew(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := ParseSkew(got.String()); back != got {
			t.Errorf("%q does not round-trip through String: %q", in, got.String())
		}
	}
	for _, bad := range []string{"zipf:1", "zipf:0.5", "zipf:x", "pareto:2"} {
		if _, err := ParseSkew(bad); err == nil {
			t.Errorf("ParseSkew(%q) accepted", bad)
		}
	}
}

// filmCounts generates the ratings and reviews of g and counts them per film.
func filmCounts(t *testing.T, g Generator) (ratings, reviews map[int64]int64, all []Rating) {
	t.Helper()
	ratings, reviews = map[int64]int64{}, map[int64]int64{}
	seen := map[[2]int64]bool{}
	if err := g.Ratings(1000, func(rs []Rating) error {
		for _, r := range rs {
			if seen[[2]int64{r.UserID, r.FilmID}] {
				t.Fatalf("user %d rates film %d twice", r.UserID, r.FilmID)
			}
			if r.FilmID < 1 || r.FilmID > g.V.Films {
				t.Fatalf("film %d outside 1..%d", r.FilmID, g.V.Films)
			}
			seen[[2]int64{r.UserID, r.FilmID}] = true
			ratings[r.FilmID]++
		}
		all = append(all, rs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := g.ReviewsAndVotes(1000, func(rs []Review, _ []Vote) error {
		for _, r := range rs {
			reviews[r.FilmID]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ratings, reviews, all
}

func TestZipfConcentratesOnTheHotFilm(t *testing.T) {
	v := Volumes{Users: 2000, Films: 1000, Ratings: 40000, Reviews: 4000, Votes: 8000, Bookmarks: 100}
	g := Generator{V: v, Seed: 3, Skew: Skew{Zipf: 1.1}}
	ratings, reviews, all := filmCounts(t, g)
	// 20 draws per user at P(film 1) ≈ 0.2 at 1,000 films: most users rate it.
	if ratings[HotFilm] < v.Users/2 {
		t.Errorf("hot film has %d ratings of %d users", ratings[HotFilm], v.Users)
	}
	if reviews[HotFilm] < v.Reviews/10 {
		t.Errorf("hot film has %d of %d reviews", reviews[HotFilm], v.Reviews)
	}
	// The top films saturate (one rating per user), so a repeat of film 1
	// that moved on to film 2 can put film 2 a little ahead; the tail is far behind.
	if tail := ratings[v.Films/2]; tail*20 > ratings[HotFilm] {
		t.Errorf("film %d has %d ratings, the hot film only %d", v.Films/2, tail, ratings[HotFilm])
	}
	_, _, again := filmCounts(t, g)
	if !reflect.DeepEqual(all, again) {
		t.Error("the same seed and skew generate different ratings")
	}

	uniform, _, _ := filmCounts(t, Generator{V: v, Seed: 3})
	if uniform[HotFilm] > 3*v.Ratings/v.Films {
		t.Errorf("uniform data: film 1 has %d ratings, mean %d", uniform[HotFilm], v.Ratings/v.Films)
	}
}

// A user may rate every film: the skewed picker must still finish with
// distinct films (filmCounts fails on a repeat).
func TestZipfFillsEveryFilm(t *testing.T) {
	v := Volumes{Users: 10, Films: 30, Ratings: 300, Reviews: 10, Votes: 10, Bookmarks: 10}
	ratings, _, _ := filmCounts(t, Generator{V: v, Seed: 1, Skew: Skew{Zipf: 2}})
	for f := int64(1); f <= v.Films; f++ {
		if ratings[f] != v.Users {
			t.Fatalf("film %d rated by %d of %d users", f, ratings[f], v.Users)
		}
	}
}
