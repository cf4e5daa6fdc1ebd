package mongo

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// eventDoc is a document of the outbox collection. _id is the event's
// UUIDv7, so the _id index orders the backlog by the time events were made.
type eventDoc struct {
	ID            uuid.UUID     `bson:"_id"`
	Type          ugc.EventType `bson:"type"`
	UserID        uuid.UUID     `bson:"user_id"`
	FilmID        uuid.UUID     `bson:"film_id"`
	ReviewID      uuid.UUID     `bson:"review_id"`
	Score         *int          `bson:"score"`
	PreviousScore *int          `bson:"previous_score"`
	Vote          ugc.VoteValue `bson:"vote"`
	PreviousVote  ugc.VoteValue `bson:"previous_vote"`
	OccurredAt    time.Time     `bson:"occurred_at"`
}

// emit records e in the outbox. Called inside change, it commits with the
// change's other writes in one transaction; without transactions it runs
// after them, in order (see the package comment for what a crash between
// them costs). A store opened WithoutEvents skips it.
func (s *Store) emit(ctx context.Context, e ugc.Event) error {
	if s.noEvents {
		return nil
	}
	d := eventDoc(e)
	if _, err := s.outbox.InsertOne(ctx, &d); err != nil {
		return fmt.Errorf("mongo: record %s event: %w", e.Type, err)
	}
	return nil
}

// PendingEvents returns up to limit unrelayed events, oldest id first. Events
// of concurrent transactions can commit out of id order; that only changes
// which batch carries them, since relayed events are deleted rather than
// passed by a high-water mark.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]ugc.Event, error) {
	if limit < 1 {
		return nil, ugc.Errorf(ugc.EINVALID, "limit must be at least 1, got %d", limit)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	docs, err := find[eventDoc](ctx, s.outbox, bson.D{}, bson.D{{Key: "_id", Value: 1}}, limit)
	if err != nil {
		return nil, fmt.Errorf("mongo: pending events: %w", err)
	}
	events := make([]ugc.Event, len(docs))
	for i, d := range docs {
		events[i] = ugc.Event(d)
		events[i].OccurredAt = d.OccurredAt.UTC()
	}
	return events, nil
}

// MarkEventsSent deletes the relayed events; ids no longer there are ignored.
func (s *Store) MarkEventsSent(ctx context.Context, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	if _, err := s.outbox.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return fmt.Errorf("mongo: mark events sent: %w", err)
	}
	return nil
}

// OutboxStats counts the backlog and dates its oldest event.
func (s *Store) OutboxStats(ctx context.Context) (*ugc.OutboxStats, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	n, err := s.outbox.CountDocuments(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("mongo: outbox stats: %w", err)
	}
	st := &ugc.OutboxStats{Pending: n}
	if n == 0 {
		return st, nil
	}
	oldest, err := find[eventDoc](ctx, s.outbox, bson.D{}, bson.D{{Key: "_id", Value: 1}}, 1)
	if err != nil {
		return nil, fmt.Errorf("mongo: outbox stats: %w", err)
	}
	if len(oldest) == 1 {
		st.Oldest = oldest[0].OccurredAt.UTC()
	}
	return st, nil
}
