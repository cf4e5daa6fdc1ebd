// Package mongo is the production ugc.Store, kept in MongoDB.
//
// # Collections
//
// Every collection is shaped by the reads it serves, and every read is a point
// read or a range scan over an index:
//
//	ratings         {user_id, film_id, score, created_at, updated_at}
//	                unique (user_id, film_id); (user_id, updated_at -1, film_id -1)
//	                for a user's listing; (film_id, score) for ReconcileSummaries
//	film_summaries  {_id: film_id, d: [11 counts]}, the score distribution
//	reviews         {_id, film_id, author_id, text, created_at, updated_at, likes, dislikes}
//	                unique (film_id, author_id); (film_id, _id);
//	                (film_id, likes -1, _id -1); (film_id, dislikes -1, _id -1)
//	review_votes    {review_id, user_id, value, updated_at} unique (review_id, user_id)
//	bookmarks       {user_id, film_id, created_at}
//	                unique (user_id, film_id); (user_id, created_at -1, film_id -1)
//	outbox          {_id: event id, type, user_id, film_id, review_id, score,
//	                previous_score, vote, previous_vote, occurred_at}, the
//	                events not yet relayed to ClickHouse
//
// UUIDs are stored as BSON binary subtype 4, the standard UUID representation:
// 16 bytes instead of 36 characters in every index entry, shown as UUID(...)
// by the shell, and ordered by MongoDB (for binaries of one length and
// subtype) byte by byte, which is the order the domain gives ids, so keyset
// paging on ids needs no conversion. Times are BSON dates, which hold
// milliseconds: ugc.Now truncates to them so that a time read back equals the
// time written.
//
// # Derived counters
//
// Film distributions and review vote counters are derived from ratings and
// votes and changed with $inc by the delta that the source write reports: the
// source write is a findOneAndUpdate (or findOneAndDelete) that returns the
// document as it was before, so the previous score or vote is known
// atomically even when requests race, and concurrent deltas add up.
//
// On a replica set or sharded cluster the source write and the counter write
// run in one multi-document transaction. On a standalone server, which has no
// transactions, they run one after the other, source first: the delta can only
// be known from the source write's before-image, and a crash between the two
// leaves the source rows right and only a counter off, which
// ReconcileSummaries repairs. Deleting a review removes its votes before the
// review for the same reason: a crash in between leaves a review whose
// counters outnumber its votes, which reconciling repairs, rather than votes
// that nothing refers to.
//
// # Outbox
//
// Every change also inserts its ugc.Event into the outbox collection, inside
// the change's transaction on a replica set, so the event exists exactly when
// the change does; the relay deletes events once ClickHouse has them. On a
// standalone server the event is inserted last, after the source and counter
// writes, because its values (the previous score or vote) come from the
// source write's before-image. A crash in that window loses the one event of
// a change that did happen: the relay cannot resolve it, and so analytics is
// exact only on a replica set, which is what the operator deploys (a single
// member is a replica set too). A standalone server is for development.
//
// Only operations that FerretDB v1 also implements correctly are used (point
// reads, upserts, $inc, $set, $setOnInsert, index-backed range scans, unique
// indexes, deleteMany): no aggregation pipelines. ReconcileSummaries therefore
// recomputes counters in Go from sorted scans.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// Collection names.
const (
	ratingsCollection   = "ratings"
	summariesCollection = "film_summaries"
	reviewsCollection   = "reviews"
	votesCollection     = "review_votes"
	bookmarksCollection = "bookmarks"
	outboxCollection    = "outbox"
)

// DefaultOpTimeout bounds every call the store makes to the server.
const DefaultOpTimeout = 5 * time.Second

// upsertAttempts is how often an upsert that lost a unique-index race to a
// concurrent upsert of the same key is tried: the second try finds the
// winner's document and updates it.
const upsertAttempts = 3

var _ ugc.Store = (*Store)(nil)

// Store is a ugc.Store kept in one MongoDB database. It is safe for concurrent
// use.
type Store struct {
	client    *mongodrv.Client
	db        *mongodrv.Database
	opTimeout time.Duration
	txn       bool
	noEvents  bool

	ratings, summaries, reviews, votes, bookmarks, outbox *mongodrv.Collection
}

