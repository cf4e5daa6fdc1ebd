package sqlite

import (
	"context"
	"database/sql"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

const (
	outboxColumns = `id, type, user_id, film_id, review_id, score, previous_score, vote, previous_vote, occurred_at`

	insertEventSQL = `INSERT INTO outbox (` + outboxColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	pendingSQL     = `SELECT ` + outboxColumns + ` FROM outbox ORDER BY id LIMIT ?`
	deleteEventSQL = `DELETE FROM outbox WHERE id = ?`
	outboxStatsSQL = `SELECT count(*), (SELECT occurred_at FROM outbox ORDER BY id LIMIT 1) FROM outbox`
)

// emit records e in the outbox as part of t: the event commits, or is
// undone, with the change it describes. A store opened WithoutEvents skips it.
func (t *tx) emit(e ugc.Event) error {
	if t.noEvents {
		return nil
	}
	_, err := t.exec(insertEventSQL, e.ID, string(e.Type), e.UserID, e.FilmID, e.ReviewID,
		e.Score, e.PreviousScore, string(e.Vote), string(e.PreviousVote), e.OccurredAt.UnixMilli())
	return err
}

// PendingEvents returns up to limit unrelayed events, oldest first.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]ugc.Event, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	if limit < 1 {
		return nil, ugc.Errorf(ugc.EINVALID, "limit must be at least 1, got %d", limit)
	}
	rows, err := s.rs.get(pendingSQL).QueryContext(ctx, limit)
	if err != nil {
		return nil, wrap("pending events", err)
	}
	events, err := scanAll(rows, limit, scanEvent)
	return events, wrap("pending events", err)
}

func scanEvent(row scanner) (ugc.Event, error) {
	var (
		e               ugc.Event
		typ, vote, prev string
		score, previous sql.NullInt64
		at              int64
	)
	err := row.Scan(&e.ID, &typ, &e.UserID, &e.FilmID, &e.ReviewID, &score, &previous, &vote, &prev, &at)
	e.Type, e.Vote, e.PreviousVote, e.OccurredAt = ugc.EventType(typ), ugc.VoteValue(vote), ugc.VoteValue(prev), millis(at)
	e.Score, e.PreviousScore = intPtr(score), intPtr(previous)
	return e, err
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// MarkEventsSent deletes the relayed events from the outbox in one
// transaction; ids no longer there are ignored.
func (s *Store) MarkEventsSent(ctx context.Context, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(t *tx) error {
		for _, id := range ids {
			if _, err := t.exec(deleteEventSQL, id); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("mark events sent", err)
}

// OutboxStats counts the backlog and dates its oldest event.
func (s *Store) OutboxStats(ctx context.Context) (*ugc.OutboxStats, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var st ugc.OutboxStats
	var oldest sql.NullInt64
	if err := s.rs.get(outboxStatsSQL).QueryRowContext(ctx).Scan(&st.Pending, &oldest); err != nil {
		return nil, wrap("outbox stats", err)
	}
	if oldest.Valid {
		st.Oldest = millis(oldest.Int64)
	}
	return &st, nil
}
