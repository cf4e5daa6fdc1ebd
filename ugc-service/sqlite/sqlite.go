// Package sqlite implements ugc.Store on an embedded SQLite database: the
// zero-setup, durable store for a single machine. It uses the pure-Go
// modernc.org/sqlite driver, so the binary needs no C toolchain and no server.
//
// Derived counters (film score distributions, review like and dislike counts)
// are changed in the same transaction as the rows they are derived from, so a
// committed state is always consistent; ReconcileSummaries exists for damage
// done behind the store's back.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// FileName is the name of the database file inside the directory given to Open.
const FileName = "ugc.db"

// busyTimeout is how long a connection waits for a lock held by another
// process (another instance on the same file, or a backup) before failing.
// Within one process the Go side already serializes writers, so this only
// matters across processes and for WAL checkpoints.
const busyTimeout = 5 * time.Second

var _ ugc.Store = (*Store)(nil)

// Store is the SQLite implementation of ugc.Store. It is safe for concurrent use.
//
// It holds two handles on the same file. SQLite allows one writer at a time;
// letting several pooled connections race for the write lock turns contention
// into SQLITE_BUSY errors and busy-wait retries. Instead the writer handle has
// exactly one connection, so write transactions queue in Go (cheaply, in
// order), and each starts with BEGIN IMMEDIATE so that it takes the write lock
// before its first read and can never fail to upgrade a read lock later. In
// WAL mode readers do not block the writer nor each other, so reads go to a
// separate pool of read-only connections and never wait behind writes.
type Store struct {
	w *sql.DB // exactly one connection; every write transaction
	r *sql.DB // pool of query_only connections; every plain read
}

// Open opens (creating if needed) the database in dir and migrates it to the
// current schema.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}

	ms := busyTimeout.Milliseconds()
	w, err := sql.Open("sqlite", dsn(path, url.Values{
		"_txlock": {"immediate"},
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", ms),
			"foreign_keys(ON)",
			// WAL lets readers proceed while a write is in progress; the mode
			// is recorded in the file, so reader connections inherit it.
			"journal_mode(WAL)",
			// In WAL mode NORMAL is still crash-safe (the database cannot be
			// corrupted); only the last transactions before a power loss may
			// roll back. It saves an fsync per commit.
			"synchronous(NORMAL)",
		},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	// database/sql would otherwise close the connection after idling, and
	// reopening re-runs every pragma.
	w.SetConnMaxIdleTime(0)

	r, err := sql.Open("sqlite", dsn(path, url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", ms),
			// Reads must never write, even by mistake.
			"query_only(1)",
		},
	}))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)

	s := &Store{w: w, r: r}
	// Migrate first: it is the writer's first use, so it also creates the
	// file and switches it to WAL before any reader connects.
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// dsn builds a driver name for the database file at the absolute path with
// the given driver parameters. The file: URI form escapes any character in
// the path that would otherwise be read as the start of parameters.
func dsn(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}
	return u.String()
}

// Ping reports whether the database answers a read and has been migrated.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.r.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if v < len(migrations) {
		return fmt.Errorf("sqlite: ping: schema version %d, want %d", v, len(migrations))
	}
	return nil
}

// Close closes both handles.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// write runs fn in a write transaction, committing when it returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// wrap adds the operation to an error, leaving domain errors as they are so
// that their code and message reach the caller unchanged.
func wrap(op string, err error) error {
	var e *ugc.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// checkCursor refuses a cursor taken from another listing: its key would be
// compared with the wrong column and silently skip or repeat rows.
func checkCursor(page ugc.Page, kind ugc.CursorKind) error {
	if err := page.Validate(); err != nil {
		return err
	}
	if page.After != nil && page.After.Kind != kind {
		return ugc.Errorf(ugc.EINVALID, "cursor belongs to another listing")
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// millis converts a stored time back to the UTC time that was written.
func millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