// Option configures Open.
type Option func(*config)

type config struct {
	opTimeout      time.Duration
	noTransactions bool
	noEvents       bool
}

// WithOpTimeout bounds each call to the server (each page of a scan, for
// ReconcileSummaries) by d instead of DefaultOpTimeout.
func WithOpTimeout(d time.Duration) Option {
	return func(c *config) { c.opTimeout = d }
}

// WithoutTransactions makes the store write in order without transactions
// even when the deployment supports them, as it does on a standalone server.
// It exists to exercise that path against a replica set.
func WithoutTransactions() Option {
	return func(c *config) { c.noTransactions = true }
}

// WithoutEvents makes the store record no events in its outbox: for
// deployments without analytics, where nothing would ever drain it.
func WithoutEvents() Option {
	return func(c *config) { c.noEvents = true }
}

// Open connects to the deployment at uri, pings it and returns a store that
// keeps its collections in database. Writes use write concern majority unless
// the URI sets another. Open finds out whether the deployment supports
// multi-document transactions (a replica set or sharded cluster does) and uses
// them if so. Call Migrate before serving.
func Open(ctx context.Context, uri, database string, opts ...Option) (*Store, error) {
	cfg := config{opTimeout: DefaultOpTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.opTimeout <= 0 {
		return nil, fmt.Errorf("mongo: op timeout must be positive, got %v", cfg.opTimeout)
	}
	if database == "" {
		return nil, errors.New("mongo: database name is empty")
	}

	co := options.Client().ApplyURI(uri)
	if co.WriteConcern == nil {
		co.SetWriteConcern(writeconcern.Majority())
	}
	if co.ConnectTimeout == nil {
		co.SetConnectTimeout(10 * time.Second)
	}
	if co.ServerSelectionTimeout == nil {
		co.SetServerSelectionTimeout(10 * time.Second)
	}
	client, err := mongodrv.Connect(co, options.Client().SetRegistry(newRegistry()))
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}

	s := &Store{client: client, db: client.Database(database), opTimeout: cfg.opTimeout, noEvents: cfg.noEvents}
	s.ratings = s.db.Collection(ratingsCollection)
	s.summaries = s.db.Collection(summariesCollection)
	s.reviews = s.db.Collection(reviewsCollection)
	s.votes = s.db.Collection(votesCollection)
	s.bookmarks = s.db.Collection(bookmarksCollection)
	s.outbox = s.db.Collection(outboxCollection)

	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	txn, err := s.supportsTransactions(ctx)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.txn = txn && !cfg.noTransactions
	return s, nil
}

// supportsTransactions asks the server what it is: members of a replica set
// report a setName and mongos reports msg "isdbgrid"; both run multi-document
// transactions, provided the server supports sessions at all. A standalone
// server (and FerretDB v1) does not.
func (s *Store) supportsTransactions(ctx context.Context) (bool, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var hello struct {
		SetName        string `bson:"setName"`
		Msg            string `bson:"msg"`
		SessionTimeout *int64 `bson:"logicalSessionTimeoutMinutes"`
	}
	admin := s.client.Database("admin")
	err := admin.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello)
	var se mongodrv.ServerError
	if errors.As(err, &se) && se.HasErrorCode(59) { // CommandNotFound: a server before 4.4.2
		err = admin.RunCommand(ctx, bson.D{{Key: "isMaster", Value: 1}}).Decode(&hello)
	}
	if err != nil {
		return false, fmt.Errorf("mongo: hello: %w", err)
	}
	return (hello.SetName != "" || hello.Msg == "isdbgrid") && hello.SessionTimeout != nil, nil
}

// Transactional reports whether the store changes source rows and their
// counters in multi-document transactions (true) or in ordered writes whose
// interruption ReconcileSummaries repairs (false).
func (s *Store) Transactional() bool { return s.txn }

// Database returns the database that holds the store's collections, for
// operational tools and tests that must reach behind the store. Writes made
// through it bypass the derived counters.
func (s *Store) Database() *mongodrv.Database { return s.db }

