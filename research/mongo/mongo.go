// Package mongo is the MongoDB backend (official mongo-driver/v2). It is
// compiled and unit-tested everywhere; where no MongoDB server can be
// installed (no Docker engine), it is measured only against the compose cluster.
//
// Model (what a MongoDB expert would do for these read paths):
//   - ratings {user_id, film_id, score, at}: unique index (user_id, film_id)
//     serves a user's ratings and the point read; index (film_id) serves
//     recomputation. Shard key {user_id: "hashed"}: a user's reads hit one shard.
//   - film_summary {_id: film_id, cnt, sum, likes, dislikes}: the summary is
//     one _id lookup; every rating write applies its delta with $inc (in a
//     transaction on a replica set). Shard key {_id: "hashed"}.
//   - reviews {_id, film_id, user_id, text, at, likes, dislikes}: index
//     (film_id, likes -1, _id) makes "top reviews" an index walk with LIMIT 20.
//     Shard key {film_id: "hashed"}.
//   - review_votes {_id: {r, u}, v}: the unique _id makes a vote idempotent.
//   - bookmarks {user_id, film_id, at}: unique (user_id, film_id) and
//     (user_id, at -1, film_id) for newest-first pages. Shard key {user_id: "hashed"}.
package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// DefaultURI is the compose cluster's mongos router.
const DefaultURI = "mongodb://127.0.0.1:27017/?directConnection=true"

// Database is the database name.
const Database = "ugc_research"

// Store is the MongoDB backend.
type Store struct {
	c  *mongo.Client
	db *mongo.Database
}

// Open connects (the driver connects lazily) and pings with a 30 s budget.
func Open(ctx context.Context, uri string, pool int) (*Store, error) {
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(uint64(pool)).SetServerSelectionTimeout(30 * time.Second))
	if err != nil {
		return nil, err
	}
	if err := c.Ping(ctx, nil); err != nil {
		_ = c.Disconnect(context.Background())
		return nil, err
	}
	return &Store{c: c, db: c.Database(Database)}, nil
}

// Name implements ugcdata.Store.
func (s *Store) Name() string { return "mongo" }

// Close implements ugcdata.Store.
func (s *Store) Close() error { return s.c.Disconnect(context.Background()) }

// Version implements ugcdata.Store.
func (s *Store) Version(ctx context.Context) (string, error) {
	var r struct {
		Version string `bson:"version"`
	}
	err := s.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&r)
	return "MongoDB " + r.Version, err
}

// Indexes lists every collection's indexes; Reset creates them.
var Indexes = map[string][]bson.D{
	"ratings":      {{{Key: "user_id", Value: 1}, {Key: "film_id", Value: 1}}, {{Key: "film_id", Value: 1}}},
	"reviews":      {{{Key: "film_id", Value: 1}, {Key: "likes", Value: -1}, {Key: "_id", Value: 1}}},
	"bookmarks":    {{{Key: "user_id", Value: 1}, {Key: "film_id", Value: 1}}, {{Key: "user_id", Value: 1}, {Key: "at", Value: -1}, {Key: "film_id", Value: 1}}},
	"review_votes": nil,
	"film_summary": nil,
}

