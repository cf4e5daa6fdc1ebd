package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

const (
	ratingScoreSQL = `SELECT score, created_at FROM ratings WHERE user_id = ? AND film_id = ?`

	// latestRatingSQL reads when the user last set a rating from the
	// ratings_user_updated index.
	latestRatingSQL = `SELECT COALESCE(MAX(updated_at), 0) FROM ratings WHERE user_id = ?`

	upsertRatingSQL = `
		INSERT INTO ratings (user_id, film_id, score, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
		ON CONFLICT (user_id, film_id) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at`

	deleteRatingSQL = `DELETE FROM ratings WHERE user_id = ? AND film_id = ? RETURNING score`

	getRatingSQL = `
		SELECT user_id, film_id, score, created_at, updated_at FROM ratings
		WHERE user_id = ? AND film_id = ?`

	filmSummarySQL = `
		SELECT s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10
		FROM film_distributions WHERE film_id = ?`
)

// userRatingsListing walks the ratings_user_updated index. Arguments: user,
// [cursor key, cursor id,] limit.
var userRatingsListing = listing{
	first: `SELECT user_id, film_id, score, created_at, updated_at FROM ratings
		WHERE user_id = ?
		ORDER BY updated_at DESC, film_id DESC LIMIT ?`,
	after: `SELECT user_id, film_id, score, created_at, updated_at FROM ratings
		WHERE user_id = ? AND (updated_at, film_id) < (?, ?)
		ORDER BY updated_at DESC, film_id DESC LIMIT ?`,
}

// noScore stands for "no bucket" in moveScoreSQL.
const noScore = -1

// moveScoreSQL moves one rating of film ?1 into bucket ?2 and out of bucket
// ?3, either of which may be noScore. The VALUES row is the delta (SQLite
// comparisons yield 0 or 1); it becomes the first row of a film never rated,
// or is added to the kept row. One fixed statement covers setting, changing
// and deleting a rating, whatever the scores.
var moveScoreSQL = func() string {
	var cols, vals, sets []string
	for i := ugc.MinScore; i <= ugc.MaxScore; i++ {
		cols = append(cols, fmt.Sprintf("s%d", i))
		vals = append(vals, fmt.Sprintf("(?2 = %d) - (?3 = %d)", i, i))
		sets = append(sets, fmt.Sprintf("s%d = s%d + excluded.s%d", i, i, i))
	}
	return "INSERT INTO film_distributions (film_id, " + strings.Join(cols, ", ") + ")\n" +
		"VALUES (?1, " + strings.Join(vals, ", ") + ")\n" +
		"ON CONFLICT (film_id) DO UPDATE SET " + strings.Join(sets, ", ")
}()

// moveScore applies moveScoreSQL, skipping the no-op of a score unchanged.
func moveScore(t *tx, filmID uuid.UUID, to, from int) error {
	if to == from {
		return nil
	}
	_, err := t.exec(moveScoreSQL, filmID, to, from)
	return err
}

// SetRating creates or replaces userID's rating of filmID and moves the
// rating between the film's distribution buckets in the same transaction.
func (s *Store) SetRating(ctx context.Context, userID, filmID uuid.UUID, score int) (*ugc.Rating, error) {
	if err := ugc.ValidateScore(score); err != nil {
		return nil, err
	}
	r := &ugc.Rating{UserID: userID, FilmID: filmID, Score: score}
	defer s.summaries.invalidate(filmID) // after the commit, whatever its outcome
	err := s.write(ctx, func(t *tx) error {
		at, err := t.after(latestRatingSQL, userID)
		if err != nil {
			return err
		}
		old, created := noScore, at
		err = t.queryRow(ratingScoreSQL, userID, filmID).Scan(&old, &created)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		r.CreatedAt, r.UpdatedAt = millis(created), millis(at)
		if _, err := t.exec(upsertRatingSQL, userID, filmID, score, at); err != nil {
			return err
		}
		var previous *int
		if old != noScore {
			previous = &old
		}
		if err := t.emit(ugc.RatingSetEvent(userID, filmID, score, previous)); err != nil {
			return err
		}
		return moveScore(t, filmID, score, old)
	})
	if err != nil {
		return nil, wrap("set rating", err)
	}
	return r, nil
}

