package ugcdata

import (
	"context"
	"sort"
	"sync"
)

// Oracle is an in-memory Store that answers every read path by
// recomputation from the source rows; tests compare backends against it.
type Oracle struct {
	mu        sync.Mutex
	ratings   map[[2]int64]Rating
	reviews   map[int64]Review
	votes     []Vote
	bookmarks []Bookmark
}

// NewOracle returns an empty oracle.
func NewOracle() *Oracle {
	o := &Oracle{}
	_ = o.Reset(context.Background()) // in memory: it cannot fail
	return o
}

// Name implements Store.
func (o *Oracle) Name() string { return "oracle" }

// Version implements Store.
func (o *Oracle) Version(context.Context) (string, error) { return "in-memory", nil }

// Close implements Store.
func (o *Oracle) Close() error { return nil }

// Finish implements Store.
func (o *Oracle) Finish(context.Context) error { return nil }

// Reset implements Store.
func (o *Oracle) Reset(context.Context) error {
	o.ratings, o.reviews, o.votes, o.bookmarks = map[[2]int64]Rating{}, map[int64]Review{}, nil, nil
	return nil
}

// LoadRatings implements Store.
func (o *Oracle) LoadRatings(_ context.Context, rs []Rating) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range rs {
		o.ratings[[2]int64{r.UserID, r.FilmID}] = r
	}
	return nil
}

// LoadReviews implements Store.
func (o *Oracle) LoadReviews(_ context.Context, rs []Review) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range rs {
		r.Likes, r.Dislikes = 0, 0 // recomputed from votes
		o.reviews[r.ID] = r
	}
	return nil
}

// LoadVotes implements Store.
func (o *Oracle) LoadVotes(_ context.Context, vs []Vote) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.votes = append(o.votes, vs...)
	return nil
}

// LoadBookmarks implements Store.
func (o *Oracle) LoadBookmarks(_ context.Context, bs []Bookmark) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bookmarks = append(o.bookmarks, bs...)
	return nil
}

// PutRating implements Store.
func (o *Oracle) PutRating(ctx context.Context, r Rating) error {
	return o.LoadRatings(ctx, []Rating{r})
}

// UserBookmarks implements Store.
func (o *Oracle) UserBookmarks(_ context.Context, user int64, limit int) ([]Bookmark, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Bookmark
	for _, b := range o.bookmarks {
		if b.UserID == user {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].FilmID < out[j].FilmID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// FilmSummary implements Store.
func (o *Oracle) FilmSummary(_ context.Context, film int64) (Summary, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := Summary{FilmID: film}
	for _, r := range o.ratings {
		if r.FilmID != film {
			continue
		}
		s.Count++
		s.Sum += int64(r.Score)
		switch r.Score {
		case MaxScore:
			s.Likes++
		case MinScore:
			s.Dislikes++
		}
	}
	return s, nil
}

// FilmReviews implements Store.
func (o *Oracle) FilmReviews(_ context.Context, film int64, limit int) ([]Review, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	byID := map[int64]*Review{}
	var out []*Review
	for id, r := range o.reviews {
		if r.FilmID == film {
			rc := r
			byID[id] = &rc
			out = append(out, &rc)
		}
	}
	for _, v := range o.votes {
		if r, ok := byID[v.ReviewID]; ok {
			if v.Value > 0 {
				r.Likes++
			} else {
				r.Dislikes++
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Likes != out[j].Likes {
			return out[i].Likes > out[j].Likes
		}
		return out[i].ID < out[j].ID
	})
	res := make([]Review, 0, limit)
	for i := 0; i < len(out) && i < limit; i++ {
		res = append(res, *out[i])
	}
	return res, nil
}

// UserRatings implements Store.
func (o *Oracle) UserRatings(_ context.Context, user int64) ([]Rating, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Rating
	for _, r := range o.ratings {
		if r.UserID == user {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FilmID < out[j].FilmID })
	return out, nil
}

// UserFilmRating implements Store.
func (o *Oracle) UserFilmRating(_ context.Context, user, film int64) (int8, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.ratings[[2]int64{user, film}]
	return r.Score, ok, nil
}

// Progress is called after every batch with the entity name and rows so far.
type Progress func(entity string, done, total int64)

// LoadCounts reports rows loaded per entity, and how many ratings and
// reviews went to HotFilm (the measure of a skewed dataset).
type LoadCounts struct {
	Ratings, Reviews, Votes, Bookmarks int64
	HotRatings, HotReviews             int64
}

// Total is the number of rows loaded.
func (c LoadCounts) Total() int64 { return c.Ratings + c.Reviews + c.Votes + c.Bookmarks }

// Load resets s and streams the generator's dataset into it in batches.
func Load(ctx context.Context, s Store, g Generator, batch int, p Progress) (LoadCounts, error) {
	var c LoadCounts
	if p == nil {
		p = func(string, int64, int64) {}
	}
	if err := s.Reset(ctx); err != nil {
		return c, err
	}
	if err := g.Ratings(batch, func(rs []Rating) error {
		c.Ratings += int64(len(rs))
		for _, r := range rs {
			if r.FilmID == HotFilm {
				c.HotRatings++
			}
		}
		p("ratings", c.Ratings, g.V.Ratings)
		return s.LoadRatings(ctx, rs)
	}); err != nil {
		return c, err
	}
	if err := g.ReviewsAndVotes(batch, func(rs []Review, vs []Vote) error {
		c.Reviews += int64(len(rs))
		c.Votes += int64(len(vs))
		for _, r := range rs {
			if r.FilmID == HotFilm {
				c.HotReviews++
			}
		}
		p("reviews", c.Reviews, g.V.Reviews)
		if err := s.LoadReviews(ctx, rs); err != nil {
			return err
		}
		return s.LoadVotes(ctx, vs)
	}); err != nil {
		return c, err
	}
	if err := g.Bookmarks(batch, func(bs []Bookmark) error {
		c.Bookmarks += int64(len(bs))
		p("bookmarks", c.Bookmarks, g.V.Bookmarks)
		return s.LoadBookmarks(ctx, bs)
	}); err != nil {
		return c, err
	}
	return c, s.Finish(ctx)
}
