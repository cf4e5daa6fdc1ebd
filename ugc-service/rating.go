package ugc

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Score bounds. A "like" of a film is a score of MaxScore and a "dislike" is
// MinScore, so likes and dislikes are views over the same ratings.
const (
	MinScore = 0
	MaxScore = 10
)

// Rating is one user's score for one film. A user has at most one rating per
// film; setting it again replaces the score.
type Rating struct {
	UserID    uuid.UUID `json:"user_id"`
	FilmID    uuid.UUID `json:"film_id"`
	Score     int       `json:"score"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ValidateScore reports EINVALID unless score is within [MinScore, MaxScore].
func ValidateScore(score int) error {
	if score < MinScore || score > MaxScore {
		return Errorf(EINVALID, "score must be an integer from %d to %d, got %d", MinScore, MaxScore, score)
	}
	return nil
}

// Distribution counts a film's ratings by score: Distribution[s] is the number
// of ratings with score s. Stores keep only this per film; every other summary
// figure is derived from it, so they can never disagree with each other.
type Distribution [MaxScore + 1]int64

// FilmSummary is the aggregate of every rating of one film.
type FilmSummary struct {
	FilmID       uuid.UUID    `json:"film_id"`
	Count        int64        `json:"count"`
	Average      *float64     `json:"average"` // nil when the film has no ratings
	Likes        int64        `json:"likes"`   // ratings of MaxScore
	Dislikes     int64        `json:"dislikes"`
	Distribution Distribution `json:"distribution"`
}

// NewFilmSummary derives a film's summary from its score distribution.
func NewFilmSummary(filmID uuid.UUID, d Distribution) *FilmSummary {
	s := &FilmSummary{FilmID: filmID, Distribution: d, Likes: d[MaxScore], Dislikes: d[MinScore]}
	var sum int64
	for score, n := range d {
		s.Count += n
		sum += int64(score) * n
	}
	if s.Count > 0 {
		avg := float64(sum) / float64(s.Count)
		s.Average = &avg
	}
	return s
}

// RatingService manages ratings and keeps film summaries in step with them.
type RatingService interface {
	// SetRating creates or replaces userID's rating of filmID and updates the
	// film's summary in the same change. EINVALID for a score out of range.
	SetRating(ctx context.Context, userID, filmID uuid.UUID, score int) (*Rating, error)

	// GetRating returns userID's rating of filmID, or ENOTFOUND.
	GetRating(ctx context.Context, userID, filmID uuid.UUID) (*Rating, error)

	// DeleteRating removes userID's rating of filmID and updates the film's
	// summary in the same change. ENOTFOUND when there is no such rating.
	DeleteRating(ctx context.Context, userID, filmID uuid.UUID) error

	// ListUserRatings pages through userID's ratings, most recently set first
	// (UpdatedAt descending, then FilmID descending). SetRating gives each
	// write a later UpdatedAt than the user's previous rating, as AddBookmark
	// does, so the order is the order they were set. The cursor kind is
	// CursorUserRatings.
	ListUserRatings(ctx context.Context, userID uuid.UUID, page Page) (*List[*Rating], error)

	// FilmSummary returns filmID's summary: a single point read of the kept
	// distribution, never an aggregation over ratings. A film nobody rated has a
	// zero summary with a nil Average; it is not an error.
	FilmSummary(ctx context.Context, filmID uuid.UUID) (*FilmSummary, error)

	// FilmSummaries returns the summaries of up to MaxBatchSummaries
	// distinct films, in the order given, as FilmSummary would one by one,
	// for a catalogue page that shows many films. EINVALID for more films.
	FilmSummaries(ctx context.Context, filmIDs []uuid.UUID) ([]*FilmSummary, error)
}

// MaxBatchSummaries bounds one FilmSummaries call: a catalogue page.
const MaxBatchSummaries = 100

// ValidateBatch checks the size of a FilmSummaries request.
func ValidateBatch(filmIDs []uuid.UUID) error {
	if len(filmIDs) == 0 || len(filmIDs) > MaxBatchSummaries {
		return Errorf(EINVALID, "ask for 1 to %d films, got %d", MaxBatchSummaries, len(filmIDs))
	}
	return nil
}