// Reset implements ugcdata.Store.
func (s *Store) Reset(ctx context.Context) error {
	if err := s.db.Drop(ctx); err != nil {
		return err
	}
	for coll, idx := range Indexes {
		for i, keys := range idx {
			m := mongo.IndexModel{Keys: keys}
			if i == 0 && (coll == "ratings" || coll == "bookmarks") {
				m.Options = options.Index().SetUnique(true)
			}
			if _, err := s.db.Collection(coll).Indexes().CreateOne(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// SummaryPipeline rebuilds film_summary from ratings.
var SummaryPipeline = mongo.Pipeline{
	{{Key: "$group", Value: bson.D{
		{Key: "_id", Value: "$film_id"},
		{Key: "cnt", Value: bson.D{{Key: "$sum", Value: 1}}},
		{Key: "sum", Value: bson.D{{Key: "$sum", Value: "$score"}}},
		{Key: "likes", Value: bson.D{{Key: "$sum", Value: bson.D{{Key: "$cond", Value: bson.A{bson.D{{Key: "$eq", Value: bson.A{"$score", ugcdata.MaxScore}}}, 1, 0}}}}}},
		{Key: "dislikes", Value: bson.D{{Key: "$sum", Value: bson.D{{Key: "$cond", Value: bson.A{bson.D{{Key: "$eq", Value: bson.A{"$score", ugcdata.MinScore}}}, 1, 0}}}}}},
	}}},
	{{Key: "$merge", Value: bson.D{{Key: "into", Value: "film_summary"}, {Key: "whenMatched", Value: "replace"}}}},
}

// Finish implements ugcdata.Store.
func (s *Store) Finish(ctx context.Context) error {
	cur, err := s.db.Collection("ratings").Aggregate(ctx, SummaryPipeline)
	if err != nil {
		return err
	}
	return cur.Close(ctx)
}

func insert[T any](ctx context.Context, c *mongo.Collection, xs []T, doc func(T) bson.D) error {
	docs := make([]any, len(xs))
	for i, x := range xs {
		docs[i] = doc(x)
	}
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	return err
}

// LoadRatings implements ugcdata.Store.
func (s *Store) LoadRatings(ctx context.Context, rs []ugcdata.Rating) error {
	return insert(ctx, s.db.Collection("ratings"), rs, func(r ugcdata.Rating) bson.D {
		return bson.D{{Key: "user_id", Value: r.UserID}, {Key: "film_id", Value: r.FilmID}, {Key: "score", Value: int32(r.Score)}, {Key: "at", Value: r.At}}
	})
}

// LoadReviews implements ugcdata.Store.
func (s *Store) LoadReviews(ctx context.Context, rs []ugcdata.Review) error {
	return insert(ctx, s.db.Collection("reviews"), rs, func(r ugcdata.Review) bson.D {
		return bson.D{
			{Key: "_id", Value: r.ID},
			{Key: "film_id", Value: r.FilmID},
			{Key: "user_id", Value: r.UserID},
			{Key: "text", Value: r.Text},
			{Key: "at", Value: r.At},
			{Key: "likes", Value: int64(0)},
			{Key: "dislikes", Value: int64(0)},
		}
	})
}

// LoadVotes inserts votes and applies their counters to the reviews.
func (s *Store) LoadVotes(ctx context.Context, vs []ugcdata.Vote) error {
	if err := insert(ctx, s.db.Collection("review_votes"), vs, func(v ugcdata.Vote) bson.D {
		return bson.D{{Key: "_id", Value: bson.D{{Key: "r", Value: v.ReviewID}, {Key: "u", Value: v.UserID}}}, {Key: "v", Value: int32(v.Value)}}
	}); err != nil {
		return err
	}
	models := VoteCounterUpdates(vs)
	if len(models) == 0 {
		return nil
	}
	_, err := s.db.Collection("reviews").BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return err
}

// VoteCounterUpdates folds votes into one $inc per review.
func VoteCounterUpdates(vs []ugcdata.Vote) []mongo.WriteModel {
	type c struct{ l, d int64 }
	agg := map[int64]*c{}
	var order []int64
	for _, v := range vs {
		x := agg[v.ReviewID]
		if x == nil {
			x = &c{}
			agg[v.ReviewID] = x
			order = append(order, v.ReviewID)
		}
		if v.Value > 0 {
			x.l++
		} else {
			x.d++
		}
	}
	out := make([]mongo.WriteModel, 0, len(order))
	for _, id := range order {
		out = append(out, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).
			SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "likes", Value: agg[id].l}, {Key: "dislikes", Value: agg[id].d}}}}))
	}
	return out
}

// LoadBookmarks implements ugcdata.Store.
func (s *Store) LoadBookmarks(ctx context.Context, bs []ugcdata.Bookmark) error {
	return insert(ctx, s.db.Collection("bookmarks"), bs, func(b ugcdata.Bookmark) bson.D {
		return bson.D{{Key: "user_id", Value: b.UserID}, {Key: "film_id", Value: b.FilmID}, {Key: "at", Value: b.At}}
	})
}

// SummaryDelta is the $inc a rating write applies to film_summary, given
// the previous score (nil when the user had not rated the film).
func SummaryDelta(old *int8, score int8) bson.D {
	b := func(c bool) int64 {
		if c {
			return 1
		}
		return 0
	}
	cnt, sum := int64(1), int64(score)
	likes, dislikes := b(score == ugcdata.MaxScore), b(score == ugcdata.MinScore)
	if old != nil {
		cnt, sum = 0, sum-int64(*old)
		likes -= b(*old == ugcdata.MaxScore)
		dislikes -= b(*old == ugcdata.MinScore)
	}
	return bson.D{{Key: "cnt", Value: cnt}, {Key: "sum", Value: sum}, {Key: "likes", Value: likes}, {Key: "dislikes", Value: dislikes}}
}

