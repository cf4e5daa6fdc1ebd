package mongo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// ratingDoc is a document of the ratings collection; its _id is the server's
// ObjectID, since ratings are addressed by (user_id, film_id).
type ratingDoc struct {
	UserID    uuid.UUID `bson:"user_id"`
	FilmID    uuid.UUID `bson:"film_id"`
	Score     int       `bson:"score"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
}

func (d *ratingDoc) rating() *ugc.Rating {
	return &ugc.Rating{
		UserID:    d.UserID,
		FilmID:    d.FilmID,
		Score:     d.Score,
		CreatedAt: d.CreatedAt.UTC(),
		UpdatedAt: d.UpdatedAt.UTC(),
	}
}

// summaryDoc is a document of film_summaries: the film's score distribution,
// d[s] being the number of ratings with score s.
type summaryDoc struct {
	FilmID uuid.UUID `bson:"_id"`
	D      []int64   `bson:"d"`
}

// distribution converts the stored counts, tolerating a short or long array
// (which ReconcileSummaries would repair).
func (d *summaryDoc) distribution() ugc.Distribution {
	var dist ugc.Distribution
	copy(dist[:], d.D)
	return dist
}

func ratingKey(userID, filmID uuid.UUID) bson.D {
	return bson.D{{Key: "user_id", Value: userID}, {Key: "film_id", Value: filmID}}
}

// SetRating upserts the rating, reading the document as it was before in the
// same operation, and then moves the film's distribution by the difference
// between the old and the new score.
func (s *Store) SetRating(ctx context.Context, userID, filmID uuid.UUID, score int) (*ugc.Rating, error) {
	if err := ugc.ValidateScore(score); err != nil {
		return nil, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var out *ugc.Rating
	err := s.change(ctx, func(ctx context.Context) error {
		now, err := s.after(ctx, s.ratings, "updated_at", userID)
		if err != nil {
			return err
		}
		update := bson.D{
			{Key: "$set", Value: bson.D{{Key: "score", Value: score}, {Key: "updated_at", Value: now}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "created_at", Value: now}}},
		}
		opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)
		var before ratingDoc
		err = retryUpsert(func() error {
			return s.ratings.FindOneAndUpdate(ctx, ratingKey(userID, filmID), update, opts).Decode(&before)
		})
		existed := err == nil
		if err != nil && !errors.Is(err, mongodrv.ErrNoDocuments) {
			return fmt.Errorf("mongo: upsert rating: %w", err)
		}

		out = &ugc.Rating{UserID: userID, FilmID: filmID, Score: score, CreatedAt: now, UpdatedAt: now}
		delta := bson.D{{Key: distKey(score), Value: int64(1)}}
		var previous *int
		if existed {
			out.CreatedAt = before.CreatedAt.UTC()
			previous = &before.Score
			delta = append(delta, bson.E{Key: distKey(before.Score), Value: int64(-1)})
		}
		if previous == nil || *previous != score {
			if err := s.moveDistribution(ctx, filmID, delta); err != nil {
				return err
			}
		}
		return s.emit(ctx, ugc.RatingSetEvent(userID, filmID, score, previous))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// distKey is the path of score's count in a summary document.
func distKey(score int) string { return "d." + strconv.Itoa(score) }

// moveDistribution applies delta, an $inc document over distKey paths, to
// filmID's summary. The film's first rating creates the summary as an array
// of zeros first: an upserting $inc would create d as an object instead.
// A decrement of a summary that does not exist is dropped: the summary
// already lacks the rating, and ReconcileSummaries recreates it in full.
func (s *Store) moveDistribution(ctx context.Context, filmID uuid.UUID, delta bson.D) error {
	filter := bson.D{{Key: "_id", Value: filmID}}
	inc := bson.D{{Key: "$inc", Value: delta}}
	res, err := s.summaries.UpdateOne(ctx, filter, inc)
	if err != nil {
		return fmt.Errorf("mongo: update film summary: %w", err)
	}
	if res.MatchedCount > 0 || !hasIncrement(delta) {
		return nil
	}
	create := bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "d", Value: make([]int64, ugc.MaxScore+1)}}}}
	_, err = s.summaries.UpdateOne(ctx, filter, create, options.UpdateOne().SetUpsert(true))
	// A duplicate key means a concurrent first rating created it: as good
	// (inside a transaction it aborted the transaction, so it must surface).
	racedCreate := mongodrv.IsDuplicateKeyError(err) && !s.txn
	if err != nil && !racedCreate {
		return fmt.Errorf("mongo: create film summary: %w", err)
	}
	if _, err := s.summaries.UpdateOne(ctx, filter, inc); err != nil {
		return fmt.Errorf("mongo: update film summary: %w", err)
	}
	return nil
}

func hasIncrement(delta bson.D) bool {
	for _, e := range delta {
		if n, _ := e.Value.(int64); n > 0 {
			return true
		}
	}
	return false
}

// GetRating reads one rating by its unique key.
func (s *Store) GetRating(ctx context.Context, userID, filmID uuid.UUID) (*ugc.Rating, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var d ratingDoc
	err := s.ratings.FindOne(ctx, ratingKey(userID, filmID)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, ugc.Errorf(ugc.ENOTFOUND, "rating not found")
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: get rating: %w", err)
	}
	return d.rating(), nil
}

// DeleteRating deletes the rating, reading its score in the same operation,
// and then takes it out of the film's distribution.
func (s *Store) DeleteRating(ctx context.Context, userID, filmID uuid.UUID) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.change(ctx, func(ctx context.Context) error {
		var d ratingDoc
		err := s.ratings.FindOneAndDelete(ctx, ratingKey(userID, filmID)).Decode(&d)
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			return ugc.Errorf(ugc.ENOTFOUND, "rating not found")
		}
		if err != nil {
			return fmt.Errorf("mongo: delete rating: %w", err)
		}
		if err := s.moveDistribution(ctx, filmID, bson.D{{Key: distKey(d.Score), Value: int64(-1)}}); err != nil {
			return err
		}
		return s.emit(ctx, ugc.RatingDeletedEvent(userID, filmID, d.Score))
	})
}

// ListUserRatings scans the (user_id, updated_at -1, film_id -1) index from
// the cursor on, reading one rating more than the page to learn whether
// another page follows.
func (s *Store) ListUserRatings(ctx context.Context, userID uuid.UUID, page ugc.Page) (*ugc.List[*ugc.Rating], error) {
	if err := page.ValidateFor(ugc.CursorUserRatings); err != nil {
		return nil, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	filter := bson.D{{Key: "user_id", Value: userID}}
	if c := page.After; c != nil {
		filter = append(filter, keysetAfter("updated_at", fromMillis(c.Key), "film_id", c.ID)...)
	}
	sort := bson.D{{Key: "updated_at", Value: -1}, {Key: "film_id", Value: -1}}
	docs, err := find[ratingDoc](ctx, s.ratings, filter, sort, page.Limit+1)
	if err != nil {
		return nil, fmt.Errorf("mongo: list user ratings: %w", err)
	}
	rows := make([]*ugc.Rating, len(docs))
	for i := range docs {
		rows[i] = docs[i].rating()
	}
	return ugc.NewList(rows, page.Limit, (*ugc.Rating).Cursor), nil
}

// FilmSummary is one point read of the film's kept distribution.
func (s *Store) FilmSummary(ctx context.Context, filmID uuid.UUID) (*ugc.FilmSummary, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var d summaryDoc
	err := s.summaries.FindOne(ctx, bson.D{{Key: "_id", Value: filmID}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return ugc.NewFilmSummary(filmID, ugc.Distribution{}), nil
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: get film summary: %w", err)
	}
	return ugc.NewFilmSummary(filmID, d.distribution()), nil
}

// FilmSummaries reads every film's distribution in one query.
func (s *Store) FilmSummaries(ctx context.Context, filmIDs []uuid.UUID) ([]*ugc.FilmSummary, error) {
	if err := ugc.ValidateBatch(filmIDs); err != nil {
		return nil, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	docs, err := find[summaryDoc](ctx, s.summaries, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: filmIDs}}}}, bson.D{{Key: "_id", Value: 1}}, len(filmIDs))
	if err != nil {
		return nil, fmt.Errorf("mongo: get film summaries: %w", err)
	}
	byFilm := make(map[uuid.UUID]ugc.Distribution, len(docs))
	for i := range docs {
		byFilm[docs[i].FilmID] = docs[i].distribution()
	}
	out := make([]*ugc.FilmSummary, len(filmIDs))
	for i, id := range filmIDs {
		out[i] = ugc.NewFilmSummary(id, byFilm[id])
	}
	return out, nil
}
