package metrics_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/metrics"
)

// writesOnly answers the writes; a read would panic on the nil Store.
type writesOnly struct{ ugc.Store }

func (writesOnly) SetRating(context.Context, uuid.UUID, uuid.UUID, int) (*ugc.Rating, error) {
	return &ugc.Rating{}, nil
}
func (writesOnly) DeleteRating(context.Context, uuid.UUID, uuid.UUID) error { return nil }
func (writesOnly) CreateReview(context.Context, uuid.UUID, uuid.UUID, string) (*ugc.Review, error) {
	return &ugc.Review{}, nil
}

func (writesOnly) UpdateReview(context.Context, uuid.UUID, uuid.UUID, string) (*ugc.Review, error) {
	return &ugc.Review{}, nil
}
func (writesOnly) DeleteReview(context.Context, uuid.UUID, uuid.UUID) error { return nil }
func (writesOnly) SetVote(context.Context, uuid.UUID, uuid.UUID, ugc.VoteValue) (*ugc.Review, error) {
	return &ugc.Review{}, nil
}
func (writesOnly) DeleteVote(context.Context, uuid.UUID, uuid.UUID) error { return nil }
func (writesOnly) AddBookmark(context.Context, uuid.UUID, uuid.UUID) (*ugc.Bookmark, bool, error) {
	return &ugc.Bookmark{}, true, nil
}
func (writesOnly) RemoveBookmark(context.Context, uuid.UUID, uuid.UUID) error { return nil }

// TestIsWriteNamesEveryWrite: the relay in the API's process is woken by
// the operations IsWrite names; a write it missed would wait a poll.
func TestIsWriteNamesEveryWrite(t *testing.T) {
	var ops []string
	s := metrics.New().InstrumentStore(writesOnly{}, func(_ context.Context, op string, _ time.Duration, _ error) { ops = append(ops, op) })
	ctx, id := context.Background(), uuid.New()
	_, _ = s.SetRating(ctx, id, id, 1)
	_ = s.DeleteRating(ctx, id, id)
	_, _ = s.CreateReview(ctx, id, id, "x")
	_, _ = s.UpdateReview(ctx, id, id, "x")
	_ = s.DeleteReview(ctx, id, id)
	_, _ = s.SetVote(ctx, id, id, ugc.VoteLike)
	_ = s.DeleteVote(ctx, id, id)
	_, _, _ = s.AddBookmark(ctx, id, id)
	_ = s.RemoveBookmark(ctx, id, id)
	if len(ops) != 9 || slices.ContainsFunc(ops, func(op string) bool { return !metrics.IsWrite(op) }) {
		t.Fatalf("write operations %v: IsWrite misses some", ops)
	}
	for _, read := range []string{"get_rating", "film_summary", "film_summaries", "list_user_ratings", "get_review", "list_film_reviews", "list_bookmarks"} {
		if metrics.IsWrite(read) {
			t.Errorf("IsWrite(%q) = true", read)
		}
	}
}