// Migrate creates the collections' indexes. Creating an index that already
// exists with the same keys and options is a no-op on the server, so Migrate
// is idempotent and safe while other instances serve.
func (s *Store) Migrate(ctx context.Context) error {
	unique := func() *options.IndexOptionsBuilder { return options.Index().SetUnique(true) }
	indexes := []struct {
		coll   *mongodrv.Collection
		models []mongodrv.IndexModel
	}{
		{s.ratings, []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "film_id", Value: 1}}, Options: unique()},
			{Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "updated_at", Value: -1}, {Key: "film_id", Value: -1}}},
			// Lets ReconcileSummaries scan ratings grouped by film, and
			// recount one film, without sorting in memory.
			{Keys: bson.D{{Key: "film_id", Value: 1}, {Key: "score", Value: 1}}},
		}},
		{s.reviews, []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "film_id", Value: 1}, {Key: "author_id", Value: 1}}, Options: unique()},
			{Keys: bson.D{{Key: "film_id", Value: 1}, {Key: "_id", Value: 1}}},
			{Keys: bson.D{{Key: "film_id", Value: 1}, {Key: "likes", Value: -1}, {Key: "_id", Value: -1}}},
			{Keys: bson.D{{Key: "film_id", Value: 1}, {Key: "dislikes", Value: -1}, {Key: "_id", Value: -1}}},
		}},
		{s.votes, []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "review_id", Value: 1}, {Key: "user_id", Value: 1}}, Options: unique()},
		}},
		{s.bookmarks, []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "film_id", Value: 1}}, Options: unique()},
			{Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "film_id", Value: -1}}},
		}},
	}
	// One createIndexes command per index: FerretDB v1 panics on a command
	// that names two or more indexes which already exist, and on MongoDB the
	// difference is only a round trip per index.
	for _, ix := range indexes {
		for _, m := range ix.models {
			ctx, cancel := s.op(ctx)
			_, err := ix.coll.Indexes().CreateOne(ctx, m)
			cancel()
			if err != nil {
				return fmt.Errorf("mongo: create index %v of %s: %w", m.Keys, ix.coll.Name(), err)
			}
		}
	}
	// film_summaries and outbox need only their _id index, which the server
	// creates; they are created explicitly so that a first write to them is
	// not also the collection's creation inside a transaction.
	for _, name := range []string{summariesCollection, outboxCollection} {
		ctx, cancel := s.op(ctx)
		err := s.db.CreateCollection(ctx, name)
		cancel()
		if err != nil && !isNamespaceExists(err) {
			return fmt.Errorf("mongo: create %s: %w", name, err)
		}
	}
	return nil
}

// isNamespaceExists reports the error of creating a collection that exists.
func isNamespaceExists(err error) bool {
	var se mongodrv.ServerError
	return errors.As(err, &se) && se.HasErrorCode(48)
}

// Ping reports whether the primary can be reached now.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("mongo: ping: %w", err)
	}
	return nil
}

// Close disconnects from the deployment, waiting up to the op timeout for
// operations in flight.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opTimeout)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: disconnect: %w", err)
	}
	return nil
}

// op bounds one call to the server.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opTimeout)
}

// change runs fn, the writes of one logical change, in a multi-document
// transaction when the deployment supports them and directly otherwise (the
// package comment says why that order of writes is safe). fn may run more
// than once: the driver retries transient transaction errors, and change
// retries a transaction that lost a unique-index race, so fn must set its
// results afresh on every run.
func (s *Store) change(ctx context.Context, fn func(ctx context.Context) error) error {
	if !s.txn {
		return fn(ctx)
	}
	sess, err := s.client.StartSession()
	if err != nil {
		return fmt.Errorf("mongo: start session: %w", err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	txnOpts := options.Transaction().
		SetReadConcern(readconcern.Snapshot()).
		SetWriteConcern(writeconcern.Majority())
	for attempt := 1; ; attempt++ {
		_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
			return nil, fn(ctx)
		}, txnOpts)
		if !mongodrv.IsDuplicateKeyError(err) || attempt == upsertAttempts {
			return err
		}
	}
}

