package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// selectReview reads reviews with their author's current score of the film:
// the join is a primary-key lookup in ratings, so the score is always fresh
// and never copied into the review.
const selectReview = `
	SELECT r.id, r.film_id, r.author_id, r.text, r.created_at, r.updated_at, r.likes, r.dislikes, a.score
	FROM reviews r LEFT JOIN ratings a ON a.user_id = r.author_id AND a.film_id = r.film_id `

const (
	reviewByIDSQL = selectReview + `WHERE r.id = ?`

	// insertReviewSQL does nothing on the (film, author) constraint alone,
	// which turns the one expected violation into "no row inserted" with no
	// driver error codes to decode; any other violation still fails loudly.
	insertReviewSQL = `
		INSERT INTO reviews (id, film_id, author_id, text, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
		ON CONFLICT (film_id, author_id) DO NOTHING`

	reviewAuthorSQL      = `SELECT author_id, film_id FROM reviews WHERE id = ?`
	updateReviewSQL      = `UPDATE reviews SET text = ?, updated_at = ? WHERE id = ?`
	deleteReviewVotesSQL = `DELETE FROM review_votes WHERE review_id = ?`
	deleteReviewSQL      = `DELETE FROM reviews WHERE id = ?`

	voteValueSQL  = `SELECT value FROM review_votes WHERE review_id = ? AND user_id = ?`
	upsertVoteSQL = `
		INSERT INTO review_votes (review_id, user_id, value, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (review_id, user_id) DO UPDATE SET value = excluded.value`
	deleteVoteSQL = `DELETE FROM review_votes WHERE review_id = ? AND user_id = ? RETURNING value`
	moveVoteSQL   = `UPDATE reviews SET likes = likes + ?, dislikes = dislikes + ? WHERE id = ?`
)

// reviewListings holds each order's listing. Each walks one index on
// (film_id, order columns), so no listing sorts; the row-value comparison
// resumes strictly after the cursor's (key, id). Arguments: film, [cursor key
// (vote orders only), cursor id,] limit.
var reviewListings = map[ugc.ReviewSort]listing{
	ugc.SortNewest: {
		selectReview + `WHERE r.film_id = ? ORDER BY r.id DESC LIMIT ?`,
		selectReview + `WHERE r.film_id = ? AND r.id < ? ORDER BY r.id DESC LIMIT ?`,
	},
	ugc.SortOldest: {
		selectReview + `WHERE r.film_id = ? ORDER BY r.id LIMIT ?`,
		selectReview + `WHERE r.film_id = ? AND r.id > ? ORDER BY r.id LIMIT ?`,
	},
	ugc.SortMostLiked: {
		selectReview + `WHERE r.film_id = ? ORDER BY r.likes DESC, r.id DESC LIMIT ?`,
		selectReview + `WHERE r.film_id = ? AND (r.likes, r.id) < (?, ?) ORDER BY r.likes DESC, r.id DESC LIMIT ?`,
	},
	ugc.SortMostDisliked: {
		selectReview + `WHERE r.film_id = ? ORDER BY r.dislikes DESC, r.id DESC LIMIT ?`,
		selectReview + `WHERE r.film_id = ? AND (r.dislikes, r.id) < (?, ?) ORDER BY r.dislikes DESC, r.id DESC LIMIT ?`,
	},
}

// CreateReview stores authorID's review of filmID under a new UUIDv7.
// ECONFLICT when the author already reviewed the film.
func (s *Store) CreateReview(ctx context.Context, authorID, filmID uuid.UUID, text string) (*ugc.Review, error) {
	text, err := ugc.NormalizeReviewText(text)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, wrap("create review", err)
	}
	now := ugc.Now()
	var r *ugc.Review
	err = s.write(ctx, func(t *tx) error {
		res, err := t.exec(insertReviewSQL, id, filmID, authorID, text, now.UnixMilli())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ugc.Errorf(ugc.ECONFLICT, "you have already reviewed this film")
		}
		if err := t.emit(ugc.ReviewEvent(ugc.EventReviewCreated, authorID, filmID, id)); err != nil {
			return err
		}
		r, err = reviewFromRow(t.queryRow(reviewByIDSQL, id))
		return err
	})
	if err != nil {
		return nil, wrap("create review", err)
	}
	return r, nil
}

