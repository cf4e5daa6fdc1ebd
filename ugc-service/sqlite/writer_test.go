package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestCancelledCallerUndoesOnlyItsOwnWrite: one caller of a group commit
// gives up in the middle of a slow statement. Its change is undone and it is
// told so; every other write of the batch commits and is reported
// committed. When the caller's context reached the statement, SQLite's
// interrupt rolled back the shared transaction: the others' writes were lost
// and Commit failed with "no transaction is active".
func TestCancelledCallerUndoesOnlyItsOwnWrite(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	film := uuid.NewString()
	insert := func(user string) func(*tx) error {
		return func(t *tx) error {
			_, err := t.tx.ExecContext(t.ctx, `INSERT INTO bookmarks (user_id, film_id, created_at) VALUES (?, ?, 1)`, user, film)
			return err
		}
	}
	slowCtx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	// A statement that takes long enough to be cancelled in its middle:
	// it inserts 300,000 generated rows.
	slow := func(t *tx) error {
		close(started)
		_, err := t.tx.ExecContext(t.ctx, `INSERT INTO bookmarks (user_id, film_id, created_at)
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
			SELECT 'slow-' || i, ?, i FROM n`, film)
		return err
	}
	go func() {
		<-started
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()

	const others = 20
	batch := []writeReq{}
	for i := range others {
		if i == others/2 {
			batch = append(batch, writeReq{ctx: slowCtx, fn: slow, done: make(chan error, 1)})
		}
		batch = append(batch, writeReq{ctx: t.Context(), fn: insert(fmt.Sprint("user-", i)), done: make(chan error, 1)})
	}
	s.commit(batch)

	committed := 0
	for _, r := range batch {
		err := <-r.done
		switch {
		case r.ctx == slowCtx:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled caller told %v, want context.Canceled", err)
			}
		case err != nil:
			t.Errorf("unrelated write reported failed: %v", err)
		default:
			committed++
		}
	}
	var rows, slowRows int
	if err := s.w.QueryRow(`SELECT count(*), count(*) FILTER (WHERE user_id LIKE 'slow-%') FROM bookmarks WHERE film_id = ?`, film).Scan(&rows, &slowRows); err != nil {
		t.Fatal(err)
	}
	if committed != others || rows != others || slowRows != 0 {
		t.Fatalf("%d writes reported committed, %d rows stored (%d of the cancelled one's); want %d, %d, 0", committed, rows, slowRows, others, others)
	}
}
