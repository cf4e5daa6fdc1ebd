package ugc_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

func TestEventValidate(t *testing.T) {
	user, film, review := uuid.New(), uuid.New(), uuid.New()
	score := func(n int) *int { return &n }
	ev := func(typ ugc.EventType, mut func(*ugc.Event)) ugc.Event {
		e := ugc.NewEvent(typ, user, film)
		mut(&e)
		return e
	}
	none := func(*ugc.Event) {}
	for _, c := range []struct {
		name string
		e    ugc.Event
		ok   bool
	}{
		{"rating_set new", ev(ugc.EventRatingSet, func(e *ugc.Event) { e.Score = score(7) }), true},
		{"rating_set same score again", ev(ugc.EventRatingSet, func(e *ugc.Event) { e.Score, e.PreviousScore = score(7), score(7) }), true},
		{"rating_set without score", ev(ugc.EventRatingSet, none), false},
		{"rating_set score out of range", ev(ugc.EventRatingSet, func(e *ugc.Event) { e.Score = score(11) }), false},
		{"rating_set with review", ev(ugc.EventRatingSet, func(e *ugc.Event) { e.Score, e.ReviewID = score(1), review }), false},
		{"rating_deleted", ev(ugc.EventRatingDeleted, func(e *ugc.Event) { e.PreviousScore = score(0) }), true},
		{"rating_deleted without previous", ev(ugc.EventRatingDeleted, none), false},
		{"review_created", ev(ugc.EventReviewCreated, func(e *ugc.Event) { e.ReviewID = review }), true},
		{"review_updated without review", ev(ugc.EventReviewUpdated, none), false},
		{"review_deleted", ev(ugc.EventReviewDeleted, func(e *ugc.Event) { e.ReviewID = review }), true},
		{"vote_set new", ev(ugc.EventReviewVoteSet, func(e *ugc.Event) { e.ReviewID, e.Vote = review, ugc.VoteLike }), true},
		{"vote_set flip", ev(ugc.EventReviewVoteSet, func(e *ugc.Event) {
			e.ReviewID, e.Vote, e.PreviousVote = review, ugc.VoteDislike, ugc.VoteLike
		}), true},
		{"vote_set unchanged is no event", ev(ugc.EventReviewVoteSet, func(e *ugc.Event) {
			e.ReviewID, e.Vote, e.PreviousVote = review, ugc.VoteLike, ugc.VoteLike
		}), false},
		{"vote_set bad value", ev(ugc.EventReviewVoteSet, func(e *ugc.Event) { e.ReviewID, e.Vote = review, "meh" }), false},
		{"vote_deleted", ev(ugc.EventReviewVoteDeleted, func(e *ugc.Event) { e.ReviewID, e.PreviousVote = review, ugc.VoteDislike }), true},
		{"vote_deleted without previous", ev(ugc.EventReviewVoteDeleted, func(e *ugc.Event) { e.ReviewID = review }), false},
		{"bookmark_added", ev(ugc.EventBookmarkAdded, none), true},
		{"bookmark_removed with score", ev(ugc.EventBookmarkRemoved, func(e *ugc.Event) { e.Score = score(3) }), false},
		{"unknown type", ev("film_watched", none), false},
		{"no user", ev(ugc.EventBookmarkAdded, func(e *ugc.Event) { e.UserID = uuid.Nil }), false},
		{"no time", ev(ugc.EventBookmarkAdded, func(e *ugc.Event) { e.OccurredAt = time.Time{} }), false},
	} {
		err := c.e.Validate()
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && ugc.ErrorCode(err) != ugc.EINVALID {
			t.Errorf("%s: got %v, want %s", c.name, err, ugc.EINVALID)
		}
	}
}

func TestNewEventIDsAreOrdered(t *testing.T) {
	user, film := uuid.New(), uuid.New()
	prev := ugc.NewEvent(ugc.EventBookmarkAdded, user, film)
	if prev.ID.Version() != 7 {
		t.Fatalf("event id version %d, want 7", prev.ID.Version())
	}
	for range 1000 {
		e := ugc.NewEvent(ugc.EventBookmarkAdded, user, film)
		if string(e.ID[:]) <= string(prev.ID[:]) {
			t.Fatalf("event id %s not after %s", e.ID, prev.ID)
		}
		prev = e
	}
}

func TestOutboxStatsAge(t *testing.T) {
	now := time.Date(2026, 11, 28, 17, 0, 0, 0, time.UTC)
	if age := (ugc.OutboxStats{}).Age(now); age != 0 {
		t.Errorf("empty outbox age %v, want 0", age)
	}
	s := ugc.OutboxStats{Pending: 3, Oldest: now.Add(-90 * time.Second)}
	if age := s.Age(now); age != 90*time.Second {
		t.Errorf("age %v, want 1m30s", age)
	}
}