// GetRating returns userID's rating of filmID, or ENOTFOUND.
func (s *Store) GetRating(ctx context.Context, userID, filmID uuid.UUID) (*ugc.Rating, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	r, err := scanRating(s.rs.get(getRatingSQL).QueryRowContext(ctx, userID, filmID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ugc.Errorf(ugc.ENOTFOUND, "rating not found")
	}
	if err != nil {
		return nil, wrap("get rating", err)
	}
	return r, nil
}

// DeleteRating removes userID's rating of filmID and takes it out of the
// film's distribution in the same transaction. ENOTFOUND when there is none.
func (s *Store) DeleteRating(ctx context.Context, userID, filmID uuid.UUID) error {
	defer s.summaries.invalidate(filmID) // after the commit, whatever its outcome
	err := s.write(ctx, func(t *tx) error {
		var old int
		err := t.queryRow(deleteRatingSQL, userID, filmID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ugc.Errorf(ugc.ENOTFOUND, "rating not found")
		}
		if err != nil {
			return err
		}
		if err := t.emit(ugc.RatingDeletedEvent(userID, filmID, old)); err != nil {
			return err
		}
		return moveScore(t, filmID, noScore, old)
	})
	return wrap("delete rating", err)
}

// ListUserRatings pages through userID's ratings, most recently set first.
func (s *Store) ListUserRatings(ctx context.Context, userID uuid.UUID, page ugc.Page) (*ugc.List[*ugc.Rating], error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	if err := page.ValidateFor(ugc.CursorUserRatings); err != nil {
		return nil, err
	}
	rows, err := userRatingsListing.query(ctx, s.rs, userID, page, true)
	if err != nil {
		return nil, wrap("list user ratings", err)
	}
	items, err := scanAll(rows, page.Limit+1, scanRating)
	if err != nil {
		return nil, wrap("list user ratings", err)
	}
	return ugc.NewList(items, page.Limit, (*ugc.Rating).Cursor), nil
}

// FilmSummary derives the summary from filmID's kept distribution: from the
// summary cache, or else one primary-key lookup. A film without a row has the
// zero distribution.
func (s *Store) FilmSummary(ctx context.Context, filmID uuid.UUID) (*ugc.FilmSummary, error) {
	d, gen, ok := s.summaries.get(filmID)
	if ok {
		return ugc.NewFilmSummary(filmID, d), nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	dest := make([]any, len(d))
	for i := range d {
		dest[i] = &d[i]
	}
	err := s.rs.get(filmSummarySQL).QueryRowContext(ctx, filmID).Scan(dest...)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, wrap("film summary", err)
	}
	s.summaries.put(filmID, d, gen)
	return ugc.NewFilmSummary(filmID, d), nil
}

// FilmSummaries reads each film as FilmSummary does: in-process lookups that
// mostly hit the summary cache, with no round trip to save by batching them.
func (s *Store) FilmSummaries(ctx context.Context, filmIDs []uuid.UUID) ([]*ugc.FilmSummary, error) {
	if err := ugc.ValidateBatch(filmIDs); err != nil {
		return nil, err
	}
	out := make([]*ugc.FilmSummary, len(filmIDs))
	for i, id := range filmIDs {
		sum, err := s.FilmSummary(ctx, id)
		if err != nil {
			return nil, err
		}
		out[i] = sum
	}
	return out, nil
}

func scanRating(row scanner) (*ugc.Rating, error) {
	var r ugc.Rating
	var created, updated int64
	if err := row.Scan(&r.UserID, &r.FilmID, &r.Score, &created, &updated); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = millis(created), millis(updated)
	return &r, nil
}
