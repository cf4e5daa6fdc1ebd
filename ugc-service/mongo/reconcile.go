package mongo

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// ReconcileSummaries recomputes the counters in Go, without aggregation
// pipelines: it merges a scan of ratings sorted by film (on the (film_id,
// score) index) with a scan of film_summaries sorted by _id, and a scan of
// reviews sorted by _id with a scan of review_votes sorted by review_id. Both
// sides of each merge are in the same BSON binary order, so memory stays
// constant however many rows there are.
//
// A counter that differs is recounted from its own source rows and rewritten
// in one change, so only drifted documents are written. In a transaction that
// change is exact even while requests write; without transactions a rating or
// vote written between its source and counter writes can be counted twice,
// which a second run while quiet repairs. A summary of a film whose ratings
// are all gone is set to zeros; votes left on a deleted review refer to no
// counter and are not checked.
func (s *Store) ReconcileSummaries(ctx context.Context) (*ugc.ReconcileReport, error) {
	rep := &ugc.ReconcileReport{}
	if err := s.reconcileFilms(ctx, rep); err != nil {
		return nil, err
	}
	if err := s.reconcileReviews(ctx, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

func (s *Store) reconcileFilms(ctx context.Context, rep *ugc.ReconcileReport) error {
	ratings, err := newScan[ratingDoc](ctx, s, s.ratings,
		bson.D{{Key: "_id", Value: 0}, {Key: "film_id", Value: 1}, {Key: "score", Value: 1}},
		bson.D{{Key: "film_id", Value: 1}, {Key: "score", Value: 1}})
	if err != nil {
		return fmt.Errorf("mongo: reconcile: scan ratings: %w", err)
	}
	defer ratings.close()
	summaries, err := newScan[summaryDoc](ctx, s, s.summaries, nil, bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("mongo: reconcile: scan film summaries: %w", err)
	}
	defer summaries.close()

	for {
		var film uuid.UUID
		switch {
		case ratings.ok && summaries.ok:
			film = ratings.doc.FilmID
			if compareIDs(summaries.doc.FilmID, film) < 0 {
				film = summaries.doc.FilmID
			}
		case ratings.ok:
			film = ratings.doc.FilmID
		case summaries.ok:
			film = summaries.doc.FilmID
		default:
			if err := errors.Join(ratings.err, summaries.err); err != nil {
				return fmt.Errorf("mongo: reconcile films: %w", err)
			}
			return nil
		}

		var counted ugc.Distribution
		for ratings.ok && ratings.doc.FilmID == film {
			if score := ratings.doc.Score; score >= ugc.MinScore && score <= ugc.MaxScore {
				counted[score]++
			}
			ratings.next(ctx)
		}
		var stored ugc.Distribution
		wellFormed := true
		if summaries.ok && summaries.doc.FilmID == film {
			stored = summaries.doc.distribution()
			wellFormed = len(summaries.doc.D) == len(stored)
			summaries.next(ctx)
		}

		rep.FilmsChecked++
		if counted == stored && wellFormed {
			continue
		}
		repaired, err := s.repairFilm(ctx, film)
		if err != nil {
			return err
		}
		if repaired {
			rep.FilmsRepaired++
		}
	}
}

// repairFilm recounts filmID's ratings and rewrites its summary if it differs.
func (s *Store) repairFilm(ctx context.Context, filmID uuid.UUID) (bool, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var repaired bool
	err := s.change(ctx, func(ctx context.Context) error {
		repaired = false
		cur, err := s.ratings.Find(ctx, bson.D{{Key: "film_id", Value: filmID}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "score", Value: 1}}))
		if err != nil {
			return err
		}
		var docs []ratingDoc
		if err := cur.All(ctx, &docs); err != nil {
			return err
		}
		var want ugc.Distribution
		for _, d := range docs {
			if d.Score >= ugc.MinScore && d.Score <= ugc.MaxScore {
				want[d.Score]++
			}
		}
		var have summaryDoc
		err = s.summaries.FindOne(ctx, bson.D{{Key: "_id", Value: filmID}}).Decode(&have)
		switch {
		case errors.Is(err, mongodrv.ErrNoDocuments):
			if want == (ugc.Distribution{}) {
				return nil
			}
		case err != nil:
			return err
		case len(have.D) == len(want) && have.distribution() == want:
			return nil
		}
		_, err = s.summaries.UpdateOne(ctx, bson.D{{Key: "_id", Value: filmID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "d", Value: want[:]}}}},
			options.UpdateOne().SetUpsert(true))
		repaired = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("mongo: reconcile: repair film %s: %w", filmID, err)
	}
	return repaired, nil
}

