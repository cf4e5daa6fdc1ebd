package sqlite

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// Shape of the preloaded store: 100k ratings (2,000 users × 50 of 5,000
// films), one much-reviewed film with 1,000 voted reviews, and one user with
// 1,000 bookmarks among 20,000.
const (
	benchUsers        = 2_000
	benchFilms        = 5_000
	benchRatingsEach  = 50
	benchReviews      = 1_000
	benchBookmarks    = 20_000
	benchUserBookmark = 1_000
)

type benchData struct {
	s         *Store
	users     []uuid.UUID
	films     []uuid.UUID
	hotFilm   uuid.UUID // the film with benchReviews reviews
	collector uuid.UUID // the user with benchUserBookmark bookmarks
}

// preload fills a fresh store in a few large transactions. Counters are not
// maintained while loading: ReconcileSummaries computes them at the end, which
// is much faster than 100k single-row transactions and exercises it at scale.
func preload(b *testing.B) *benchData {
	b.Helper()
	ctx := b.Context()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })

	rng := rand.New(rand.NewPCG(1, 2))
	d := &benchData{s: s, hotFilm: uuid.New(), collector: uuid.New()}
	for range benchUsers {
		d.users = append(d.users, uuid.New())
	}
	for range benchFilms {
		d.films = append(d.films, uuid.New())
	}
	t0 := ugc.Now().UnixMilli() - 10_000_000

	// load runs fn in one transaction with exec running query, prepared once.
	load := func(query string, fn func(exec func(args ...any) error) error) {
		err := s.write(ctx, func(t *tx) error {
			st, err := t.tx.PrepareContext(ctx, query)
			if err != nil {
				return err
			}
			defer st.Close()
			return fn(func(args ...any) error {
				_, err := st.ExecContext(ctx, args...)
				return err
			})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	load(`INSERT INTO ratings VALUES (?, ?, ?, ?, ?)`, func(exec func(...any) error) error {
		for _, u := range d.users {
			for _, i := range rng.Perm(benchFilms)[:benchRatingsEach] {
				at := t0 + rng.Int64N(10_000_000)
				if err := exec(u, d.films[i], rng.IntN(11), at, at); err != nil {
					return err
				}
			}
		}
		return nil
	})
	var reviews []uuid.UUID
	load(`INSERT INTO reviews (id, film_id, author_id, text, created_at, updated_at)
		VALUES (?, ?, ?, 'A review of moderate length, as most of them are.', ?, ?)`, func(exec func(...any) error) error {
		for i := range benchReviews {
			id, err := uuid.NewV7()
			if err != nil {
				return err
			}
			reviews = append(reviews, id)
			if err := exec(id, d.hotFilm, d.users[i%benchUsers], t0+int64(i), t0+int64(i)); err != nil {
				return err
			}
		}
		return nil
	})
	load(`INSERT INTO review_votes VALUES (?, ?, ?, ?)`, func(exec func(...any) error) error {
		for i, id := range reviews {
			for v := range rng.IntN(20) {
				value := []string{"like", "like", "dislike"}[rng.IntN(3)]
				if err := exec(id, d.users[(i+1+v)%benchUsers], value, t0); err != nil {
					return err
				}
			}
		}
		return nil
	})
	load(`INSERT OR IGNORE INTO bookmarks VALUES (?, ?, ?)`, func(exec func(...any) error) error {
		for i := range benchBookmarks {
			user := d.users[i%benchUsers]
			if i < benchUserBookmark {
				user = d.collector
			}
			if err := exec(user, d.films[rng.IntN(benchFilms)], t0+rng.Int64N(10_000_000)); err != nil {
				return err
			}
		}
		return nil
	})
	if _, err := s.ReconcileSummaries(ctx); err != nil {
		b.Fatal(err)
	}
	return d
}

func BenchmarkFilmSummary(b *testing.B) {
	d := preload(b)
	ctx := b.Context()
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := d.s.FilmSummary(ctx, d.films[i%benchFilms]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
			for pb.Next() {
				if _, err := d.s.FilmSummary(ctx, d.films[rng.IntN(benchFilms)]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkSetRating(b *testing.B) {
	d := preload(b)
	ctx := b.Context()
	rng := rand.New(rand.NewPCG(3, 4))
	for b.Loop() {
		// Mostly re-ratings of existing pairs' films, some first ratings.
		u, f := d.users[rng.IntN(benchUsers)], d.films[rng.IntN(benchFilms)]
		if _, err := d.s.SetRating(ctx, u, f, rng.IntN(11)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListFilmReviews(b *testing.B) {
	d := preload(b)
	ctx := b.Context()
	for _, sort := range []ugc.ReviewSort{ugc.SortNewest, ugc.SortMostLiked} {
		first, err := d.s.ListFilmReviews(ctx, d.hotFilm, sort, ugc.Page{Limit: ugc.DefaultPageLimit})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range []struct {
			name string
			page ugc.Page
		}{
			{"first", ugc.Page{Limit: ugc.DefaultPageLimit}},
			{"second", ugc.Page{Limit: ugc.DefaultPageLimit, After: first.Next}},
		} {
			b.Run(string(sort)+"/"+p.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := d.s.ListFilmReviews(ctx, d.hotFilm, sort, p.page); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkListBookmarks(b *testing.B) {
	d := preload(b)
	ctx := b.Context()
	first, err := d.s.ListBookmarks(ctx, d.collector, ugc.Page{Limit: ugc.DefaultPageLimit})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct {
		name string
		page ugc.Page
	}{
		{"first", ugc.Page{Limit: ugc.DefaultPageLimit}},
		{"second", ugc.Page{Limit: ugc.DefaultPageLimit, After: first.Next}},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := d.s.ListBookmarks(ctx, d.collector, p.page); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
