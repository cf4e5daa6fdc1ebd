package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// reviewDoc is a document of the reviews collection. The author's score is
// not kept here: it is read from ratings whenever a review is read, so that
// it is always the current one.
type reviewDoc struct {
	ID        uuid.UUID `bson:"_id"`
	FilmID    uuid.UUID `bson:"film_id"`
	AuthorID  uuid.UUID `bson:"author_id"`
	Text      string    `bson:"text"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
	Likes     int64     `bson:"likes"`
	Dislikes  int64     `bson:"dislikes"`
}

func (d *reviewDoc) review() *ugc.Review {
	return &ugc.Review{
		ID:        d.ID,
		FilmID:    d.FilmID,
		AuthorID:  d.AuthorID,
		Text:      d.Text,
		CreatedAt: d.CreatedAt.UTC(),
		UpdatedAt: d.UpdatedAt.UTC(),
		Likes:     d.Likes,
		Dislikes:  d.Dislikes,
	}
}

// voteDoc is a document of review_votes.
type voteDoc struct {
	ReviewID  uuid.UUID     `bson:"review_id"`
	UserID    uuid.UUID     `bson:"user_id"`
	Value     ugc.VoteValue `bson:"value"`
	UpdatedAt time.Time     `bson:"updated_at"`
}

// counterField is the review field that counts votes of value v.
func counterField(v ugc.VoteValue) string {
	if v == ugc.VoteDislike {
		return "dislikes"
	}
	return "likes"
}

func byID(id uuid.UUID) bson.D { return bson.D{{Key: "_id", Value: id}} }

// CreateReview inserts the review under a new UUIDv7. The unique (film_id,
// author_id) index turns a second review of the film into a duplicate key,
// reported as ECONFLICT.
func (s *Store) CreateReview(ctx context.Context, authorID, filmID uuid.UUID, text string) (*ugc.Review, error) {
	text, err := ugc.NormalizeReviewText(text)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("mongo: new review id: %w", err)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	now := ugc.Now()
	d := reviewDoc{ID: id, FilmID: filmID, AuthorID: authorID, Text: text, CreatedAt: now, UpdatedAt: now}
	err = s.change(ctx, func(ctx context.Context) error {
		if _, err := s.reviews.InsertOne(ctx, d); err != nil {
			if mongodrv.IsDuplicateKeyError(err) {
				return ugc.Errorf(ugc.ECONFLICT, "you have already reviewed this film")
			}
			return fmt.Errorf("mongo: insert review: %w", err)
		}
		return s.emit(ctx, ugc.ReviewEvent(ugc.EventReviewCreated, authorID, filmID, id))
	})
	if err != nil {
		return nil, err
	}
	return s.withAuthorScore(ctx, &d)
}

// GetReview reads the review and its author's score: two point reads.
func (s *Store) GetReview(ctx context.Context, reviewID uuid.UUID) (*ugc.Review, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	d, err := s.getReview(ctx, reviewID)
	if err != nil {
		return nil, err
	}
	return s.withAuthorScore(ctx, d)
}

// getReview reads a review document, or returns ENOTFOUND.
func (s *Store) getReview(ctx context.Context, reviewID uuid.UUID) (*reviewDoc, error) {
	var d reviewDoc
	err := s.reviews.FindOne(ctx, byID(reviewID)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, ugc.Errorf(ugc.ENOTFOUND, "review not found")
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: get review: %w", err)
	}
	return &d, nil
}

// authoredReview reads a review that actorID means to change: ENOTFOUND when
// it does not exist, EFORBIDDEN when actorID did not write it.
func (s *Store) authoredReview(ctx context.Context, actorID, reviewID uuid.UUID) (*reviewDoc, error) {
	d, err := s.getReview(ctx, reviewID)
	if err != nil {
		return nil, err
	}
	if d.AuthorID != actorID {
		return nil, ugc.Errorf(ugc.EFORBIDDEN, "only the author may change a review")
	}
	return d, nil
}

// withAuthorScore converts d and fills in the author's current rating of the
// film.
func (s *Store) withAuthorScore(ctx context.Context, d *reviewDoc) (*ugc.Review, error) {
	r := d.review()
	var rd ratingDoc
	err := s.ratings.FindOne(ctx, ratingKey(d.AuthorID, d.FilmID),
		options.FindOne().SetProjection(bson.D{{Key: "score", Value: 1}})).Decode(&rd)
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
	case err != nil:
		return nil, fmt.Errorf("mongo: get author score: %w", err)
	default:
		r.AuthorScore = &rd.Score
	}
	return r, nil
}

// UpdateReview replaces the text. The update is conditional on the author, so
// a review deleted since it was read is reported as not found.
func (s *Store) UpdateReview(ctx context.Context, actorID, reviewID uuid.UUID, text string) (*ugc.Review, error) {
	text, err := ugc.NormalizeReviewText(text)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	if _, err := s.authoredReview(ctx, actorID, reviewID); err != nil {
		return nil, err
	}
	var d reviewDoc
	err = s.change(ctx, func(ctx context.Context) error {
		err := s.reviews.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: reviewID}, {Key: "author_id", Value: actorID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "text", Value: text}, {Key: "updated_at", Value: ugc.Now()}}}},
			options.FindOneAndUpdate().SetReturnDocument(options.After),
		).Decode(&d)
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			return ugc.Errorf(ugc.ENOTFOUND, "review not found")
		}
		if err != nil {
			return fmt.Errorf("mongo: update review: %w", err)
		}
		return s.emit(ctx, ugc.ReviewEvent(ugc.EventReviewUpdated, actorID, d.FilmID, reviewID))
	})
	if err != nil {
		return nil, err
	}
	return s.withAuthorScore(ctx, &d)
}

// DeleteReview removes the review's votes and then the review (the package
// comment says why in that order).
func (s *Store) DeleteReview(ctx context.Context, actorID, reviewID uuid.UUID) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	rd, err := s.authoredReview(ctx, actorID, reviewID)
	if err != nil {
		return err
	}
	return s.change(ctx, func(ctx context.Context) error {
		if _, err := s.votes.DeleteMany(ctx, bson.D{{Key: "review_id", Value: reviewID}}); err != nil {
			return fmt.Errorf("mongo: delete review votes: %w", err)
		}
		res, err := s.reviews.DeleteOne(ctx, bson.D{{Key: "_id", Value: reviewID}, {Key: "author_id", Value: actorID}})
		if err != nil {
			return fmt.Errorf("mongo: delete review: %w", err)
		}
		if res.DeletedCount == 0 {
			return ugc.Errorf(ugc.ENOTFOUND, "review not found")
		}
		return s.emit(ctx, ugc.ReviewEvent(ugc.EventReviewDeleted, actorID, rd.FilmID, reviewID))
	})
}

// ListFilmReviews scans the film's index for the order from the cursor on,
// then reads the authors' scores for the film in one $in query on the
// ratings' unique (user_id, film_id) index.
func (s *Store) ListFilmReviews(ctx context.Context, filmID uuid.UUID, sort ugc.ReviewSort, page ugc.Page) (*ugc.List[*ugc.Review], error) {
	sort, err := ugc.ParseReviewSort(string(sort)) // "" is newest, as in the API
	if err != nil {
		return nil, err
	}
	if err := page.ValidateFor(sort.CursorKind()); err != nil {
		return nil, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()

	filter := bson.D{{Key: "film_id", Value: filmID}}
	var order bson.D
	c := page.After
	switch sort {
	case ugc.SortNewest:
		order = bson.D{{Key: "_id", Value: -1}}
		if c != nil {
			filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: c.ID}}})
		}
	case ugc.SortOldest:
		order = bson.D{{Key: "_id", Value: 1}}
		if c != nil {
			filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: c.ID}}})
		}
	case ugc.SortMostLiked, ugc.SortMostDisliked:
		field := "likes"
		if sort == ugc.SortMostDisliked {
			field = "dislikes"
		}
		order = bson.D{{Key: field, Value: -1}, {Key: "_id", Value: -1}}
		if c != nil {
			filter = append(filter, keysetAfter(field, c.Key, "_id", c.ID)...)
		}
	}
	docs, err := find[reviewDoc](ctx, s.reviews, filter, order, page.Limit+1)
	if err != nil {
		return nil, fmt.Errorf("mongo: list film reviews: %w", err)
	}

	rows := make([]*ugc.Review, len(docs))
	authors := make([]uuid.UUID, len(docs))
	for i := range docs {
		rows[i] = docs[i].review()
		authors[i] = docs[i].AuthorID
	}
	if len(docs) > 0 {
		scores, err := s.authorScores(ctx, filmID, authors)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if score, ok := scores[r.AuthorID]; ok {
				r.AuthorScore = &score
			}
		}
	}
	return ugc.NewList(rows, page.Limit, func(r *ugc.Review) ugc.Cursor { return r.Cursor(sort) }), nil
}

// authorScores returns the scores that authors gave filmID, by author.
func (s *Store) authorScores(ctx context.Context, filmID uuid.UUID, authors []uuid.UUID) (map[uuid.UUID]int, error) {
	cur, err := s.ratings.Find(ctx,
		bson.D{{Key: "user_id", Value: bson.D{{Key: "$in", Value: authors}}}, {Key: "film_id", Value: filmID}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "user_id", Value: 1}, {Key: "score", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongo: get author scores: %w", err)
	}
	var docs []ratingDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: get author scores: %w", err)
	}
	scores := make(map[uuid.UUID]int, len(docs))
	for _, d := range docs {
		scores[d.UserID] = d.Score
	}
	return scores, nil
}

// SetVote upserts the vote, reading the earlier one in the same operation,
// and then moves the review's counters from the earlier value to the new one.
// The review is checked first, for ENOTFOUND and EFORBIDDEN; if it is deleted
// between that check and the counter update, the vote is taken back (without
// transactions, a crash there can leave a vote on no review, which nothing
// reads).
func (s *Store) SetVote(ctx context.Context, userID, reviewID uuid.UUID, value ugc.VoteValue) (*ugc.Review, error) {
	if err := value.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var out *ugc.Review
	err := s.change(ctx, func(ctx context.Context) error {
		rd, err := s.getReview(ctx, reviewID)
		if err != nil {
			return err
		}
		if rd.AuthorID == userID {
			return ugc.Errorf(ugc.EFORBIDDEN, "you cannot vote on your own review")
		}

		key := bson.D{{Key: "review_id", Value: reviewID}, {Key: "user_id", Value: userID}}
		update := bson.D{{Key: "$set", Value: bson.D{{Key: "value", Value: value}, {Key: "updated_at", Value: ugc.Now()}}}}
		opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)
		var before voteDoc
		err = retryUpsert(func() error {
			return s.votes.FindOneAndUpdate(ctx, key, update, opts).Decode(&before)
		})
		existed := err == nil
		if err != nil && !errors.Is(err, mongodrv.ErrNoDocuments) {
			return fmt.Errorf("mongo: upsert vote: %w", err)
		}

		var inc bson.D
		switch {
		case !existed:
			inc = bson.D{{Key: counterField(value), Value: int64(1)}}
		case before.Value != value:
			inc = bson.D{{Key: counterField(value), Value: int64(1)}, {Key: counterField(before.Value), Value: int64(-1)}}
		}
		if inc == nil {
			out, err = s.withAuthorScore(ctx, rd)
			return err
		}
		var previous ugc.VoteValue
		if existed {
			previous = before.Value
		}
		var d reviewDoc
		err = s.reviews.FindOneAndUpdate(ctx, byID(reviewID), bson.D{{Key: "$inc", Value: inc}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			if _, err := s.votes.DeleteOne(ctx, key); err != nil {
				return fmt.Errorf("mongo: take back vote on a deleted review: %w", err)
			}
			return ugc.Errorf(ugc.ENOTFOUND, "review not found")
		}
		if err != nil {
			return fmt.Errorf("mongo: update review counters: %w", err)
		}
		if err := s.emit(ctx, ugc.VoteEvent(userID, d.FilmID, reviewID, value, previous)); err != nil {
			return err
		}
		out, err = s.withAuthorScore(ctx, &d)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteVote deletes the vote, reading its value in the same operation, and
// then takes it off the review's counters.
func (s *Store) DeleteVote(ctx context.Context, userID, reviewID uuid.UUID) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.change(ctx, func(ctx context.Context) error {
		var v voteDoc
		err := s.votes.FindOneAndDelete(ctx,
			bson.D{{Key: "review_id", Value: reviewID}, {Key: "user_id", Value: userID}}).Decode(&v)
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			return ugc.Errorf(ugc.ENOTFOUND, "vote not found")
		}
		if err != nil {
			return fmt.Errorf("mongo: delete vote: %w", err)
		}
		var d reviewDoc
		err = s.reviews.FindOneAndUpdate(ctx, byID(reviewID),
			bson.D{{Key: "$inc", Value: bson.D{{Key: counterField(v.Value), Value: int64(-1)}}}}).Decode(&d)
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			// The review is being deleted: its review_deleted event stands
			// for its votes too.
			return nil
		}
		if err != nil {
			return fmt.Errorf("mongo: update review counters: %w", err)
		}
		return s.emit(ctx, ugc.VoteEvent(userID, d.FilmID, reviewID, "", v.Value))
	})
}
