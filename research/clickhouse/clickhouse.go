// Package clickhouse is the ClickHouse backend (clickhouse-go/v2, native
// protocol; every INSERT names its columns, which the 18.16 server needs).
//
// Model: ratings are written twice, sorted for each read direction:
// ratings_by_film ORDER BY (film_id, user_id) serves the summary as a
// primary-key range read, ratings_by_user ORDER BY (user_id, film_id)
// serves a user's ratings and the point lookup. Both are
// ReplacingMergeTree(ver): an upsert is an insert with a newer ver, and
// reads take argMax(score, ver) per key so they are exact before merges
// run. Votes are kept in review_votes ORDER BY (film_id, review_id) and
// joined to the film's reviews at read time; bookmarks are ORDER BY
// (user_id, film_id). Times are UInt64 milliseconds (18.16 has no DateTime64).
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// DefaultAddr matches research/docker-compose.yml (native protocol).
const DefaultAddr = "127.0.0.1:9000"

// Store is the ClickHouse backend.
type Store struct{ c driver.Conn }

// Open connects over the native protocol and waits up to 30 s for Ping.
func Open(ctx context.Context, addr string, pool int) (*Store, error) {
	c, err := ch.Open(&ch.Options{
		Addr: []string{addr}, MaxOpenConns: pool, MaxIdleConns: pool,
		DialTimeout: 5 * time.Second, Auth: ch.Auth{Database: "default", Username: "default"},
	})
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err = c.Ping(ctx); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return &Store{c: c}, nil
}

// Name implements ugcdata.Store.
func (s *Store) Name() string { return "clickhouse" }

// Close implements ugcdata.Store.
func (s *Store) Close() error { return s.c.Close() }

// Version implements ugcdata.Store.
func (s *Store) Version(ctx context.Context) (string, error) {
	var v string
	err := s.c.QueryRow(ctx, "SELECT version()").Scan(&v)
	return "ClickHouse " + v, err
}

// Schema is the DDL, one statement per element.
var Schema = []string{
	"DROP TABLE IF EXISTS ratings_by_film", "DROP TABLE IF EXISTS ratings_by_user", "DROP TABLE IF EXISTS reviews",
	"DROP TABLE IF EXISTS review_votes", "DROP TABLE IF EXISTS bookmarks",
	`CREATE TABLE ratings_by_film (film_id UInt64, user_id UInt64, score UInt8, at UInt64, ver UInt64)
	 ENGINE = ReplacingMergeTree(ver) ORDER BY (film_id, user_id) SETTINGS index_granularity = 1024`,
	`CREATE TABLE ratings_by_user (user_id UInt64, film_id UInt64, score UInt8, at UInt64, ver UInt64)
	 ENGINE = ReplacingMergeTree(ver) ORDER BY (user_id, film_id) SETTINGS index_granularity = 1024`,
	`CREATE TABLE reviews (film_id UInt64, id UInt64, user_id UInt64, body String, at UInt64)
	 ENGINE = MergeTree ORDER BY (film_id, id) SETTINGS index_granularity = 1024`,
	`CREATE TABLE review_votes (film_id UInt64, review_id UInt64, user_id UInt64, value Int8)
	 ENGINE = ReplacingMergeTree ORDER BY (film_id, review_id, user_id) SETTINGS index_granularity = 1024`,
	`CREATE TABLE bookmarks (user_id UInt64, film_id UInt64, at UInt64)
	 ENGINE = ReplacingMergeTree ORDER BY (user_id, film_id) SETTINGS index_granularity = 1024`,
}

