// Package vertica is the Vertica backend (vertica-sql-go over database/sql).
// It is compiled and unit-tested here; no Vertica server exists on this
// machine, so it is measured only against the compose cluster.
//
// Model: Vertica is a columnar store; the expert layout is projections.
// ratings has a super-projection ORDER BY (user_id, film_id) SEGMENTED BY
// HASH(user_id) for a user's ratings and the point lookup, and a second
// projection ORDER BY (film_id) SEGMENTED BY HASH(film_id) so the summary is
// a sorted range aggregate. Reviews are ordered by (film_id, id), votes by
// (review_id) and aggregated at read time; bookmarks by (user_id, at).
// Updates go through MERGE, which Vertica executes as delete + insert.
package vertica

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/vertica/vertica-sql-go" // driver "vertica"

	"github.com/ugcstack/ugcstack/research/sqlread"
	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// DefaultDSN is the compose cluster's Vertica CE.
const DefaultDSN = "vertica://dbadmin:@127.0.0.1:5433/VMart"

// Store is the Vertica backend.
type Store struct{ db *sql.DB }

// Open connects and pings.
func Open(ctx context.Context, dsn string, pool int) (*Store, error) {
	db, err := sql.Open("vertica", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(pool)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return &Store{db: db}, nil
}

// Name implements ugcdata.Store.
func (s *Store) Name() string { return "vertica" }

// Close implements ugcdata.Store.
func (s *Store) Close() error { return s.db.Close() }

// Version implements ugcdata.Store.
func (s *Store) Version(ctx context.Context) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT version()").Scan(&v)
	return v, err
}

// Schema is the DDL, one statement per element.
var Schema = []string{
	"DROP TABLE IF EXISTS ugc_ratings CASCADE", "DROP TABLE IF EXISTS ugc_reviews CASCADE",
	"DROP TABLE IF EXISTS ugc_votes CASCADE", "DROP TABLE IF EXISTS ugc_bookmarks CASCADE",
	`CREATE TABLE ugc_ratings (user_id INT NOT NULL, film_id INT NOT NULL, score INT NOT NULL, at INT NOT NULL, PRIMARY KEY (user_id, film_id) ENABLED)
	 ORDER BY user_id, film_id SEGMENTED BY HASH(user_id) ALL NODES`,
	`CREATE PROJECTION ugc_ratings_by_film AS SELECT film_id, user_id, score FROM ugc_ratings ORDER BY film_id SEGMENTED BY HASH(film_id) ALL NODES`,
	`CREATE TABLE ugc_reviews (id INT PRIMARY KEY, film_id INT NOT NULL, user_id INT NOT NULL, body VARCHAR(1000), at INT NOT NULL)
	 ORDER BY film_id, id SEGMENTED BY HASH(film_id) ALL NODES`,
	`CREATE TABLE ugc_votes (review_id INT NOT NULL, film_id INT NOT NULL, user_id INT NOT NULL, value INT NOT NULL)
	 ORDER BY film_id, review_id SEGMENTED BY HASH(film_id) ALL NODES`,
	`CREATE TABLE ugc_bookmarks (user_id INT NOT NULL, film_id INT NOT NULL, at INT NOT NULL)
	 ORDER BY user_id, at SEGMENTED BY HASH(user_id) ALL NODES`,
}

// Reset implements ugcdata.Store.
func (s *Store) Reset(ctx context.Context) error {
	for _, q := range Schema {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// Finish implements ugcdata.Store.
func (s *Store) Finish(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, "SELECT ANALYZE_STATISTICS('')")
	return err
}

// insertValues builds one multi-row INSERT with n rows of cols placeholders.
func insertValues(table string, cols []string, n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat(row+",", n), ","))
}

