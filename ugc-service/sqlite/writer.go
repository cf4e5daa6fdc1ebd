package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// maxBatch bounds how many writes share one transaction, so that a burst
// cannot make the first writer of a batch wait for hundreds of others.
const maxBatch = 64

var errClosed = errors.New("sqlite: store is closed")

// writeReq is one caller's write transaction, waiting for the writer.
type writeReq struct {
	ctx  context.Context
	fn   func(t *tx) error
	done chan error
}

// write runs fn as one atomic change: committed when fn returns nil, undone
// when it returns an error. Writes that arrive while another is in progress
// are committed together (group commit): each runs inside its own savepoint
// of one transaction, so one caller's failure undoes only its own change,
// and the cost of a commit — writing the WAL, ending the transaction — is
// paid once per batch instead of once per write. A caller returns only once
// its change is committed or undone: never while the outcome is unknown.
func (s *Store) write(ctx context.Context, fn func(t *tx) error) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	req := writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return errClosed
	}
	return <-req.done
}

// writeLoop is the single writer: it takes the waiting writes, up to
// maxBatch, and commits them together, until Close. Between batches it also
// truncates the WAL when the background check finds it over its limit.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	for {
		var batch []writeReq
		select {
		case r := <-s.writes:
			batch = append(batch, r)
		case <-s.walFull:
			s.truncateWAL()
			continue
		case <-s.quit:
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch in one transaction and answers every caller.
func (s *Store) commit(batch []writeReq) {
	errs := make([]error, len(batch))
	answer := func() {
		for i, r := range batch {
			r.done <- errs[i]
		}
	}
	defer answer()

	// The transaction outlives any one caller's context: a caller that gives
	// up only loses its own savepoint.
	sqlTx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return
	}
	if len(batch) == 1 {
		// Nothing to isolate from: no savepoint.
		errs[0] = batch[0].run(sqlTx, s.ws, s.noEvents)
		if errs[0] != nil {
			errs[0] = errors.Join(errs[0], ignoreDone(sqlTx.Rollback()))
			return
		}
	} else {
		for i, r := range batch {
			errs[i] = savepoint(sqlTx, func() error { return r.run(sqlTx, s.ws, s.noEvents) })
		}
	}
	if err := sqlTx.Commit(); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
}

// run executes the caller's function, unless the caller has already left,
// and fails it when the caller left meanwhile, so that the caller's change
// is undone and the caller is told so. Its statements run under a context
// that is never cancelled: cancelling a statement interrupts SQLite, which
// then rolls back the whole transaction (sqlite3_interrupt), undoing every
// other caller's write in the batch as well.
func (r writeReq) run(sqlTx *sql.Tx, st stmts, noEvents bool) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if err := r.fn(&tx{ctx: context.WithoutCancel(r.ctx), tx: sqlTx, st: st, noEvents: noEvents}); err != nil {
		return err
	}
	return r.ctx.Err()
}

// savepoint runs fn inside a savepoint, undoing only fn's changes when it
// fails. An error of the savepoint statements themselves means the
// transaction is unusable, which Commit then reports to everyone.
func savepoint(sqlTx *sql.Tx, fn func() error) error {
	if _, err := sqlTx.Exec(`SAVEPOINT w`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(); err != nil {
		_, rbErr := sqlTx.Exec(`ROLLBACK TO w`)
		_, relErr := sqlTx.Exec(`RELEASE w`)
		return errors.Join(err, rbErr, relErr)
	}
	if _, err := sqlTx.Exec(`RELEASE w`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// ignoreDone drops the error of rolling back a transaction that SQLite has
// already ended on its own (after some failures it does).
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
