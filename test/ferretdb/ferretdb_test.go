// Package ferretdb_test runs the mongo store's behavioural suite over the
// MongoDB wire protocol against FerretDB v1 embedded in the test process, with
// its SQLite backend in a temporary directory: a real server round trip for
// every operation, on any machine, without MongoDB.
//
// It is a module of its own so that FerretDB's dependencies stay out of the
// product's go.mod. Build it with -tags ferretdb_no_postgresql to leave out
// the PostgreSQL backend.
package ferretdb_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/mongo"
	"github.com/ugcstack/ugcstack/ugc-service/mongo/mongotest"
	"github.com/ugcstack/ugcstack/ugc-service/storetest"
)

// skipConcurrency is why the concurrent case cannot run here: it checks what
// FerretDB v1 does not provide, so running it would test FerretDB.
const skipConcurrency = "FerretDB v1 loses concurrent $inc updates of one document (its SQLite backend reads, " +
	"modifies and writes the whole document) and has no multi-document transactions; " +
	"the URI's maxPoolSize=1 serialises this suite's writes instead. Run ugc-service/mongo's " +
	"tests with UGC_TEST_MONGO_URI for the concurrent case"

func TestMongoStoreOnFerretDB(t *testing.T) {
	uri := startFerretDB(t)

	s := mongotest.NewStore(t, uri)
	if s.Transactional() {
		t.Fatal("the store believes FerretDB runs transactions; it reports no replica set")
	}

	storetest.Run(t, func(t *testing.T) ugc.Store {
		return mongotest.NewStore(t, uri)
	}, storetest.Options{SkipConcurrency: skipConcurrency, Drift: mongotest.Drift})
}

// TestOpenRefusesUnreachableServer checks that Open fails within its timeout
// instead of handing out a store that cannot serve.
func TestOpenRefusesUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if s, err := mongo.Open(ctx, "mongodb://127.0.0.1:1/?connectTimeoutMS=200", "x"); err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded without a server")
	}
}

