// Package mongotest opens throwaway mongo stores for tests that run the
// storetest suite against a MongoDB wire-protocol server: a real MongoDB in
// ugc-service/mongo, an embedded FerretDB in test/ferretdb.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/mongo"
)

// NewStore opens a store on a fresh database with a random name at uri,
// migrates it, and drops the database and closes the store when t ends.
func NewStore(t *testing.T, uri string, opts ...mongo.Option) *mongo.Store {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "ugctest_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := mongo.Open(ctx, uri, name, opts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Database().Drop(ctx); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// Drift is storetest.Options.Drift for mongo stores: it overwrites the
// film's distribution and the review's vote counters with raw driver updates
// that bypass the store.
func Drift(t *testing.T, s ugc.Store, filmID, reviewID uuid.UUID) {
	t.Helper()
	db := s.(*mongo.Store).Database()
	ctx := t.Context()
	wrong := make([]int64, ugc.MaxScore+1)
	wrong[ugc.MaxScore] = 99
	res, err := db.Collection("film_summaries").UpdateOne(ctx,
		bson.D{{Key: "_id", Value: filmID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "d", Value: wrong}}}})
	if err != nil || res.MatchedCount != 1 {
		t.Fatalf("drift film summary: matched %v, err %v", res, err)
	}
	res, err = db.Collection("reviews").UpdateOne(ctx,
		bson.D{{Key: "_id", Value: reviewID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "likes", Value: int64(7)}, {Key: "dislikes", Value: int64(-1)}}}})
	if err != nil || res.MatchedCount != 1 {
		t.Fatalf("drift review counters: matched %v, err %v", res, err)
	}
}
