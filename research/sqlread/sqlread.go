// Package sqlread reads the benchmark's read paths from any database/sql
// backend (SQLite and Vertica here): each backend supplies its own SQL, and
// the rows come back in one shape, with times stored as Unix milliseconds.
package sqlread

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// Queryer is a *sql.DB or *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// collect runs query and scans every row with scan.
func collect[T any](ctx context.Context, db Queryer, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Bookmarks reads user's bookmarks; query selects film_id, at.
func Bookmarks(ctx context.Context, db Queryer, user int64, query string, args ...any) ([]ugcdata.Bookmark, error) {
	return collect(ctx, db, func(rows *sql.Rows) (ugcdata.Bookmark, error) {
		var at int64
		b := ugcdata.Bookmark{UserID: user}
		err := rows.Scan(&b.FilmID, &at)
		b.At = millis(at)
		return b, err
	}, query, args...)
}

// Reviews reads film's reviews; query selects id, user_id, body, at, likes,
// dislikes.
func Reviews(ctx context.Context, db Queryer, film int64, query string, args ...any) ([]ugcdata.Review, error) {
	return collect(ctx, db, func(rows *sql.Rows) (ugcdata.Review, error) {
		var at int64
		r := ugcdata.Review{FilmID: film}
		err := rows.Scan(&r.ID, &r.UserID, &r.Text, &at, &r.Likes, &r.Dislikes)
		r.At = millis(at)
		return r, err
	}, query, args...)
}

// Ratings reads user's ratings; query selects film_id, score, at.
func Ratings(ctx context.Context, db Queryer, user int64, query string, args ...any) ([]ugcdata.Rating, error) {
	return collect(ctx, db, func(rows *sql.Rows) (ugcdata.Rating, error) {
		var at, score int64 // Vertica's driver scans integers only into 64 bits
		r := ugcdata.Rating{UserID: user}
		err := rows.Scan(&r.FilmID, &score, &at)
		r.Score, r.At = int8(score), millis(at)
		return r, err
	}, query, args...)
}

// Score reads one score; query selects score. A missing row is not an error.
func Score(ctx context.Context, db Queryer, query string, args ...any) (int8, bool, error) {
	var score int64
	err := db.QueryRowContext(ctx, query, args...).Scan(&score)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return int8(score), err == nil, err
}