// retryUpsert runs an upsert again when it failed with a duplicate key: two
// upserts of one new key can both miss and both insert, and the loser then
// finds the winner's document when it tries again. Real MongoDB does this as
// well as FerretDB.
func retryUpsert(fn func() error) error {
	var err error
	for range upsertAttempts {
		if err = fn(); !mongodrv.IsDuplicateKeyError(err) {
			return err
		}
	}
	return err
}

// keysetAfter returns the filter of rows strictly after (key, id) in an order
// descending on key and then on id. The $lte bound repeats what the $or
// implies so that the scan of the (…, key -1, id -1) index starts at the
// cursor whichever plan the server picks, and deep pages cost no more than
// the first.
func keysetAfter(keyField string, key any, idField string, id uuid.UUID) bson.D {
	return bson.D{
		{Key: keyField, Value: bson.D{{Key: "$lte", Value: key}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: keyField, Value: bson.D{{Key: "$lt", Value: key}}}},
			bson.D{{Key: keyField, Value: key}, {Key: idField, Value: bson.D{{Key: "$lt", Value: id}}}},
		}},
	}
}

// find reads up to limit documents of a sorted range scan into out.
func find[T any](ctx context.Context, coll *mongodrv.Collection, filter bson.D, sort bson.D, limit int) ([]T, error) {
	cur, err := coll.Find(ctx, filter, options.Find().SetSort(sort).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := []T{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// fromMillis is the time a cursor key of UnixMilli stands for.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// UUID codec: uuid.UUID is a [16]byte, which the driver would otherwise write
// as generic binary (subtype 0) or read back only from that.

var uuidType = reflect.TypeFor[uuid.UUID]()

func newRegistry() *bson.Registry {
	r := bson.NewRegistry()
	r.RegisterTypeEncoder(uuidType, bson.ValueEncoderFunc(encodeUUID))
	r.RegisterTypeDecoder(uuidType, bson.ValueDecoderFunc(decodeUUID))
	return r
}

func encodeUUID(_ bson.EncodeContext, vw bson.ValueWriter, v reflect.Value) error {
	if !v.IsValid() || v.Type() != uuidType {
		return bson.ValueEncoderError{Name: "encodeUUID", Types: []reflect.Type{uuidType}, Received: v}
	}
	id := v.Interface().(uuid.UUID)
	return vw.WriteBinaryWithSubtype(id[:], bson.TypeBinaryUUID)
}

func decodeUUID(_ bson.DecodeContext, vr bson.ValueReader, v reflect.Value) error {
	if !v.CanSet() || v.Type() != uuidType {
		return bson.ValueDecoderError{Name: "decodeUUID", Types: []reflect.Type{uuidType}, Received: v}
	}
	if t := vr.Type(); t != bson.TypeBinary {
		return fmt.Errorf("cannot decode BSON %v into a UUID", t)
	}
	b, subtype, err := vr.ReadBinary()
	if err != nil {
		return err
	}
	if subtype != bson.TypeBinaryUUID || len(b) != len(uuid.UUID{}) {
		return fmt.Errorf("cannot decode binary subtype %#x of %d bytes into a UUID", subtype, len(b))
	}
	var id uuid.UUID
	copy(id[:], b)
	v.Set(reflect.ValueOf(id))
	return nil
}

// after is ugc.NextTime for a user's next document of coll, in a listing
// ordered newest first by field (concurrent writes of one user have no
// order to keep). It reads the listing's index (user, field descending).
func (s *Store) after(ctx context.Context, coll *mongodrv.Collection, field string, user uuid.UUID) (time.Time, error) {
	opts := options.FindOne().SetSort(bson.D{{Key: field, Value: -1}}).SetProjection(bson.D{{Key: field, Value: 1}, {Key: "_id", Value: 0}})
	var doc bson.M
	err := coll.FindOne(ctx, bson.D{{Key: "user_id", Value: user}}, opts).Decode(&doc)
	if err != nil && !errors.Is(err, mongodrv.ErrNoDocuments) {
		return time.Time{}, fmt.Errorf("mongo: latest %s: %w", field, err)
	}
	var latest time.Time
	if t, ok := doc[field].(bson.DateTime); ok {
		latest = t.Time()
	}
	return ugc.NextTime(latest), nil
}
