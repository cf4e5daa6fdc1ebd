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
	"slices"
	"time"

	"github.com/google/uuid"
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
	w  *sql.DB // exactly one connection; every write transaction
	r  *sql.DB // pool of query_only connections; every plain read
	cp *sql.DB // one connection for background WAL checkpoints
	ws stmts   // writeQueries, prepared on w
	rs stmts   // readQueries, prepared on r

	summaries *summaryCache
	walPath   string             // the write-ahead log beside the database
	walLimit  int64              // WithWALLimit: size that forces a truncating checkpoint
	opTimeout time.Duration      // WithOpTimeout
	noEvents  bool               // WithoutEvents: the outbox stays empty
	stop      context.CancelFunc // ends the background goroutine
	done      chan struct{}      // closed when it has ended

	writes     chan writeReq // to the writer goroutine (writer.go)
	walFull    chan struct{} // asks the writer to truncate the WAL
	quit       chan struct{} // closed by Close
	writerDone chan struct{} // closed when the writer has stopped
}

// summaryCacheSize is how many film distributions the cache holds: the
// films read most, of any catalogue, and every film of most.
// summaryCacheBytes bounds the live heap the cache takes at that size;
// TestSummaryCacheMemoryIsBounded measures it under a million random film
// ids: about 290 bytes a film with the maps' room and churn, so 100,000
// films take about 28 MiB (200,000 took 56 MiB where 30 MB was assumed).
const (
	summaryCacheSize  = 100_000
	summaryCacheBytes = 32 << 20
)

// Option configures Open.
type Option func(*Store)

// DefaultWALLimit is the write-ahead log size above which the background
// checkpointer truncates it; see background.go.
const DefaultWALLimit = 256 << 20

// WithWALLimit sets the write-ahead log size above which the writer
// truncates it, writes waiting meanwhile (bytes, > 0).
func WithWALLimit(bytes int64) Option { return func(s *Store) { s.walLimit = bytes } }

// WithOpTimeout bounds each operation: a read's queries, a write's wait for
// the writer and its statements. Default DefaultOpTimeout. A read served by
// the summary cache takes no timer at all.
func WithOpTimeout(d time.Duration) Option { return func(s *Store) { s.opTimeout = d } }

// DefaultOpTimeout is the operation timeout without WithOpTimeout.
const DefaultOpTimeout = 5 * time.Second

// op bounds one operation of the store by its timeout.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opTimeout)
}

// WithoutEvents makes the store record no events in its outbox: for
// deployments without analytics, where nothing would ever drain it.
func WithoutEvents() Option { return func(s *Store) { s.noEvents = true } }

// Open opens (creating if needed) the database in dir and migrates it to the
// current schema.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}

	ms := busyTimeout.Milliseconds()
	// Every connection maps the file and keeps a larger page cache than the
	// 2 MiB default: with a store of a few hundred MB, reads through mmap
	// cost no syscall, and hot B-tree pages stay decoded in the cache.
	memory := []string{fmt.Sprintf("busy_timeout(%d)", ms), "mmap_size(1073741824)", "cache_size(-32768)"}
	w, err := sql.Open("sqlite", dsn(path, url.Values{
		"_txlock": {"immediate"},
		"_pragma": slices.Concat(memory, []string{
			"foreign_keys(ON)",
			// WAL lets readers proceed while a write is in progress; the mode
			// is recorded in the file, so reader connections inherit it.
			"journal_mode(WAL)",
			// In WAL mode NORMAL is still crash-safe (the database cannot be
			// corrupted); only the last transactions before a power loss may
			// roll back. It saves an fsync per commit.
			"synchronous(NORMAL)",
			// Checkpoints run in the background (see background.go), not
			// inside whichever commit crosses the threshold.
			"wal_autocheckpoint(0)",
			// After a checkpoint resets the WAL, keep at most 64 MiB of file.
			"journal_size_limit(67108864)",
		}),
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn(path, url.Values{
		// Reads must never write, even by mistake.
		"_pragma": slices.Concat(memory, []string{"query_only(1)"}),
	}))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	// Keep every reader connection open: each holds its own prepared
	// statements, which a reopened connection would have to prepare again.
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)

	cp, err := openCheckpointer(path, memory)
	if err != nil {
		_ = errors.Join(w.Close(), r.Close())
		return nil, fmt.Errorf("sqlite: open checkpointer: %w", err)
	}

	s := &Store{
		w: w, r: r, cp: cp, summaries: newSummaryCache(summaryCacheSize), done: make(chan struct{}),
		walPath: path + "-wal", walLimit: DefaultWALLimit, walFull: make(chan struct{}, 1), opTimeout: DefaultOpTimeout,
		writes: make(chan writeReq), quit: make(chan struct{}), writerDone: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	go s.writeLoop()
	// Migrate first: it is the writer's first use, so it also creates the
	// file and switches it to WAL before any reader connects, and the
	// statements prepared next need the tables.
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	if s.ws, err = prepare(ctx, w, writeQueries()); err == nil {
		s.rs, err = prepare(ctx, r, readQueries())
	}
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// The baseline is read before Open returns, so that no other process's
	// write after this point can be mistaken for it.
	version, err := s.dataVersion(ctx)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.background(bg, version, s.done)
	return s, nil
}

// dsn builds a driver name for the database file at the absolute path with
// the given driver parameters. The file: URI form escapes any character in
// the path that would otherwise be read as the start of parameters.
func dsn(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}
	return u.String()
}

