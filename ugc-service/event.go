package ugc

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// EventType names a change to UGC as the analytics pipeline records it.
type EventType string

// The event types. Each is emitted only for a real state change: re-voting
// the same value or re-adding a bookmark changes nothing and yields no event,
// while re-rating with the same score moves updated_at and yields rating_set.
const (
	EventRatingSet         EventType = "rating_set"          // Score, and PreviousScore unless the rating is new
	EventRatingDeleted     EventType = "rating_deleted"      // PreviousScore
	EventReviewCreated     EventType = "review_created"      // ReviewID
	EventReviewUpdated     EventType = "review_updated"      // ReviewID
	EventReviewDeleted     EventType = "review_deleted"      // ReviewID
	EventReviewVoteSet     EventType = "review_vote_set"     // ReviewID, Vote, and PreviousVote unless the vote is new
	EventReviewVoteDeleted EventType = "review_vote_deleted" // ReviewID, PreviousVote
	EventBookmarkAdded     EventType = "bookmark_added"
	EventBookmarkRemoved   EventType = "bookmark_removed"
)

// EventTypes lists every event type, in a fixed order.
var EventTypes = []EventType{
	EventRatingSet, EventRatingDeleted,
	EventReviewCreated, EventReviewUpdated, EventReviewDeleted,
	EventReviewVoteSet, EventReviewVoteDeleted,
	EventBookmarkAdded, EventBookmarkRemoved,
}

// Event is one change to UGC, recorded in the store's outbox in the same
// change and relayed to ClickHouse. ID is a UUIDv7, so id order is the order
// in which events were recorded; consumers deduplicate on it.
type Event struct {
	ID            uuid.UUID `json:"id"`
	Type          EventType `json:"type"`
	UserID        uuid.UUID `json:"user_id"`
	FilmID        uuid.UUID `json:"film_id"`
	ReviewID      uuid.UUID `json:"review_id"` // uuid.Nil for rating and bookmark events
	Score         *int      `json:"score"`
	PreviousScore *int      `json:"previous_score"`
	Vote          VoteValue `json:"vote"`          // "" when not applicable
	PreviousVote  VoteValue `json:"previous_vote"` // "" when not applicable or new
	OccurredAt    time.Time `json:"occurred_at"`
}

// NewEvent returns an event of type t with a fresh UUIDv7 id, occurring now
// (ugc.Now). Callers fill in the type's values.
func NewEvent(t EventType, userID, filmID uuid.UUID) Event {
	return Event{ID: uuid.Must(uuid.NewV7()), Type: t, UserID: userID, FilmID: filmID, OccurredAt: Now()}
}

// RatingSetEvent records userID's score of filmID; previous is nil when the
// rating is new.
func RatingSetEvent(userID, filmID uuid.UUID, score int, previous *int) Event {
	e := NewEvent(EventRatingSet, userID, filmID)
	e.Score, e.PreviousScore = &score, previous
	return e
}

// RatingDeletedEvent records the removal of a rating that had score previous.
func RatingDeletedEvent(userID, filmID uuid.UUID, previous int) Event {
	e := NewEvent(EventRatingDeleted, userID, filmID)
	e.PreviousScore = &previous
	return e
}

// ReviewEvent records the creation, edit or deletion (t) of a review by its
// author.
func ReviewEvent(t EventType, authorID, filmID, reviewID uuid.UUID) Event {
	e := NewEvent(t, authorID, filmID)
	e.ReviewID = reviewID
	return e
}

// VoteEvent records userID's vote on a review of filmID changing from
// previous to vote; "" stands for no vote, so a new vote has previous "" and
// a withdrawn one has vote "" (review_vote_deleted).
func VoteEvent(userID, filmID, reviewID uuid.UUID, vote, previous VoteValue) Event {
	t := EventReviewVoteSet
	if vote == "" {
		t = EventReviewVoteDeleted
	}
	e := ReviewEvent(t, userID, filmID, reviewID)
	e.Vote, e.PreviousVote = vote, previous
	return e
}

// Validate reports EINVALID when the event's fields do not fit its type:
// each type carries exactly the values its constant's comment lists.
func (e *Event) Validate() error {
	if e.ID == uuid.Nil || e.UserID == uuid.Nil || e.FilmID == uuid.Nil {
		return Errorf(EINVALID, "event %s: id, user id and film id are required", e.Type)
	}
	if e.OccurredAt.IsZero() {
		return Errorf(EINVALID, "event %s: occurred_at is required", e.Type)
	}
	scoreOK := func(p *int) bool { return p == nil || ValidateScore(*p) == nil }
	voteOK := func(v VoteValue) bool { return v == "" || v.Validate() == nil }
	if !scoreOK(e.Score) || !scoreOK(e.PreviousScore) || !voteOK(e.Vote) || !voteOK(e.PreviousVote) {
		return Errorf(EINVALID, "event %s: score or vote out of range", e.Type)
	}
	hasReview := e.ReviewID != uuid.Nil
	var ok bool
	switch e.Type {
	case EventRatingSet:
		ok = !hasReview && e.Score != nil && e.Vote == "" && e.PreviousVote == ""
	case EventRatingDeleted:
		ok = !hasReview && e.Score == nil && e.PreviousScore != nil && e.Vote == "" && e.PreviousVote == ""
	case EventReviewCreated, EventReviewUpdated, EventReviewDeleted:
		ok = hasReview && e.Score == nil && e.PreviousScore == nil && e.Vote == "" && e.PreviousVote == ""
	case EventReviewVoteSet:
		ok = hasReview && e.Vote != "" && e.Vote != e.PreviousVote && e.Score == nil && e.PreviousScore == nil
	case EventReviewVoteDeleted:
		ok = hasReview && e.Vote == "" && e.PreviousVote != "" && e.Score == nil && e.PreviousScore == nil
	case EventBookmarkAdded, EventBookmarkRemoved:
		ok = !hasReview && e.Score == nil && e.PreviousScore == nil && e.Vote == "" && e.PreviousVote == ""
	default:
		return Errorf(EINVALID, "unknown event type %q", e.Type)
	}
	if !ok {
		return Errorf(EINVALID, "event %s: fields do not match the type", e.Type)
	}
	return nil
}

// OutboxStats describes the events a store has recorded but not yet relayed.
type OutboxStats struct {
	Pending int64     `json:"pending"`
	Oldest  time.Time `json:"oldest"` // OccurredAt of the oldest unsent event; zero when none
}

// Age returns how long the oldest unsent event has waited at now, 0 when
// nothing is pending.
func (s OutboxStats) Age(now time.Time) time.Duration {
	if s.Pending == 0 || s.Oldest.IsZero() {
		return 0
	}
	return now.Sub(s.Oldest)
}

// Outbox is the durable queue of events a store records in the same change
// as the state they describe. The relay is its only consumer.
type Outbox interface {
	// PendingEvents returns up to limit unsent events in the order they were
	// committed, oldest first. It returns EINVALID for limit < 1.
	PendingEvents(ctx context.Context, limit int) ([]Event, error)

	// MarkEventsSent marks the events with these ids as relayed; unknown or
	// already-sent ids are ignored, so a retried call is harmless.
	MarkEventsSent(ctx context.Context, ids []uuid.UUID) error

	// OutboxStats counts the unsent events and dates the oldest.
	OutboxStats(ctx context.Context) (*OutboxStats, error)
}
