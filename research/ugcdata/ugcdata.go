// Package ugcdata holds the research tool's domain: the UGC entities, the
// deterministic dataset generator, the read paths every store must answer
// and an in-memory oracle that answers them by recomputation.
package ugcdata

import (
	"context"
	"time"
)

// Score bounds: a "like" of a film is a rating of MaxScore, a "dislike" MinScore.
const (
	MinScore = 0
	MaxScore = 10
	PageSize = 20
)

// Rating is one user's score of one film; (UserID, FilmID) is unique.
type Rating struct {
	UserID, FilmID int64
	Score          int8
	At             time.Time
}

// Review is a user's text about a film with its vote counters.
type Review struct {
	ID, FilmID, UserID int64
	Text               string
	At                 time.Time
	Likes, Dislikes    int64
}

// Vote is a user's like (+1) or dislike (-1) of a review; (ReviewID, UserID) is unique.
type Vote struct {
	ReviewID, FilmID, UserID int64
	Value                    int8
}

// Bookmark is a film a user saved; (UserID, FilmID) is unique.
type Bookmark struct {
	UserID, FilmID int64
	At             time.Time
}

// Summary is a film's rating summary.
type Summary struct {
	FilmID          int64
	Count           int64
	Sum             int64
	Likes, Dislikes int64
}

// Average returns the mean score, 0 when there are no ratings.
func (s Summary) Average() float64 {
	if s.Count == 0 {
		return 0
	}
	return float64(s.Sum) / float64(s.Count)
}

// Reader is the set of read paths the API serves. Every backend implements
// it with the same ordering contracts:
//   - UserBookmarks: newest first, ties by film id ascending, at most limit.
//   - FilmReviews: most likes first, ties by review id ascending, at most limit.
//   - UserRatings: by film id ascending.
//   - UserFilmRating: ok=false when the user has not rated the film.
type Reader interface {
	UserBookmarks(ctx context.Context, userID int64, limit int) ([]Bookmark, error)
	FilmSummary(ctx context.Context, filmID int64) (Summary, error)
	FilmReviews(ctx context.Context, filmID int64, limit int) ([]Review, error)
	UserRatings(ctx context.Context, userID int64) ([]Rating, error)
	UserFilmRating(ctx context.Context, userID, filmID int64) (score int8, ok bool, err error)
}

// Store is a backend under study: it loads the dataset in batches, serves
// the read paths and applies the concurrent writer's rating upserts.
type Store interface {
	Reader
	// Name is the store's short name ("postgres", "redis", ...).
	Name() string
	// Version is the exact server version string.
	Version(ctx context.Context) (string, error)
	// Reset drops and recreates the schema (tables, indexes, sort keys).
	Reset(ctx context.Context) error
	LoadRatings(ctx context.Context, rs []Rating) error
	LoadReviews(ctx context.Context, rs []Review) error
	LoadVotes(ctx context.Context, vs []Vote) error
	LoadBookmarks(ctx context.Context, bs []Bookmark) error
	// Finish runs after loading: builds summaries and indexes, analyzes.
	Finish(ctx context.Context) error
	// PutRating inserts or replaces one rating and keeps summaries exact.
	PutRating(ctx context.Context, r Rating) error
	Close() error
}