func (s *Store) load(ctx context.Context, table string, cols []string, n int, row func(i int) []any) error {
	const chunk = 500
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // after Commit: ErrTxDone, nothing to undo
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		args := make([]any, 0, (hi-lo)*len(cols))
		for i := lo; i < hi; i++ {
			args = append(args, row(i)...)
		}
		if _, err := tx.ExecContext(ctx, insertValues(table, cols, hi-lo), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// LoadRatings implements ugcdata.Store.
func (s *Store) LoadRatings(ctx context.Context, rs []ugcdata.Rating) error {
	return s.load(ctx, "ugc_ratings", []string{"user_id", "film_id", "score", "at"}, len(rs), func(i int) []any {
		return []any{rs[i].UserID, rs[i].FilmID, int64(rs[i].Score), ms(rs[i].At)}
	})
}

// LoadReviews implements ugcdata.Store.
func (s *Store) LoadReviews(ctx context.Context, rs []ugcdata.Review) error {
	return s.load(ctx, "ugc_reviews", []string{"id", "film_id", "user_id", "body", "at"}, len(rs), func(i int) []any {
		return []any{rs[i].ID, rs[i].FilmID, rs[i].UserID, rs[i].Text, ms(rs[i].At)}
	})
}

// LoadVotes implements ugcdata.Store.
func (s *Store) LoadVotes(ctx context.Context, vs []ugcdata.Vote) error {
	return s.load(ctx, "ugc_votes", []string{"review_id", "film_id", "user_id", "value"}, len(vs), func(i int) []any {
		return []any{vs[i].ReviewID, vs[i].FilmID, vs[i].UserID, int64(vs[i].Value)}
	})
}

// LoadBookmarks implements ugcdata.Store.
func (s *Store) LoadBookmarks(ctx context.Context, bs []ugcdata.Bookmark) error {
	return s.load(ctx, "ugc_bookmarks", []string{"user_id", "film_id", "at"}, len(bs), func(i int) []any {
		return []any{bs[i].UserID, bs[i].FilmID, ms(bs[i].At)}
	})
}

// MergeRating is the upsert.
const MergeRating = `MERGE INTO ugc_ratings t USING (SELECT ? AS user_id, ? AS film_id, ? AS score, ? AS at) s
ON t.user_id = s.user_id AND t.film_id = s.film_id
WHEN MATCHED THEN UPDATE SET score = s.score, at = s.at
WHEN NOT MATCHED THEN INSERT (user_id, film_id, score, at) VALUES (s.user_id, s.film_id, s.score, s.at)`

// PutRating implements ugcdata.Store.
func (s *Store) PutRating(ctx context.Context, r ugcdata.Rating) error {
	_, err := s.db.ExecContext(ctx, MergeRating, r.UserID, r.FilmID, int64(r.Score), ms(r.At))
	return err
}

// Queries are the read paths' SQL.
var Queries = map[string]string{
	"user_bookmarks": "SELECT film_id, at FROM ugc_bookmarks WHERE user_id = ? ORDER BY at DESC, film_id LIMIT ?",
	"film_summary":   "SELECT count(*), coalesce(sum(score), 0), coalesce(sum(CASE WHEN score = 10 THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN score = 0 THEN 1 ELSE 0 END), 0) FROM ugc_ratings WHERE film_id = ?",
	"film_reviews": `SELECT r.id, r.user_id, r.body, r.at, coalesce(v.l, 0) AS likes, coalesce(v.d, 0) FROM ugc_reviews r
		LEFT JOIN (SELECT review_id, sum(CASE WHEN value > 0 THEN 1 ELSE 0 END) l, sum(CASE WHEN value < 0 THEN 1 ELSE 0 END) d
		           FROM ugc_votes WHERE film_id = ? GROUP BY review_id) v ON v.review_id = r.id
		WHERE r.film_id = ? ORDER BY likes DESC, r.id LIMIT ?`,
	"user_ratings":     "SELECT film_id, score, at FROM ugc_ratings WHERE user_id = ? ORDER BY film_id",
	"user_film_rating": "SELECT score FROM ugc_ratings WHERE user_id = ? AND film_id = ?",
}

// UserBookmarks implements ugcdata.Store.
func (s *Store) UserBookmarks(ctx context.Context, user int64, limit int) ([]ugcdata.Bookmark, error) {
	return sqlread.Bookmarks(ctx, s.db, user, Queries["user_bookmarks"], user, limit)
}

// FilmSummary implements ugcdata.Store.
func (s *Store) FilmSummary(ctx context.Context, film int64) (ugcdata.Summary, error) {
	sm := ugcdata.Summary{FilmID: film}
	err := s.db.QueryRowContext(ctx, Queries["film_summary"], film).Scan(&sm.Count, &sm.Sum, &sm.Likes, &sm.Dislikes)
	return sm, err
}

// FilmReviews implements ugcdata.Store.
func (s *Store) FilmReviews(ctx context.Context, film int64, limit int) ([]ugcdata.Review, error) {
	return sqlread.Reviews(ctx, s.db, film, Queries["film_reviews"], film, film, limit)
}

// UserRatings implements ugcdata.Store.
func (s *Store) UserRatings(ctx context.Context, user int64) ([]ugcdata.Rating, error) {
	return sqlread.Ratings(ctx, s.db, user, Queries["user_ratings"], user)
}

// UserFilmRating implements ugcdata.Store.
func (s *Store) UserFilmRating(ctx context.Context, user, film int64) (int8, bool, error) {
	return sqlread.Score(ctx, s.db, Queries["user_film_rating"], user, film)
}
