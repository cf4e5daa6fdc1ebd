// Package chdb is the current ClickHouse engine (26.x) run in-process
// through chDB (github.com/chdb-io/chdb-go, which loads libchdb.so from
// CHDB_LIB_PATH with purego, no cgo). It answers the same schema and SQL as
// the clickhouse package, which measures Debian's 18.16 server, so the two
// rows differ only by the engine's age and by the write path: 18.16 has no
// asynchronous inserts, and here every upsert is sent with async_insert=1
// and wait_for_async_insert=1, so concurrent single-row inserts are
// collected into one part and each call returns once its row is written
// and readable (the correctness suite relies on that).
//
// chDB keeps one connection per process: Open refuses a second store while
// one is open. Importing this package loads the library at start-up, so
// every binary that links it needs CHDB_LIB_PATH (`make research-chdb`).
package chdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	chdbpurego "github.com/chdb-io/chdb-go/chdb-purego"

	"github.com/ugcstack/ugcstack/research/clickhouse"
	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// AsyncInsert is the settings clause of every upsert.
const AsyncInsert = " SETTINGS async_insert=1, wait_for_async_insert=1"

var inUse atomic.Bool

// Store is the chDB backend.
type Store struct{ conn chdbpurego.ChdbConn }

// Open starts the engine with its data in dir (created if missing).
func Open(dir string) (*Store, error) {
	if !inUse.CompareAndSwap(false, true) {
		return nil, errors.New("chdb: a store is already open in this process (one connection per process)")
	}
	conn, err := chdbpurego.NewConnectionFromConnString(dir)
	if err != nil {
		inUse.Store(false)
		return nil, fmt.Errorf("chdb: open %s: %w", dir, err)
	}
	return &Store{conn: conn}, nil
}

// Name implements ugcdata.Store.
func (s *Store) Name() string { return "chdb" }

// Close implements ugcdata.Store.
func (s *Store) Close() error {
	s.conn.Close()
	inUse.Store(false)
	return nil
}

// query runs q and returns its TabSeparated result.
func (s *Store) query(ctx context.Context, q string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	r, err := s.conn.Query(q, "TabSeparated")
	if err != nil {
		return "", fmt.Errorf("%s: %w", firstLine(q), err)
	}
	if r == nil { // statements without output may return no result at all
		return "", nil
	}
	defer r.Free()
	return r.String(), nil
}

func firstLine(q string) string {
	line, _, _ := strings.Cut(q, "\n")
	return line
}

func (s *Store) rows(ctx context.Context, q string) ([][]string, error) {
	out, err := s.query(ctx, q)
	return parseRows(out), err
}

// Version implements ugcdata.Store.
func (s *Store) Version(ctx context.Context) (string, error) {
	v, err := s.query(ctx, "SELECT version()")
	return "ClickHouse " + strings.TrimSpace(v) + " (chDB)", err
}

