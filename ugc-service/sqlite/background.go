package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"
)

// Background work of a Store, on its own connection and goroutine so that it
// never runs inside a request's write transaction.
const (
	// watchInterval bounds how long a change made by another process stays
	// invisible to the summary cache.
	watchInterval = 100 * time.Millisecond
	// checkpointInterval is how often the WAL is copied back into the
	// database. The writer's own automatic checkpoint is off: run inside a
	// commit, it made every thousandth write wait for two fsyncs.
	checkpointInterval = time.Second
	// truncateWait bounds how long writes queue behind a truncating
	// checkpoint that waits for readers.
	truncateWait = 500 * time.Millisecond
)

// dataVersion reads PRAGMA data_version on the writer's connection, where it
// changes only when another connection commits. Every other connection of
// this Store is read-only, so a change means another process wrote.
func (s *Store) dataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.w.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
	return v, err
}

// background watches for other processes' commits, starting from version,
// and checkpoints the WAL until ctx ends; it closes done when it returns.
func (s *Store) background(ctx context.Context, version int64, done chan<- struct{}) {
	defer close(done)
	watch := time.NewTicker(watchInterval)
	defer watch.Stop()
	checkpoint := time.NewTicker(checkpointInterval)
	defer checkpoint.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-watch.C:
			if s.WALBytes() > s.walLimit {
				select {
				case s.walFull <- struct{}{}: // the writer truncates it
				default: // already asked
				}
			}
			v, err := s.dataVersion(ctx)
			if err != nil {
				continue // closing, or busy: the next tick tries again
			}
			if v != version {
				s.summaries.clear()
				version = v
			}
		case <-checkpoint.C:
			// PASSIVE copies what it can without blocking readers or the
			// writer; a busy checkpoint simply waits for the next tick.
			_, _ = s.cp.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// truncateWAL checkpoints the whole WAL and empties its file; the writer
// runs it between two batches, so writes queue in Go meanwhile instead of
// failing with SQLITE_BUSY. Passive checkpoints alone never shrink the WAL
// under sustained writes: SQLite starts the log over only when a writer finds
// it fully checkpointed with no reader still using it, which a steady stream
// of reads and writes never allows, and the file grew by gigabytes. TRUNCATE
// waits for the readers of old snapshots for at most truncateWait, far
// inside the writes' own timeout; a timed-out attempt is asked for again by
// the next check. The writer's connection is this goroutine's alone, so its
// busy timeout can be lowered for the one statement.
func (s *Store) truncateWAL() {
	_, _ = s.w.Exec(fmt.Sprintf(`PRAGMA busy_timeout = %d`, truncateWait.Milliseconds()))
	_, _ = s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	_, _ = s.w.Exec(fmt.Sprintf(`PRAGMA busy_timeout = %d`, busyTimeout.Milliseconds()))
}

// WALBytes is the size of the write-ahead log file, 0 when there is none.
func (s *Store) WALBytes() int64 {
	fi, err := os.Stat(s.walPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// openCheckpointer opens the connection the background checkpoints run on.
func openCheckpointer(path string, pragmas []string) (*sql.DB, error) {
	cp, err := sql.Open("sqlite", dsn(path, map[string][]string{"_pragma": pragmas}))
	if err != nil {
		return nil, err
	}
	cp.SetMaxOpenConns(1)
	return cp, nil
}
