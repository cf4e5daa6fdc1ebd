// Package sqlite is the embedded reference point (modernc.org/sqlite, pure
// Go). It models the data as the product's embedded store does: WAL mode,
// one writer connection, a film_summary table maintained in the same
// transaction as each rating write, review counters with an index on
// (film_id, likes DESC, id), and bookmarks indexed by (user_id, created_at
// DESC, film_id). It is this tool's own implementation, not the product's
// ugc-service/sqlite package, so research/ stays a separate module.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/ugcstack/ugcstack/research/sqlread"
	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// Store is the SQLite backend.
type Store struct {
	r, w *sql.DB
	mu   sync.Mutex // serialises writers, as SQLite has one writer anyway
}

// Open opens (creating) the database file at path.
func Open(path string, readers int) (*Store, error) {
	dsn := fmt.Sprintf("file:%s?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=cache_size(-262144)&_pragma=mmap_size(1073741824)", path)
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	return &Store{r: r, w: w}, nil
}

// Name implements ugcdata.Store.
func (s *Store) Name() string { return "sqlite" }

// Close implements ugcdata.Store.
func (s *Store) Close() error { return errors.Join(s.r.Close(), s.w.Close()) }

// Version implements ugcdata.Store.
func (s *Store) Version(ctx context.Context) (string, error) {
	var v string
	err := s.w.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v)
	return "SQLite " + v + " (modernc, embedded)", err
}

var schema = []string{
	"DROP TABLE IF EXISTS ratings", "DROP TABLE IF EXISTS film_summary", "DROP TABLE IF EXISTS reviews",
	"DROP TABLE IF EXISTS review_votes", "DROP TABLE IF EXISTS bookmarks",
	`CREATE TABLE ratings (user_id INTEGER NOT NULL, film_id INTEGER NOT NULL, score INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (user_id, film_id)) WITHOUT ROWID`,
	`CREATE TABLE film_summary (film_id INTEGER PRIMARY KEY, cnt INTEGER NOT NULL, sum INTEGER NOT NULL, likes INTEGER NOT NULL, dislikes INTEGER NOT NULL)`,
	`CREATE TABLE reviews (id INTEGER PRIMARY KEY, film_id INTEGER NOT NULL, user_id INTEGER NOT NULL, body TEXT NOT NULL, at INTEGER NOT NULL, likes INTEGER NOT NULL DEFAULT 0, dislikes INTEGER NOT NULL DEFAULT 0)`,
	`CREATE TABLE review_votes (review_id INTEGER NOT NULL, user_id INTEGER NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (review_id, user_id)) WITHOUT ROWID`,
	`CREATE TABLE bookmarks (user_id INTEGER NOT NULL, film_id INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (user_id, film_id)) WITHOUT ROWID`,
}

var finish = []string{
	"CREATE INDEX ratings_film ON ratings (film_id)",
	"CREATE INDEX reviews_film_likes ON reviews (film_id, likes DESC, id)",
	"CREATE INDEX bookmarks_user_time ON bookmarks (user_id, at DESC, film_id)",
	"INSERT INTO film_summary SELECT film_id, count(*), sum(score), sum(score = 10), sum(score = 0) FROM ratings GROUP BY film_id",
	`UPDATE reviews SET likes = (SELECT count(*) FROM review_votes v WHERE v.review_id = reviews.id AND v.value > 0),
	  dislikes = (SELECT count(*) FROM review_votes v WHERE v.review_id = reviews.id AND v.value < 0)`,
	"ANALYZE",
}

func (s *Store) exec(ctx context.Context, qs []string) error {
	for _, q := range qs {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// Reset implements ugcdata.Store.
func (s *Store) Reset(ctx context.Context) error { return s.exec(ctx, schema) }

// Finish implements ugcdata.Store.
func (s *Store) Finish(ctx context.Context) error { return s.exec(ctx, finish) }

func (s *Store) tx(ctx context.Context, q string, n int, args func(i int) []any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // after Commit: ErrTxDone, nothing to undo
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if _, err := st.ExecContext(ctx, args(i)...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// LoadRatings implements ugcdata.Store.
func (s *Store) LoadRatings(ctx context.Context, rs []ugcdata.Rating) error {
	return s.tx(ctx, "INSERT INTO ratings (user_id, film_id, score, at) VALUES (?, ?, ?, ?)", len(rs), func(i int) []any {
		return []any{rs[i].UserID, rs[i].FilmID, rs[i].Score, ms(rs[i].At)}
	})
}

// LoadReviews implements ugcdata.Store.
func (s *Store) LoadReviews(ctx context.Context, rs []ugcdata.Review) error {
	return s.tx(ctx, "INSERT INTO reviews (id, film_id, user_id, body, at) VALUES (?, ?, ?, ?, ?)", len(rs), func(i int) []any {
		return []any{rs[i].ID, rs[i].FilmID, rs[i].UserID, rs[i].Text, ms(rs[i].At)}
	})
}

// LoadVotes implements ugcdata.Store.
func (s *Store) LoadVotes(ctx context.Context, vs []ugcdata.Vote) error {
	return s.tx(ctx, "INSERT INTO review_votes (review_id, user_id, value) VALUES (?, ?, ?)", len(vs), func(i int) []any {
		return []any{vs[i].ReviewID, vs[i].UserID, vs[i].Value}
	})
}

// LoadBookmarks implements ugcdata.Store.
func (s *Store) LoadBookmarks(ctx context.Context, bs []ugcdata.Bookmark) error {
	return s.tx(ctx, "INSERT INTO bookmarks (user_id, film_id, at) VALUES (?, ?, ?)", len(bs), func(i int) []any {
		return []any{bs[i].UserID, bs[i].FilmID, ms(bs[i].At)}
	})
}

// PutRating upserts the rating and applies the delta to the summary in one transaction.
func (s *Store) PutRating(ctx context.Context, r ugcdata.Rating) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // after Commit: ErrTxDone, nothing to undo
	var old sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT score FROM ratings WHERE user_id = ? AND film_id = ?", r.UserID, r.FilmID).Scan(&old); err != nil && err != sql.ErrNoRows {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ratings (user_id, film_id, score, at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, film_id) DO UPDATE SET score = excluded.score, at = excluded.at`, r.UserID, r.FilmID, r.Score, ms(r.At)); err != nil {
		return err
	}
	b := func(c bool) int64 {
		if c {
			return 1
		}
		return 0
	}
	dc, ds := int64(1), int64(r.Score)
	dl, dd := b(r.Score == ugcdata.MaxScore), b(r.Score == ugcdata.MinScore)
	if old.Valid {
		dc, ds = 0, ds-old.Int64
		dl -= b(old.Int64 == ugcdata.MaxScore)
		dd -= b(old.Int64 == ugcdata.MinScore)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO film_summary (film_id, cnt, sum, likes, dislikes) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (film_id) DO UPDATE SET cnt = cnt + excluded.cnt, sum = sum + excluded.sum, likes = likes + excluded.likes, dislikes = dislikes + excluded.dislikes`,
		r.FilmID, dc, ds, dl, dd); err != nil {
		return err
	}
	return tx.Commit()
}

// UserBookmarks implements ugcdata.Store.
func (s *Store) UserBookmarks(ctx context.Context, user int64, limit int) ([]ugcdata.Bookmark, error) {
	return sqlread.Bookmarks(ctx, s.r, user, "SELECT film_id, at FROM bookmarks WHERE user_id = ? ORDER BY at DESC, film_id LIMIT ?", user, limit)
}

// FilmSummary implements ugcdata.Store.
func (s *Store) FilmSummary(ctx context.Context, film int64) (ugcdata.Summary, error) {
	sm := ugcdata.Summary{FilmID: film}
	err := s.r.QueryRowContext(ctx, "SELECT cnt, sum, likes, dislikes FROM film_summary WHERE film_id = ?", film).Scan(&sm.Count, &sm.Sum, &sm.Likes, &sm.Dislikes)
	if err == sql.ErrNoRows {
		err = nil
	}
	return sm, err
}

// FilmReviews implements ugcdata.Store.
func (s *Store) FilmReviews(ctx context.Context, film int64, limit int) ([]ugcdata.Review, error) {
	return sqlread.Reviews(ctx, s.r, film, "SELECT id, user_id, body, at, likes, dislikes FROM reviews WHERE film_id = ? ORDER BY likes DESC, id LIMIT ?", film, limit)
}

// UserRatings implements ugcdata.Store.
func (s *Store) UserRatings(ctx context.Context, user int64) ([]ugcdata.Rating, error) {
	return sqlread.Ratings(ctx, s.r, user, "SELECT film_id, score, at FROM ratings WHERE user_id = ? ORDER BY film_id", user)
}

// UserFilmRating implements ugcdata.Store.
func (s *Store) UserFilmRating(ctx context.Context, user, film int64) (int8, bool, error) {
	return sqlread.Score(ctx, s.r, "SELECT score FROM ratings WHERE user_id = ? AND film_id = ?", user, film)
}
