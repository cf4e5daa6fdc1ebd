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
	for _, q := range Optimize {
		if err := s.c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func (s *Store) batch(ctx context.Context, q string, n int, row func(i int) []any) error {
	b, err := s.c.PrepareBatch(ctx, q)
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	for i := 0; i < n; i++ {
		if err := b.Append(row(i)...); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// LoadRatings implements ugcdata.Store.
func (s *Store) LoadRatings(ctx context.Context, rs []ugcdata.Rating) error {
	return s.putRatings(ctx, rs, 0)
}

func (s *Store) putRatings(ctx context.Context, rs []ugcdata.Rating, ver uint64) error {
	if err := s.batch(ctx, InsertRatingsByFilm, len(rs), func(i int) []any { return RatingByFilm(rs[i], ver) }); err != nil {
		return err
	}
	return s.batch(ctx, InsertRatingsByUser, len(rs), func(i int) []any { return RatingByUser(rs[i], ver) })
}

// LoadReviews implements ugcdata.Store.
func (s *Store) LoadReviews(ctx context.Context, rs []ugcdata.Review) error {
	return s.batch(ctx, InsertReviews, len(rs), func(i int) []any { return ReviewRow(rs[i]) })
}

// LoadVotes implements ugcdata.Store.
func (s *Store) LoadVotes(ctx context.Context, vs []ugcdata.Vote) error {
	return s.batch(ctx, InsertVotes, len(vs), func(i int) []any { return VoteRow(vs[i]) })
}

// LoadBookmarks implements ugcdata.Store.
func (s *Store) LoadBookmarks(ctx context.Context, bs []ugcdata.Bookmark) error {
	return s.batch(ctx, InsertBookmarks, len(bs), func(i int) []any { return BookmarkRow(bs[i]) })
}

// PutRating inserts a newer version of the row into both sort orders. One
// row per INSERT is the worst case for ClickHouse (a part per insert); the
// writer mode measures exactly that cost.
func (s *Store) PutRating(ctx context.Context, r ugcdata.Rating) error {
	return s.putRatings(ctx, []ugcdata.Rating{r}, NewVersion())
}

// UserBookmarks implements ugcdata.Store.
func (s *Store) UserBookmarks(ctx context.Context, user int64, limit int) ([]ugcdata.Bookmark, error) {
	rows, err := s.c.Query(ctx, BookmarksSQL(user, limit))
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
	err := s.c.QueryRow(ctx, SummarySQL(film)).Scan(&cnt, &sum, &likes, &dislikes)
	sm.Count, sm.Sum, sm.Likes, sm.Dislikes = int64(cnt), int64(sum), int64(likes), int64(dislikes)
	return sm, err
}

// FilmReviews implements ugcdata.Store.
func (s *Store) FilmReviews(ctx context.Context, film int64, limit int) ([]ugcdata.Review, error) {
	rows, err := s.c.Query(ctx, ReviewsSQL(film, limit))
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
	rows, err := s.c.Query(ctx, RatingsSQL(user))
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
	rows, err := s.c.Query(ctx, ScoreSQL(user, film))
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