// GetReview returns a review, or ENOTFOUND.
func (s *Store) GetReview(ctx context.Context, reviewID uuid.UUID) (*ugc.Review, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	r, err := reviewFromRow(s.rs.get(reviewByIDSQL).QueryRowContext(ctx, reviewID))
	return r, wrap("get review", err)
}

// reviewFromRow reads a review selected by id, or ENOTFOUND.
func reviewFromRow(row *sql.Row) (*ugc.Review, error) {
	r, err := scanReview(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ugc.Errorf(ugc.ENOTFOUND, "review not found")
	}
	return r, err
}

// reviewAuthor returns the author and the film of a review, or ENOTFOUND.
func reviewAuthor(t *tx, reviewID uuid.UUID) (author, film uuid.UUID, err error) {
	err = t.queryRow(reviewAuthorSQL, reviewID).Scan(&author, &film)
	if errors.Is(err, sql.ErrNoRows) {
		return uuid.Nil, uuid.Nil, ugc.Errorf(ugc.ENOTFOUND, "review not found")
	}
	return author, film, err
}

// authorize returns the review's film when the review exists and actorID
// wrote it: ENOTFOUND or EFORBIDDEN otherwise.
func authorize(t *tx, actorID, reviewID uuid.UUID) (uuid.UUID, error) {
	author, film, err := reviewAuthor(t, reviewID)
	if err == nil && author != actorID {
		return uuid.Nil, ugc.Errorf(ugc.EFORBIDDEN, "only the author may change a review")
	}
	return film, err
}

// UpdateReview replaces a review's text. ENOTFOUND when it does not exist,
// EFORBIDDEN when actorID is not its author.
func (s *Store) UpdateReview(ctx context.Context, actorID, reviewID uuid.UUID, text string) (*ugc.Review, error) {
	text, err := ugc.NormalizeReviewText(text)
	if err != nil {
		return nil, err
	}
	var r *ugc.Review
	err = s.write(ctx, func(t *tx) error {
		film, err := authorize(t, actorID, reviewID)
		if err != nil {
			return err
		}
		if _, err := t.exec(updateReviewSQL, text, ugc.Now().UnixMilli(), reviewID); err != nil {
			return err
		}
		if err := t.emit(ugc.ReviewEvent(ugc.EventReviewUpdated, actorID, film, reviewID)); err != nil {
			return err
		}
		r, err = reviewFromRow(t.queryRow(reviewByIDSQL, reviewID))
		return err
	})
	if err != nil {
		return nil, wrap("update review", err)
	}
	return r, nil
}

// DeleteReview removes a review and every vote on it in one transaction.
// ENOTFOUND when it does not exist, EFORBIDDEN when actorID is not its author.
func (s *Store) DeleteReview(ctx context.Context, actorID, reviewID uuid.UUID) error {
	err := s.write(ctx, func(t *tx) error {
		film, err := authorize(t, actorID, reviewID)
		if err != nil {
			return err
		}
		// Votes first: their foreign key refuses to outlive the review.
		if _, err := t.exec(deleteReviewVotesSQL, reviewID); err != nil {
			return err
		}
		if _, err := t.exec(deleteReviewSQL, reviewID); err != nil {
			return err
		}
		return t.emit(ugc.ReviewEvent(ugc.EventReviewDeleted, actorID, film, reviewID))
	})
	return wrap("delete review", err)
}