const userVersionSQL = `PRAGMA user_version`

// Ping reports whether the database answers a read and has been migrated.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.rs.get(userVersionSQL).QueryRowContext(ctx).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if v < len(migrations) {
		return fmt.Errorf("sqlite: ping: schema version %d, want %d", v, len(migrations))
	}
	return nil
}

// Close stops the background work, checkpoints the WAL into the database,
// releases the prepared statements and closes every handle.
func (s *Store) Close() error {
	close(s.quit)
	<-s.writerDone
	var checkpoint error
	if s.stop != nil {
		s.stop()
		<-s.done
		_, checkpoint = s.cp.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	return errors.Join(checkpoint, s.rs.close(), s.ws.close(), s.r.Close(), s.w.Close(), s.cp.Close())
}

// stmts are one handle's prepared statements, keyed by their SQL text.
//
// Preparing (parsing and planning) costs about as much as running one of
// these small statements, and the driver keeps no statement cache, so every
// query the store runs is prepared once per connection. The map is filled in
// Open and only read afterwards, so it needs no lock. Statements on the writer
// must be prepared before any transaction holds its only connection, which is
// why they are prepared eagerly rather than on first use.
type stmts map[string]*sql.Stmt

func prepare(ctx context.Context, db *sql.DB, queries []string) (stmts, error) {
	st := make(stmts, len(queries))
	for _, q := range queries {
		p, err := db.PrepareContext(ctx, q)
		if err != nil {
			_ = st.close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		st[q] = p
	}
	return st, nil
}

// get returns the statement for query. A query missing from writeQueries or
// readQueries is a bug in this package, caught by the first test to run it.
func (st stmts) get(query string) *sql.Stmt {
	p, ok := st[query]
	if !ok {
		panic("sqlite: query was not prepared: " + query)
	}
	return p
}

func (st stmts) close() error {
	var errs []error
	for _, p := range st {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// tx is a write transaction that runs the writer's prepared statements.
type tx struct {
	ctx      context.Context
	tx       *sql.Tx
	st       stmts
	noEvents bool
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	return t.tx.StmtContext(t.ctx, t.st.get(query)).ExecContext(t.ctx, args...)
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	return t.tx.StmtContext(t.ctx, t.st.get(query)).QueryRowContext(t.ctx, args...)
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	return t.tx.StmtContext(t.ctx, t.st.get(query)).QueryContext(t.ctx, args...)
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

// listing is the pair of queries of a keyset listing: the first page, and the
// pages that resume strictly after a cursor. Two fixed statements, rather than
// one with an optional condition, let SQLite plan an exact index range for
// each.
type listing struct{ first, after string }

// query runs the listing's first-page query, or its after-cursor query with
// the cursor's key (when keyed) and id. owner is the user or film listed. It asks for one row more than the page
// holds, so that ugc.NewList can tell whether a next page exists.
func (l listing) query(ctx context.Context, st stmts, owner uuid.UUID, page ugc.Page, keyed bool) (*sql.Rows, error) {
	c := page.After
	switch {
	case c == nil:
		return st.get(l.first).QueryContext(ctx, owner, page.Limit+1)
	case keyed:
		return st.get(l.after).QueryContext(ctx, owner, c.Key, c.ID, page.Limit+1)
	default:
		return st.get(l.after).QueryContext(ctx, owner, c.ID, page.Limit+1)
	}
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanAll reads the up to n rows of a page with scan and closes rows. The
// slice is never nil, so an empty page encodes as [] rather than null.
func scanAll[T any](rows *sql.Rows, n int, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	items := make([]T, 0, n)
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return items, rows.Err()
}

// millis converts a stored time back to the UTC time that was written.
func millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// after is ugc.NextTime for a user's next row, in Unix milliseconds, with
// the user's latest read by latestSQL. The writer is the only one, so no
// two writes of a user can read the same latest.
func (t *tx) after(latestSQL string, user uuid.UUID) (int64, error) {
	var latest int64
	if err := t.queryRow(latestSQL, user).Scan(&latest); err != nil {
		return 0, err
	}
	return ugc.NextTime(millis(latest)).UnixMilli(), nil
}

// writeQueries are the statements write transactions run.
func writeQueries() []string {
	return []string{
		ratingScoreSQL, upsertRatingSQL, deleteRatingSQL, moveScoreSQL,
		insertReviewSQL, reviewByIDSQL, reviewAuthorSQL, updateReviewSQL, deleteReviewVotesSQL, deleteReviewSQL,
		voteValueSQL, upsertVoteSQL, deleteVoteSQL, moveVoteSQL,
		insertBookmarkSQL, bookmarkCreatedSQL, deleteBookmarkSQL, latestBookmarkSQL, latestRatingSQL,
		reconcileFilmsSQL, setDistributionSQL, deleteDistributionSQL, reconcileReviewsSQL, setVoteCountsSQL,
		insertEventSQL, deleteEventSQL,
	}
}

// readQueries are the statements plain reads run.
func readQueries() []string {
	qs := []string{
		userVersionSQL, getRatingSQL, filmSummarySQL, reviewByIDSQL,
		userRatingsListing.first, userRatingsListing.after,
		bookmarksListing.first, bookmarksListing.after,
		pendingSQL, outboxStatsSQL,
	}
	for _, l := range reviewListings {
		qs = append(qs, l.first, l.after)
	}
	return qs
}
