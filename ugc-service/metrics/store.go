package metrics

import (
	"context"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// StoreObserver is told about every store operation a request makes: its
// name (snake_case), how long it took and how it ended.
type StoreObserver func(ctx context.Context, op string, d time.Duration, err error)

// writes are the operations that change UGC, each recording an event.
var writes = map[string]bool{
	"set_rating": true, "delete_rating": true, "create_review": true, "update_review": true, "delete_review": true,
	"set_vote": true, "delete_vote": true, "add_bookmark": true, "remove_bookmark": true,
}

// IsWrite reports whether op, as a StoreObserver is told it, changes UGC.
func IsWrite(op string) bool { return writes[op] }

// InstrumentStore wraps s so that every operation's latency and outcome is
// recorded, and passed to each observer (Sentry breadcrumbs, for one). The
// wrapper changes no behaviour.
func (m *Metrics) InstrumentStore(s ugc.Store, observers ...StoreObserver) ugc.Store {
	return &store{Store: s, m: m, observers: observers}
}

// store embeds ugc.Store for the lifecycle methods (Migrate, Close) that are
// not worth a latency series, and overrides everything a request calls.
type store struct {
	ugc.Store
	m         *Metrics
	observers []StoreObserver
}

func (s *store) observe(ctx context.Context, op string, start time.Time, err error) {
	d := time.Since(start)
	s.m.observeStore(op, d, err)
	for _, o := range s.observers {
		o(ctx, op, d, err)
	}
}

func (s *store) SetRating(ctx context.Context, userID, filmID uuid.UUID, score int) (r *ugc.Rating, err error) {
	defer func(start time.Time) { s.observe(ctx, "set_rating", start, err) }(time.Now())
	return s.Store.SetRating(ctx, userID, filmID, score)
}

func (s *store) GetRating(ctx context.Context, userID, filmID uuid.UUID) (r *ugc.Rating, err error) {
	defer func(start time.Time) { s.observe(ctx, "get_rating", start, err) }(time.Now())
	return s.Store.GetRating(ctx, userID, filmID)
}

func (s *store) DeleteRating(ctx context.Context, userID, filmID uuid.UUID) (err error) {
	defer func(start time.Time) { s.observe(ctx, "delete_rating", start, err) }(time.Now())
	return s.Store.DeleteRating(ctx, userID, filmID)
}

func (s *store) ListUserRatings(ctx context.Context, userID uuid.UUID, page ugc.Page) (l *ugc.List[*ugc.Rating], err error) {
	defer func(start time.Time) { s.observe(ctx, "list_user_ratings", start, err) }(time.Now())
	return s.Store.ListUserRatings(ctx, userID, page)
}

func (s *store) FilmSummary(ctx context.Context, filmID uuid.UUID) (f *ugc.FilmSummary, err error) {
	defer func(start time.Time) { s.observe(ctx, "film_summary", start, err) }(time.Now())
	return s.Store.FilmSummary(ctx, filmID)
}

func (s *store) FilmSummaries(ctx context.Context, filmIDs []uuid.UUID) (f []*ugc.FilmSummary, err error) {
	defer func(start time.Time) { s.observe(ctx, "film_summaries", start, err) }(time.Now())
	return s.Store.FilmSummaries(ctx, filmIDs)
}

func (s *store) CreateReview(ctx context.Context, authorID, filmID uuid.UUID, text string) (r *ugc.Review, err error) {
	defer func(start time.Time) { s.observe(ctx, "create_review", start, err) }(time.Now())
	return s.Store.CreateReview(ctx, authorID, filmID, text)
}

func (s *store) GetReview(ctx context.Context, reviewID uuid.UUID) (r *ugc.Review, err error) {
	defer func(start time.Time) { s.observe(ctx, "get_review", start, err) }(time.Now())
	return s.Store.GetReview(ctx, reviewID)
}

func (s *store) UpdateReview(ctx context.Context, actorID, reviewID uuid.UUID, text string) (r *ugc.Review, err error) {
	defer func(start time.Time) { s.observe(ctx, "update_review", start, err) }(time.Now())
	return s.Store.UpdateReview(ctx, actorID, reviewID, text)
}

func (s *store) DeleteReview(ctx context.Context, actorID, reviewID uuid.UUID) (err error) {
	defer func(start time.Time) { s.observe(ctx, "delete_review", start, err) }(time.Now())
	return s.Store.DeleteReview(ctx, actorID, reviewID)
}

func (s *store) ListFilmReviews(ctx context.Context, filmID uuid.UUID, sort ugc.ReviewSort, page ugc.Page) (l *ugc.List[*ugc.Review], err error) {
	defer func(start time.Time) { s.observe(ctx, "list_film_reviews", start, err) }(time.Now())
	return s.Store.ListFilmReviews(ctx, filmID, sort, page)
}

func (s *store) SetVote(ctx context.Context, userID, reviewID uuid.UUID, value ugc.VoteValue) (r *ugc.Review, err error) {
	defer func(start time.Time) { s.observe(ctx, "set_vote", start, err) }(time.Now())
	return s.Store.SetVote(ctx, userID, reviewID, value)
}

func (s *store) DeleteVote(ctx context.Context, userID, reviewID uuid.UUID) (err error) {
	defer func(start time.Time) { s.observe(ctx, "delete_vote", start, err) }(time.Now())
	return s.Store.DeleteVote(ctx, userID, reviewID)
}

func (s *store) AddBookmark(ctx context.Context, userID, filmID uuid.UUID) (b *ugc.Bookmark, created bool, err error) {
	defer func(start time.Time) { s.observe(ctx, "add_bookmark", start, err) }(time.Now())
	return s.Store.AddBookmark(ctx, userID, filmID)
}

func (s *store) RemoveBookmark(ctx context.Context, userID, filmID uuid.UUID) (err error) {
	defer func(start time.Time) { s.observe(ctx, "remove_bookmark", start, err) }(time.Now())
	return s.Store.RemoveBookmark(ctx, userID, filmID)
}

func (s *store) ListBookmarks(ctx context.Context, userID uuid.UUID, page ugc.Page) (l *ugc.List[*ugc.Bookmark], err error) {
	defer func(start time.Time) { s.observe(ctx, "list_bookmarks", start, err) }(time.Now())
	return s.Store.ListBookmarks(ctx, userID, page)
}

func (s *store) Ping(ctx context.Context) (err error) {
	defer func(start time.Time) { s.observe(ctx, "ping", start, err) }(time.Now())
	return s.Store.Ping(ctx)
}

func (s *store) ReconcileSummaries(ctx context.Context) (r *ugc.ReconcileReport, err error) {
	defer func(start time.Time) { s.observe(ctx, "reconcile_summaries", start, err) }(time.Now())
	return s.Store.ReconcileSummaries(ctx)
}