func (s *Store) reconcileReviews(ctx context.Context, rep *ugc.ReconcileReport) error {
	reviews, err := newScan[reviewDoc](ctx, s, s.reviews,
		bson.D{{Key: "likes", Value: 1}, {Key: "dislikes", Value: 1}},
		bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("mongo: reconcile: scan reviews: %w", err)
	}
	defer reviews.close()
	votes, err := newScan[voteDoc](ctx, s, s.votes,
		bson.D{{Key: "_id", Value: 0}, {Key: "review_id", Value: 1}, {Key: "value", Value: 1}},
		bson.D{{Key: "review_id", Value: 1}, {Key: "user_id", Value: 1}})
	if err != nil {
		return fmt.Errorf("mongo: reconcile: scan votes: %w", err)
	}
	defer votes.close()

	for ; reviews.ok; reviews.next(ctx) {
		id := reviews.doc.ID
		for votes.ok && compareIDs(votes.doc.ReviewID, id) < 0 {
			votes.next(ctx) // votes on no review
		}
		var likes, dislikes int64
		for votes.ok && votes.doc.ReviewID == id {
			switch votes.doc.Value {
			case ugc.VoteLike:
				likes++
			case ugc.VoteDislike:
				dislikes++
			}
			votes.next(ctx)
		}
		rep.ReviewsChecked++
		if likes == reviews.doc.Likes && dislikes == reviews.doc.Dislikes {
			continue
		}
		repaired, err := s.repairReview(ctx, id)
		if err != nil {
			return err
		}
		if repaired {
			rep.ReviewsRepaired++
		}
	}
	if err := errors.Join(reviews.err, votes.err); err != nil {
		return fmt.Errorf("mongo: reconcile reviews: %w", err)
	}
	return nil
}

// repairReview recounts reviewID's votes and rewrites its counters if they
// differ.
func (s *Store) repairReview(ctx context.Context, reviewID uuid.UUID) (bool, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var repaired bool
	err := s.change(ctx, func(ctx context.Context) error {
		repaired = false
		cur, err := s.votes.Find(ctx, bson.D{{Key: "review_id", Value: reviewID}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "value", Value: 1}}))
		if err != nil {
			return err
		}
		var docs []voteDoc
		if err := cur.All(ctx, &docs); err != nil {
			return err
		}
		var likes, dislikes int64
		for _, d := range docs {
			switch d.Value {
			case ugc.VoteLike:
				likes++
			case ugc.VoteDislike:
				dislikes++
			}
		}
		var have reviewDoc
		err = s.reviews.FindOne(ctx, byID(reviewID)).Decode(&have)
		switch {
		case errors.Is(err, mongodrv.ErrNoDocuments):
			return nil // deleted meanwhile
		case err != nil:
			return err
		case have.Likes == likes && have.Dislikes == dislikes:
			return nil
		}
		_, err = s.reviews.UpdateOne(ctx, byID(reviewID), bson.D{{Key: "$set", Value: bson.D{
			{Key: "likes", Value: likes}, {Key: "dislikes", Value: dislikes},
		}}})
		repaired = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("mongo: reconcile: repair review %s: %w", reviewID, err)
	}
	return repaired, nil
}

// scan reads a sorted find one document at a time. Each fetch from the server
// gets its own op timeout, so a scan of any length is bounded per batch rather
// than in total. After next, ok tells whether doc holds a document; once it is
// false, err holds the error that ended the scan, if any.
type scan[T any] struct {
	s   *Store
	cur *mongodrv.Cursor
	doc T
	ok  bool
	err error
}

// newScan starts a scan of every document of coll and reads the first.
func newScan[T any](ctx context.Context, s *Store, coll *mongodrv.Collection, projection, sort bson.D) (*scan[T], error) {
	opts := options.Find().SetSort(sort)
	if projection != nil {
		opts.SetProjection(projection)
	}
	octx, cancel := s.op(ctx)
	cur, err := coll.Find(octx, bson.D{}, opts)
	cancel()
	if err != nil {
		return nil, err
	}
	sc := &scan[T]{s: s, cur: cur}
	sc.next(ctx)
	return sc, nil
}

func (sc *scan[T]) next(ctx context.Context) {
	if sc.err != nil {
		sc.ok = false
		return
	}
	ctx, cancel := sc.s.op(ctx)
	defer cancel()
	var zero T
	sc.doc = zero
	if sc.ok = sc.cur.Next(ctx); !sc.ok {
		sc.err = sc.cur.Err()
		return
	}
	if err := sc.cur.Decode(&sc.doc); err != nil {
		sc.ok, sc.err = false, err
	}
}

func (sc *scan[T]) close() {
	ctx, cancel := sc.s.op(context.Background())
	defer cancel()
	_ = sc.cur.Close(ctx)
}

func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }
