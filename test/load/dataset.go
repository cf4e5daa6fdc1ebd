package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

// dataset is the preloaded world the load draws its requests from.
type dataset struct {
	cfg           config
	rng           *rand.Rand
	users, films  []uuid.UUID
	reviewedFilms []uuid.UUID // films that have reviews
	bookmarkUsers []uuid.UUID // users that have bookmarks
}

func newDataset(cfg config, rng *rand.Rand) *dataset {
	ds := &dataset{cfg: cfg, rng: rng, users: randomIDs(rng, cfg.users), films: randomIDs(rng, cfg.films)}
	// Reviews gather on a tenth of the films and bookmarks on a tenth of the
	// users, so listings return full pages, as they do for popular films.
	ds.reviewedFilms = ds.films[:max(1, len(ds.films)/10)]
	ds.bookmarkUsers = ds.users[:max(1, len(ds.users)/10)]
	return ds
}

func randomIDs(rng *rand.Rand, n int) []uuid.UUID {
	out := make([]uuid.UUID, n)
	for i := range out {
		var id uuid.UUID
		for j := range 2 {
			v := rng.Uint64()
			for k := range 8 {
				id[j*8+k] = byte(v >> (8 * k))
			}
		}
		id[6] = id[6]&0x0f | 0x40 // version 4
		id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
		out[i] = id
	}
	return out
}

// score draws from a skewed distribution like real film ratings: many 7–10s,
// a bump of 0s from dislikes.
func score(rng *rand.Rand) int {
	weights := [11]int{6, 1, 1, 2, 3, 5, 8, 14, 18, 16, 26}
	n := rng.IntN(100)
	for s, w := range weights {
		if n < w {
			return s
		}
		n -= w
	}
	return ugc.MaxScore
}

// preload writes the dataset through the store's own API, so that counters
// and indexes are exactly what serving produces, and reports the load rate.
// The dataset is history, not traffic for a relay: it records no events.
func (ds *dataset) preload(ctx context.Context, dir string) error {
	store, err := sqlite.Open(ctx, dir, sqlite.WithoutEvents())
	if err != nil {
		return err
	}
	defer store.Close() // read-only afterwards

	steps := []struct {
		name string
		n    int
		do   func(i int) error
	}{
		{"ratings", ds.cfg.ratings, func(int) error {
			_, err := store.SetRating(ctx, ds.users[ds.rng.IntN(len(ds.users))], ds.films[ds.rng.IntN(len(ds.films))], score(ds.rng))
			return err
		}},
		{"reviews", ds.cfg.reviews, func(i int) error {
			// Author i reviews once, so (author, film) never repeats.
			_, err := store.CreateReview(ctx, ds.users[i%len(ds.users)], ds.reviewedFilms[ds.rng.IntN(len(ds.reviewedFilms))], "A review long enough to look like one: the pacing, the score, the ending.")
			return err
		}},
		{"bookmarks", ds.cfg.bookmarks, func(int) error {
			_, _, err := store.AddBookmark(ctx, ds.bookmarkUsers[ds.rng.IntN(len(ds.bookmarkUsers))], ds.films[ds.rng.IntN(len(ds.films))])
			return err
		}},
	}
	for _, st := range steps {
		start := time.Now()
		for i := range st.n {
			if err := st.do(i); err != nil {
				return fmt.Errorf("preload %s: %w", st.name, err)
			}
		}
		d := time.Since(start)
		fmt.Printf("LOAD %s rows=%d seconds=%.1f rows_per_s=%.0f\n", st.name, st.n, d.Seconds(), float64(st.n)/d.Seconds())
	}
	return nil
}