// ListFilmReviews pages through filmID's reviews in the given order.
func (s *Store) ListFilmReviews(ctx context.Context, filmID uuid.UUID, sort ugc.ReviewSort, page ugc.Page) (*ugc.List[*ugc.Review], error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	l, ok := reviewListings[sort]
	if !ok {
		return nil, ugc.Errorf(ugc.EINVALID, "unknown review sort %q", string(sort))
	}
	if err := page.ValidateFor(sort.CursorKind()); err != nil {
		return nil, err
	}
	keyed := sort == ugc.SortMostLiked || sort == ugc.SortMostDisliked
	rows, err := l.query(ctx, s.rs, filmID, page, keyed)
	if err != nil {
		return nil, wrap("list film reviews", err)
	}
	items, err := scanAll(rows, page.Limit+1, scanReview)
	if err != nil {
		return nil, wrap("list film reviews", err)
	}
	return ugc.NewList(items, page.Limit, func(r *ugc.Review) ugc.Cursor { return r.Cursor(sort) }), nil
}

// SetVote records userID's vote on a review and moves the review's counters
// in the same transaction; repeating the same vote changes nothing.
func (s *Store) SetVote(ctx context.Context, userID, reviewID uuid.UUID, value ugc.VoteValue) (*ugc.Review, error) {
	if err := value.Validate(); err != nil {
		return nil, err
	}
	var r *ugc.Review
	err := s.write(ctx, func(t *tx) error {
		author, film, err := reviewAuthor(t, reviewID)
		if err != nil {
			return err
		}
		if author == userID {
			return ugc.Errorf(ugc.EFORBIDDEN, "you cannot vote on your own review")
		}
		var old ugc.VoteValue
		err = t.queryRow(voteValueSQL, reviewID, userID).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if old != value {
			if _, err := t.exec(upsertVoteSQL, reviewID, userID, string(value), ugc.Now().UnixMilli()); err != nil {
				return err
			}
			if err := moveVote(t, reviewID, value, old); err != nil {
				return err
			}
			if err := t.emit(ugc.VoteEvent(userID, film, reviewID, value, old)); err != nil {
				return err
			}
		}
		r, err = reviewFromRow(t.queryRow(reviewByIDSQL, reviewID))
		return err
	})
	if err != nil {
		return nil, wrap("set vote", err)
	}
	return r, nil
}

// DeleteVote withdraws userID's vote on a review and takes it off the
// review's counters. ENOTFOUND when there is no such vote, which covers a
// review that does not exist, since a review's votes go with it.
func (s *Store) DeleteVote(ctx context.Context, userID, reviewID uuid.UUID) error {
	err := s.write(ctx, func(t *tx) error {
		var old ugc.VoteValue
		err := t.queryRow(deleteVoteSQL, reviewID, userID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ugc.Errorf(ugc.ENOTFOUND, "vote not found")
		}
		if err != nil {
			return err
		}
		_, film, err := reviewAuthor(t, reviewID)
		if err != nil {
			return err
		}
		if err := t.emit(ugc.VoteEvent(userID, film, reviewID, "", old)); err != nil {
			return err
		}
		return moveVote(t, reviewID, "", old)
	})
	return wrap("delete vote", err)
}

// moveVote moves one vote on the review from the counter of from to that of
// to; "" stands for no vote.
func moveVote(t *tx, reviewID uuid.UUID, to, from ugc.VoteValue) error {
	delta := func(v ugc.VoteValue) int {
		n := 0
		if to == v {
			n++
		}
		if from == v {
			n--
		}
		return n
	}
	_, err := t.exec(moveVoteSQL, delta(ugc.VoteLike), delta(ugc.VoteDislike), reviewID)
	return err
}

func scanReview(row scanner) (*ugc.Review, error) {
	var r ugc.Review
	var created, updated int64
	var score sql.NullInt64
	if err := row.Scan(&r.ID, &r.FilmID, &r.AuthorID, &r.Text, &created, &updated, &r.Likes, &r.Dislikes, &score); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = millis(created), millis(updated)
	if score.Valid {
		s := int(score.Int64)
		r.AuthorScore = &s
	}
	return &r, nil
}