// Reset implements ugcdata.Store.
func (s *Store) Reset(ctx context.Context) error {
	for _, q := range Schema {
		if err := s.c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// Finish implements ugcdata.Store.
func (s *Store) Finish(ctx context.Context) error {
	for _, t := range []string{"ratings_by_film", "ratings_by_user", "reviews", "review_votes", "bookmarks"} {
		if err := s.c.Exec(ctx, "OPTIMIZE TABLE "+t+" FINAL"); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) batch(ctx context.Context, q string, n int, row func(i int) []any) error {
	b, err := s.c.PrepareBatch(ctx, q)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := b.Append(row(i)...); err != nil {
			return err
		}
	}
	return b.Send()
}

func ms(t time.Time) uint64 { return uint64(t.UnixMilli()) }

// LoadRatings implements ugcdata.Store.
func (s *Store) LoadRatings(ctx context.Context, rs []ugcdata.Rating) error {
	return s.putRatings(ctx, rs, 0)
}

func (s *Store) putRatings(ctx context.Context, rs []ugcdata.Rating, ver uint64) error {
	if err := s.batch(ctx, "INSERT INTO ratings_by_film (film_id, user_id, score, at, ver)", len(rs), func(i int) []any {
		return []any{uint64(rs[i].FilmID), uint64(rs[i].UserID), uint8(rs[i].Score), ms(rs[i].At), ver}
	}); err != nil {
		return err
	}
	return s.batch(ctx, "INSERT INTO ratings_by_user (user_id, film_id, score, at, ver)", len(rs), func(i int) []any {
		return []any{uint64(rs[i].UserID), uint64(rs[i].FilmID), uint8(rs[i].Score), ms(rs[i].At), ver}
	})
}

// LoadReviews implements ugcdata.Store.
func (s *Store) LoadReviews(ctx context.Context, rs []ugcdata.Review) error {
	return s.batch(ctx, "INSERT INTO reviews (film_id, id, user_id, body, at)", len(rs), func(i int) []any {
		return []any{uint64(rs[i].FilmID), uint64(rs[i].ID), uint64(rs[i].UserID), rs[i].Text, ms(rs[i].At)}
	})
}

// LoadVotes implements ugcdata.Store.
func (s *Store) LoadVotes(ctx context.Context, vs []ugcdata.Vote) error {
	return s.batch(ctx, "INSERT INTO review_votes (film_id, review_id, user_id, value)", len(vs), func(i int) []any {
		return []any{uint64(vs[i].FilmID), uint64(vs[i].ReviewID), uint64(vs[i].UserID), vs[i].Value}
	})
}

// LoadBookmarks implements ugcdata.Store.
func (s *Store) LoadBookmarks(ctx context.Context, bs []ugcdata.Bookmark) error {
	return s.batch(ctx, "INSERT INTO bookmarks (user_id, film_id, at)", len(bs), func(i int) []any {
		return []any{uint64(bs[i].UserID), uint64(bs[i].FilmID), ms(bs[i].At)}
	})
}

// PutRating inserts a newer version of the row into both sort orders. One
// row per INSERT is the worst case for ClickHouse (a part per insert); the
// writer mode measures exactly that cost.
func (s *Store) PutRating(ctx context.Context, r ugcdata.Rating) error {
	return s.putRatings(ctx, []ugcdata.Rating{r}, uint64(time.Now().UnixNano()))
}

// UserBookmarks implements ugcdata.Store.
func (s *Store) UserBookmarks(ctx context.Context, user int64, limit int) ([]ugcdata.Bookmark, error) {
	rows, err := s.c.Query(ctx, `SELECT film_id, at FROM bookmarks WHERE user_id = ? ORDER BY at DESC, film_id LIMIT ?`, uint64(user), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ugcdata.Bookmark
	for rows.Next() {
		var f, at uint64
		if err := rows.Scan(&f, &at); err != nil {
			return nil, err
		}
		out = append(out, ugcdata.Bookmark{UserID: user, FilmID: int64(f), At: time.UnixMilli(int64(at)).UTC()})
	}
	return out, rows.Err()
}

// FilmSummary implements ugcdata.Store.
func (s *Store) FilmSummary(ctx context.Context, film int64) (ugcdata.Summary, error) {
	sm := ugcdata.Summary{FilmID: film}
	var cnt, likes, dislikes uint64
	var sum uint64
	err := s.c.QueryRow(ctx, `SELECT count(), sum(s), countIf(s = 10), countIf(s = 0)
		FROM (SELECT argMax(score, ver) AS s FROM ratings_by_film WHERE film_id = ? GROUP BY user_id)`, uint64(film)).
		Scan(&cnt, &sum, &likes, &dislikes)
	sm.Count, sm.Sum, sm.Likes, sm.Dislikes = int64(cnt), int64(sum), int64(likes), int64(dislikes)
	return sm, err
}

// FilmReviews implements ugcdata.Store.
func (s *Store) FilmReviews(ctx context.Context, film int64, limit int) ([]ugcdata.Review, error) {
	rows, err := s.c.Query(ctx, `SELECT id, user_id, body, at, likes, dislikes
		FROM (SELECT id, user_id, body, at FROM reviews WHERE film_id = ?)
		ANY LEFT JOIN (SELECT review_id AS id, countIf(value > 0) AS likes, countIf(value < 0) AS dislikes
		               FROM review_votes WHERE film_id = ? GROUP BY review_id) USING id
		ORDER BY likes DESC, id LIMIT ?`, uint64(film), uint64(film), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ugcdata.Review
	for rows.Next() {
		var id, u, at, l, d uint64
		r := ugcdata.Review{FilmID: film}
		if err := rows.Scan(&id, &u, &r.Text, &at, &l, &d); err != nil {
			return nil, err
		}
		r.ID, r.UserID, r.At, r.Likes, r.Dislikes = int64(id), int64(u), time.UnixMilli(int64(at)).UTC(), int64(l), int64(d)
		out = append(out, r)
	}
	return out, rows.Err()
}

// UserRatings implements ugcdata.Store.
func (s *Store) UserRatings(ctx context.Context, user int64) ([]ugcdata.Rating, error) {
	rows, err := s.c.Query(ctx, `SELECT film_id, argMax(score, ver), argMax(at, ver) FROM ratings_by_user
		WHERE user_id = ? GROUP BY film_id ORDER BY film_id`, uint64(user))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ugcdata.Rating
	for rows.Next() {
		var f, at uint64
		var sc uint8
		if err := rows.Scan(&f, &sc, &at); err != nil {
			return nil, err
		}
		out = append(out, ugcdata.Rating{UserID: user, FilmID: int64(f), Score: int8(sc), At: time.UnixMilli(int64(at)).UTC()})
	}
	return out, rows.Err()
}

// UserFilmRating implements ugcdata.Store.
func (s *Store) UserFilmRating(ctx context.Context, user, film int64) (int8, bool, error) {
	rows, err := s.c.Query(ctx, `SELECT argMax(score, ver) FROM ratings_by_user WHERE user_id = ? AND film_id = ? GROUP BY film_id`, uint64(user), uint64(film))
	if err != nil {
		return 0, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return 0, false, rows.Err()
	}
	var sc uint8
	err = rows.Scan(&sc)
	return int8(sc), err == nil, err
}