// PutRating upserts the rating (returning the previous document) and
// applies the summary delta; on a replica set both run in one transaction.
func (s *Store) PutRating(ctx context.Context, r ugcdata.Rating) error {
	sess, err := s.c.StartSession()
	if err != nil {
		return err
	}
	defer sess.EndSession(ctx)
	_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
		var prev struct {
			Score int32 `bson:"score"`
		}
		var old *int8
		err := s.db.Collection("ratings").FindOneAndUpdate(ctx,
			bson.D{{Key: "user_id", Value: r.UserID}, {Key: "film_id", Value: r.FilmID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "score", Value: int32(r.Score)}, {Key: "at", Value: r.At}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)).Decode(&prev)
		switch {
		case err == nil:
			o := int8(prev.Score)
			old = &o
		case errors.Is(err, mongo.ErrNoDocuments):
		default:
			return nil, err
		}
		_, err = s.db.Collection("film_summary").UpdateByID(ctx, r.FilmID, bson.D{{Key: "$inc", Value: SummaryDelta(old, r.Score)}}, options.UpdateOne().SetUpsert(true))
		return nil, err
	})
	return err
}

// UserBookmarks implements ugcdata.Store.
func (s *Store) UserBookmarks(ctx context.Context, user int64, limit int) ([]ugcdata.Bookmark, error) {
	cur, err := s.db.Collection("bookmarks").Find(ctx, bson.D{{Key: "user_id", Value: user}},
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "film_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		FilmID int64     `bson:"film_id"`
		At     time.Time `bson:"at"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]ugcdata.Bookmark, len(docs))
	for i, d := range docs {
		out[i] = ugcdata.Bookmark{UserID: user, FilmID: d.FilmID, At: d.At.UTC()}
	}
	return out, nil
}

// FilmSummary implements ugcdata.Store.
func (s *Store) FilmSummary(ctx context.Context, film int64) (ugcdata.Summary, error) {
	var d struct {
		Cnt, Sum, Likes, Dislikes int64
	}
	err := s.db.Collection("film_summary").FindOne(ctx, bson.D{{Key: "_id", Value: film}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		err = nil
	}
	return ugcdata.Summary{FilmID: film, Count: d.Cnt, Sum: d.Sum, Likes: d.Likes, Dislikes: d.Dislikes}, err
}

// FilmReviews implements ugcdata.Store.
func (s *Store) FilmReviews(ctx context.Context, film int64, limit int) ([]ugcdata.Review, error) {
	cur, err := s.db.Collection("reviews").Find(ctx, bson.D{{Key: "film_id", Value: film}},
		options.Find().SetSort(bson.D{{Key: "likes", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID       int64     `bson:"_id"`
		UserID   int64     `bson:"user_id"`
		Text     string    `bson:"text"`
		At       time.Time `bson:"at"`
		Likes    int64     `bson:"likes"`
		Dislikes int64     `bson:"dislikes"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]ugcdata.Review, len(docs))
	for i, d := range docs {
		out[i] = ugcdata.Review{ID: d.ID, FilmID: film, UserID: d.UserID, Text: d.Text, At: d.At.UTC(), Likes: d.Likes, Dislikes: d.Dislikes}
	}
	return out, nil
}

// UserRatings implements ugcdata.Store.
func (s *Store) UserRatings(ctx context.Context, user int64) ([]ugcdata.Rating, error) {
	cur, err := s.db.Collection("ratings").Find(ctx, bson.D{{Key: "user_id", Value: user}}, options.Find().SetSort(bson.D{{Key: "film_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		FilmID int64     `bson:"film_id"`
		Score  int32     `bson:"score"`
		At     time.Time `bson:"at"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]ugcdata.Rating, len(docs))
	for i, d := range docs {
		out[i] = ugcdata.Rating{UserID: user, FilmID: d.FilmID, Score: int8(d.Score), At: d.At.UTC()}
	}
	return out, nil
}

// UserFilmRating implements ugcdata.Store.
func (s *Store) UserFilmRating(ctx context.Context, user, film int64) (int8, bool, error) {
	var d struct {
		Score int32 `bson:"score"`
	}
	err := s.db.Collection("ratings").FindOne(ctx, bson.D{{Key: "user_id", Value: user}, {Key: "film_id", Value: film}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, false, nil
	}
	return int8(d.Score), err == nil, err
}
