// Package postgres is the PostgreSQL backend (pgx/v5).
//
// Model: ratings keyed by (user_id, film_id) with a secondary index on
// film_id; a film_summary table (count, sum, likes, dislikes) maintained in
// the same transaction as every rating write, so the summary is one
// primary-key lookup; reviews carry likes/dislikes counters with an index
// on (film_id, likes DESC, id) that serves the "top reviews" page as an
// index range scan; bookmarks keyed by (user_id, film_id) with an index on
// (user_id, created_at DESC, film_id) for the newest-first page.
//
// OpenBucketed splits each film's summary into rows by user (bucket =
// user_id mod n), summed on read: one film's concurrent writers then lock
// different rows, which is what a premiere's hot film needs (see the
// report's hot-film table).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// DefaultDSN matches research/docker-compose.yml.
const DefaultDSN = "postgres://postgres:postgres@127.0.0.1:5432/ugc?sslmode=disable" //nolint:gosec // the local compose's throwaway credentials

// Store is the PostgreSQL backend.
type Store struct {
	db      *pgxpool.Pool
	buckets int // summary rows per film
}

// Open connects and waits up to 30 s for the server to accept queries; each
// film's summary is one row.
func Open(ctx context.Context, dsn string, maxConns int) (*Store, error) {
	return OpenBucketed(ctx, dsn, maxConns, 1)
}

// OpenBucketed is Open with each film's summary split into buckets rows.
func OpenBucketed(ctx context.Context, dsn string, maxConns, buckets int) (*Store, error) {
	if buckets < 1 {
		return nil, fmt.Errorf("postgres: %d summary buckets, want at least 1", buckets)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err = db.Ping(ctx); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, buckets: buckets}, nil
}

// Name implements ugcdata.Store.
func (s *Store) Name() string {
	if s.buckets > 1 {
		return "postgres-buckets"
	}
	return "postgres"
}

// Close implements ugcdata.Store.
func (s *Store) Close() error { s.db.Close(); return nil }

// Version implements ugcdata.Store.
func (s *Store) Version(ctx context.Context) (string, error) {
	var v string
	err := s.db.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return "PostgreSQL " + v, err
}

// Schema is the DDL; secondary indexes are built in Finish, after the bulk load.
const Schema = `
DROP TABLE IF EXISTS ratings, film_summary, reviews, review_votes, bookmarks;
CREATE TABLE ratings (user_id bigint NOT NULL, film_id bigint NOT NULL, score smallint NOT NULL CHECK (score BETWEEN 0 AND 10),
  created_at timestamptz NOT NULL, PRIMARY KEY (user_id, film_id));
CREATE TABLE film_summary (film_id bigint NOT NULL, bucket int NOT NULL, cnt bigint NOT NULL, sum bigint NOT NULL, likes bigint NOT NULL, dislikes bigint NOT NULL,
  PRIMARY KEY (film_id, bucket));
CREATE TABLE reviews (id bigint PRIMARY KEY, film_id bigint NOT NULL, user_id bigint NOT NULL, body text NOT NULL,
  created_at timestamptz NOT NULL, likes bigint NOT NULL DEFAULT 0, dislikes bigint NOT NULL DEFAULT 0);
CREATE TABLE review_votes (review_id bigint NOT NULL, user_id bigint NOT NULL, value smallint NOT NULL, PRIMARY KEY (review_id, user_id));
CREATE TABLE bookmarks (user_id bigint NOT NULL, film_id bigint NOT NULL, created_at timestamptz NOT NULL, PRIMARY KEY (user_id, film_id));
`

// Indexes are built after loading.
const Indexes = `
CREATE INDEX ratings_film ON ratings (film_id);
CREATE INDEX reviews_film_likes ON reviews (film_id, likes DESC, id);
CREATE INDEX bookmarks_user_time ON bookmarks (user_id, created_at DESC, film_id);
INSERT INTO film_summary SELECT film_id, user_id % $buckets, count(*), sum(score), count(*) FILTER (WHERE score = 10), count(*) FILTER (WHERE score = 0) FROM ratings GROUP BY 1, 2;
UPDATE reviews r SET likes = v.l, dislikes = v.d FROM (SELECT review_id, count(*) FILTER (WHERE value > 0) l, count(*) FILTER (WHERE value < 0) d FROM review_votes GROUP BY review_id) v WHERE v.review_id = r.id;
VACUUM ANALYZE;
`

// Reset implements ugcdata.Store.
func (s *Store) Reset(ctx context.Context) error { _, err := s.db.Exec(ctx, Schema); return err }

// Finish implements ugcdata.Store.
func (s *Store) Finish(ctx context.Context) error {
	c, err := s.db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	// VACUUM cannot run in a transaction block: send one statement at a time.
	for _, q := range splitSQL(strings.ReplaceAll(Indexes, "$buckets", strconv.Itoa(s.buckets))) {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func splitSQL(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ';' {
			if q := trim(s[start:i]); q != "" {
				out = append(out, q)
			}
			start = i + 1
		}
	}
	return out
}

func trim(s string) string {
	for len(s) > 0 && (s[0] == '\n' || s[0] == ' ') {
		s = s[1:]
	}
	return s
}

func (s *Store) copy(ctx context.Context, table string, cols []string, n int, row func(i int) []any) error {
	_, err := s.db.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
	return err
}

// LoadRatings implements ugcdata.Store.
func (s *Store) LoadRatings(ctx context.Context, rs []ugcdata.Rating) error {
	return s.copy(ctx, "ratings", []string{"user_id", "film_id", "score", "created_at"}, len(rs), func(i int) []any {
		return []any{rs[i].UserID, rs[i].FilmID, int16(rs[i].Score), rs[i].At}
	})
}

// LoadReviews implements ugcdata.Store.
func (s *Store) LoadReviews(ctx context.Context, rs []ugcdata.Review) error {
	return s.copy(ctx, "reviews", []string{"id", "film_id", "user_id", "body", "created_at"}, len(rs), func(i int) []any {
		return []any{rs[i].ID, rs[i].FilmID, rs[i].UserID, rs[i].Text, rs[i].At}
	})
}

// LoadVotes implements ugcdata.Store.
func (s *Store) LoadVotes(ctx context.Context, vs []ugcdata.Vote) error {
	return s.copy(ctx, "review_votes", []string{"review_id", "user_id", "value"}, len(vs), func(i int) []any {
		return []any{vs[i].ReviewID, vs[i].UserID, int16(vs[i].Value)}
	})
}

// LoadBookmarks implements ugcdata.Store.
func (s *Store) LoadBookmarks(ctx context.Context, bs []ugcdata.Bookmark) error {
	return s.copy(ctx, "bookmarks", []string{"user_id", "film_id", "created_at"}, len(bs), func(i int) []any {
		return []any{bs[i].UserID, bs[i].FilmID, bs[i].At}
	})
}

// putRating upserts the rating and applies the delta to the film's summary
// in one statement: the CTE reads the previous score under the row lock.
const putRating = `
WITH old AS (SELECT score FROM ratings WHERE user_id = $1 AND film_id = $2 FOR UPDATE),
up AS (INSERT INTO ratings (user_id, film_id, score, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, film_id) DO UPDATE SET score = EXCLUDED.score, created_at = EXCLUDED.created_at RETURNING 1)
INSERT INTO film_summary AS f (film_id, bucket, cnt, sum, likes, dislikes)
SELECT $2, $1 % $5, 1 - count(o.score), $3 - coalesce(sum(o.score), 0),
       (CASE WHEN $3 = 10 THEN 1 ELSE 0 END) - count(*) FILTER (WHERE o.score = 10),
       (CASE WHEN $3 = 0 THEN 1 ELSE 0 END) - count(*) FILTER (WHERE o.score = 0)
FROM (SELECT 1) one LEFT JOIN old o ON true, (SELECT count(*) FROM up) u
ON CONFLICT (film_id, bucket) DO UPDATE SET cnt = f.cnt + EXCLUDED.cnt, sum = f.sum + EXCLUDED.sum,
  likes = f.likes + EXCLUDED.likes, dislikes = f.dislikes + EXCLUDED.dislikes`

// PutRating implements ugcdata.Store.
func (s *Store) PutRating(ctx context.Context, r ugcdata.Rating) error {
	_, err := s.db.Exec(ctx, putRating, r.UserID, r.FilmID, int(r.Score), r.At, s.buckets)
	return err
}

// UserBookmarks implements ugcdata.Store.
func (s *Store) UserBookmarks(ctx context.Context, user int64, limit int) ([]ugcdata.Bookmark, error) {
	rows, err := s.db.Query(ctx, `SELECT film_id, created_at FROM bookmarks WHERE user_id = $1 ORDER BY created_at DESC, film_id LIMIT $2`, user, limit)
	if err != nil {
		return nil, err
	}
	var out []ugcdata.Bookmark
	for rows.Next() {
		b := ugcdata.Bookmark{UserID: user}
		if err := rows.Scan(&b.FilmID, &b.At); err != nil {
			return nil, err
		}
		b.At = b.At.UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// FilmSummary implements ugcdata.Store.
func (s *Store) FilmSummary(ctx context.Context, film int64) (ugcdata.Summary, error) {
	sm := ugcdata.Summary{FilmID: film}
	err := s.db.QueryRow(ctx, `SELECT coalesce(sum(cnt), 0), coalesce(sum(sum), 0), coalesce(sum(likes), 0), coalesce(sum(dislikes), 0)
		FROM film_summary WHERE film_id = $1`, film).Scan(&sm.Count, &sm.Sum, &sm.Likes, &sm.Dislikes)
	return sm, err
}

// FilmReviews implements ugcdata.Store.
func (s *Store) FilmReviews(ctx context.Context, film int64, limit int) ([]ugcdata.Review, error) {
	rows, err := s.db.Query(ctx, `SELECT id, user_id, body, created_at, likes, dislikes FROM reviews WHERE film_id = $1 ORDER BY likes DESC, id LIMIT $2`, film, limit)
	if err != nil {
		return nil, err
	}
	var out []ugcdata.Review
	for rows.Next() {
		r := ugcdata.Review{FilmID: film}
		if err := rows.Scan(&r.ID, &r.UserID, &r.Text, &r.At, &r.Likes, &r.Dislikes); err != nil {
			return nil, err
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// UserRatings implements ugcdata.Store.
func (s *Store) UserRatings(ctx context.Context, user int64) ([]ugcdata.Rating, error) {
	rows, err := s.db.Query(ctx, `SELECT film_id, score, created_at FROM ratings WHERE user_id = $1 ORDER BY film_id`, user)
	if err != nil {
		return nil, err
	}
	var out []ugcdata.Rating
	for rows.Next() {
		r := ugcdata.Rating{UserID: user}
		var sc int16
		if err := rows.Scan(&r.FilmID, &sc, &r.At); err != nil {
			return nil, err
		}
		r.Score, r.At = int8(sc), r.At.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// UserFilmRating implements ugcdata.Store.
func (s *Store) UserFilmRating(ctx context.Context, user, film int64) (int8, bool, error) {
	var sc int16
	err := s.db.QueryRow(ctx, `SELECT score FROM ratings WHERE user_id = $1 AND film_id = $2`, user, film).Scan(&sc)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return int8(sc), err == nil, err
}