func (s *Store) exec(ctx context.Context, qs []string) error {
	for _, q := range qs {
		if _, err := s.query(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Reset implements ugcdata.Store.
func (s *Store) Reset(ctx context.Context) error { return s.exec(ctx, clickhouse.Schema) }

// Finish implements ugcdata.Store.
func (s *Store) Finish(ctx context.Context) error { return s.exec(ctx, clickhouse.Optimize) }

// insert sends n rows inline in one INSERT.
func (s *Store) insert(ctx context.Context, head, settings string, n int, row func(i int) []any) error {
	var b strings.Builder
	b.WriteString(head + settings + " FORMAT TabSeparated\n")
	for i := 0; i < n; i++ {
		appendRow(&b, row(i))
	}
	_, err := s.query(ctx, b.String())
	return err
}

func (s *Store) putRatings(ctx context.Context, rs []ugcdata.Rating, ver uint64, settings string) error {
	if err := s.insert(ctx, clickhouse.InsertRatingsByFilm, settings, len(rs), func(i int) []any { return clickhouse.RatingByFilm(rs[i], ver) }); err != nil {
		return err
	}
	return s.insert(ctx, clickhouse.InsertRatingsByUser, settings, len(rs), func(i int) []any { return clickhouse.RatingByUser(rs[i], ver) })
}

// LoadRatings implements ugcdata.Store.
func (s *Store) LoadRatings(ctx context.Context, rs []ugcdata.Rating) error {
	return s.putRatings(ctx, rs, 0, "")
}

// LoadReviews implements ugcdata.Store.
func (s *Store) LoadReviews(ctx context.Context, rs []ugcdata.Review) error {
	return s.insert(ctx, clickhouse.InsertReviews, "", len(rs), func(i int) []any { return clickhouse.ReviewRow(rs[i]) })
}

// LoadVotes implements ugcdata.Store.
func (s *Store) LoadVotes(ctx context.Context, vs []ugcdata.Vote) error {
	return s.insert(ctx, clickhouse.InsertVotes, "", len(vs), func(i int) []any { return clickhouse.VoteRow(vs[i]) })
}

// LoadBookmarks implements ugcdata.Store.
func (s *Store) LoadBookmarks(ctx context.Context, bs []ugcdata.Bookmark) error {
	return s.insert(ctx, clickhouse.InsertBookmarks, "", len(bs), func(i int) []any { return clickhouse.BookmarkRow(bs[i]) })
}

// PutRating implements ugcdata.Store: a newer version of the row in both
// sort orders, each an asynchronous insert that waits for its flush.
func (s *Store) PutRating(ctx context.Context, r ugcdata.Rating) error {
	return s.putRatings(ctx, []ugcdata.Rating{r}, clickhouse.NewVersion(), AsyncInsert)
}

func millis(n int64) time.Time { return time.UnixMilli(n).UTC() }

// UserBookmarks implements ugcdata.Store.
func (s *Store) UserBookmarks(ctx context.Context, user int64, limit int) ([]ugcdata.Bookmark, error) {
	rows, err := s.rows(ctx, clickhouse.BookmarksSQL(user, limit))
	if err != nil {
		return nil, err
	}
	out := make([]ugcdata.Bookmark, 0, len(rows))
	for _, f := range rows {
		n, err := ints(f...)
		if err != nil {
			return nil, fmt.Errorf("bookmark %q: %w", f, err)
		}
		out = append(out, ugcdata.Bookmark{UserID: user, FilmID: n[0], At: millis(n[1])})
	}
	return out, nil
}

// FilmSummary implements ugcdata.Store.
func (s *Store) FilmSummary(ctx context.Context, film int64) (ugcdata.Summary, error) {
	sm := ugcdata.Summary{FilmID: film}
	rows, err := s.rows(ctx, clickhouse.SummarySQL(film))
	if err != nil {
		return sm, err
	}
	if len(rows) != 1 {
		return sm, fmt.Errorf("summary of film %d: %d rows", film, len(rows))
	}
	n, err := ints(rows[0]...)
	if err != nil {
		return sm, fmt.Errorf("summary %q: %w", rows[0], err)
	}
	sm.Count, sm.Sum, sm.Likes, sm.Dislikes = n[0], n[1], n[2], n[3]
	return sm, nil
}

// FilmReviews implements ugcdata.Store.
func (s *Store) FilmReviews(ctx context.Context, film int64, limit int) ([]ugcdata.Review, error) {
	rows, err := s.rows(ctx, clickhouse.ReviewsSQL(film, limit))
	if err != nil {
		return nil, err
	}
	out := make([]ugcdata.Review, 0, len(rows))
	for _, f := range rows {
		if len(f) != 6 {
			return nil, fmt.Errorf("review row %q", f)
		}
		n, err := ints(f[0], f[1], f[3], f[4], f[5])
		if err != nil {
			return nil, fmt.Errorf("review %q: %w", f, err)
		}
		out = append(out, ugcdata.Review{ID: n[0], FilmID: film, UserID: n[1], Text: f[2], At: millis(n[2]), Likes: n[3], Dislikes: n[4]})
	}
	return out, nil
}

// UserRatings implements ugcdata.Store.
func (s *Store) UserRatings(ctx context.Context, user int64) ([]ugcdata.Rating, error) {
	rows, err := s.rows(ctx, clickhouse.RatingsSQL(user))
	if err != nil {
		return nil, err
	}
	out := make([]ugcdata.Rating, 0, len(rows))
	for _, f := range rows {
		n, err := ints(f...)
		if err != nil {
			return nil, fmt.Errorf("rating %q: %w", f, err)
		}
		out = append(out, ugcdata.Rating{UserID: user, FilmID: n[0], Score: int8(n[1]), At: millis(n[2])})
	}
	return out, nil
}

// UserFilmRating implements ugcdata.Store.
func (s *Store) UserFilmRating(ctx context.Context, user, film int64) (int8, bool, error) {
	rows, err := s.rows(ctx, clickhouse.ScoreSQL(user, film))
	if err != nil || len(rows) == 0 {
		return 0, false, err
	}
	n, err := ints(rows[0]...)
	if err != nil {
		return 0, false, fmt.Errorf("score %q: %w", rows[0], err)
	}
	return int8(n[0]), true, nil
}