// TestDocumentShapes checks what the store puts on the wire: UUIDs as binary
// subtype 4, times as BSON dates, and a film's distribution as an array of 11
// 64-bit counts that $inc keeps (an upserting $inc would have made an object).
func TestDocumentShapes(t *testing.T) {
	s := mongotest.NewStore(t, startFerretDB(t))
	ctx := t.Context()
	user, film := uuid.New(), uuid.New()
	if _, err := s.SetRating(ctx, user, film, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRating(ctx, uuid.New(), film, 7); err != nil {
		t.Fatal(err)
	}

	var rating, summary bson.Raw
	db := s.Database()
	if err := db.Collection("ratings").FindOne(ctx, bson.D{{Key: "user_id", Value: user}}).Decode(&rating); err != nil {
		t.Fatalf("read rating: %v", err)
	}
	if err := db.Collection("film_summaries").FindOne(ctx, bson.D{{Key: "_id", Value: film}}).Decode(&summary); err != nil {
		t.Fatalf("read summary: %v", err)
	}
	for _, v := range []bson.RawValue{rating.Lookup("user_id"), rating.Lookup("film_id"), summary.Lookup("_id")} {
		subtype, data, ok := v.BinaryOK()
		if !ok || subtype != bson.TypeBinaryUUID || len(data) != 16 {
			t.Errorf("id stored as %v %v, want binary subtype 4", v.Type, v)
		}
	}
	for _, f := range []string{"created_at", "updated_at"} {
		if v := rating.Lookup(f); v.Type != bson.TypeDateTime {
			t.Errorf("%s stored as %v, want a date", f, v.Type)
		}
	}
	counts, err := summary.Lookup("d").Array().Values()
	if err != nil || len(counts) != ugc.MaxScore+1 {
		t.Fatalf("distribution = %v (err %v), want an array of %d", summary.Lookup("d"), err, ugc.MaxScore+1)
	}
	for score, v := range counts {
		want := int64(0)
		if score == 7 {
			want = 2
		}
		if n, ok := v.Int64OK(); !ok || n != want {
			t.Errorf("d[%d] = %v, want int64 %d", score, v, want)
		}
	}
}

// TestReconcileAcrossBatches makes ReconcileSummaries' merged scans fetch
// more than the server's first batch of 101 documents, so that they go on with
// getMore, and checks that drift in the last batch is found. Most films are
// inserted in bulk, in the shapes TestDocumentShapes pins, because a few
// hundred store calls take seconds on FerretDB.
func TestReconcileAcrossBatches(t *testing.T) {
	s := mongotest.NewStore(t, startFerretDB(t))
	ctx := t.Context()
	db := s.Database()
	const bulk, viaStore = 150, 3
	now := ugc.Now()
	var ratings, summaries, reviews, votes []any
	var films, reviewIDs []uuid.UUID
	for i := range bulk {
		film, review := uuid.New(), uuid.Must(uuid.NewV7())
		score := i % (ugc.MaxScore + 1)
		d := make([]int64, ugc.MaxScore+1)
		d[score] = 1
		ratings = append(ratings, bson.D{
			{Key: "user_id", Value: uuid.New()},
			{Key: "film_id", Value: film},
			{Key: "score", Value: score},
			{Key: "created_at", Value: now},
			{Key: "updated_at", Value: now},
		})
		summaries = append(summaries, bson.D{{Key: "_id", Value: film}, {Key: "d", Value: d}})
		reviews = append(reviews, bson.D{
			{Key: "_id", Value: review},
			{Key: "film_id", Value: film},
			{Key: "author_id", Value: uuid.New()},
			{Key: "text", Value: "text"},
			{Key: "created_at", Value: now},
			{Key: "updated_at", Value: now},
			{Key: "likes", Value: int64(0)},
			{Key: "dislikes", Value: int64(1)},
		})
		votes = append(votes, bson.D{
			{Key: "review_id", Value: review},
			{Key: "user_id", Value: uuid.New()},
			{Key: "value", Value: "dislike"},
			{Key: "updated_at", Value: now},
		})
		films, reviewIDs = append(films, film), append(reviewIDs, review)
	}
	for coll, docs := range map[string][]any{"ratings": ratings, "film_summaries": summaries, "reviews": reviews, "review_votes": votes} {
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			t.Fatalf("insert %s: %v", coll, err)
		}
	}
	for range viaStore {
		film := uuid.New()
		if _, err := s.SetRating(ctx, uuid.New(), film, 4); err != nil {
			t.Fatal(err)
		}
		r, err := s.CreateReview(ctx, uuid.New(), film, "text")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetVote(ctx, uuid.New(), r.ID, ugc.VoteLike); err != nil {
			t.Fatal(err)
		}
		films, reviewIDs = append(films, film), append(reviewIDs, r.ID)
	}

	rep, err := s.ReconcileSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := ugc.ReconcileReport{FilmsChecked: bulk + viaStore, ReviewsChecked: bulk + viaStore}
	if *rep != want {
		t.Fatalf("reconcile of a consistent store = %+v, want %+v", *rep, want)
	}

	// The greatest ids come last in both scans.
	mongotest.Drift(t, s, slices.MaxFunc(films, compareIDs), slices.MaxFunc(reviewIDs, compareIDs))
	rep, err = s.ReconcileSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want.FilmsRepaired, want.ReviewsRepaired = 1, 1
	if *rep != want {
		t.Fatalf("reconcile after drift = %+v, want %+v", *rep, want)
	}
}

func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// startFerretDB starts FerretDB on a free port of 127.0.0.1 with a fresh
// SQLite directory and returns its URI, limited to one connection so that the
// store's writes reach FerretDB one at a time. It stops when t ends.
func startFerretDB(t *testing.T) string {
	t.Helper()
	return startFerretDBOn(t, "127.0.0.1:0")
}

// startFerretDBOn is startFerretDB listening on addr.
func startFerretDBOn(t *testing.T, addr string) string {
	t.Helper()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/",
		Logger:    slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		t.Fatalf("new FerretDB: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	return f.MongoDBURI() + "?maxPoolSize=1"
}
