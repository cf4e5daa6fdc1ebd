package mongo_test

import (
	"os"
	"testing"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/mongo"
	"github.com/ugcstack/ugcstack/ugc-service/mongo/mongotest"
	"github.com/ugcstack/ugcstack/ugc-service/storetest"
)

// TestStore runs the behavioural suite against a real MongoDB, each case in a
// fresh database. On a replica set the store uses transactions, so the suite
// runs a second time with ordered writes, the path a standalone server takes.
func TestStore(t *testing.T) {
	uri := os.Getenv("UGC_TEST_MONGO_URI")
	if uri == "" {
		t.Skip("UGC_TEST_MONGO_URI is not set; set it to a MongoDB URI (e.g. mongodb://127.0.0.1:27017/?replicaSet=rs0) " +
			"to run the store suite against a real server; test/ferretdb runs it over the wire against embedded FerretDB")
	}
	opts := storetest.Options{Drift: mongotest.Drift}
	storetest.Run(t, func(t *testing.T) ugc.Store { return mongotest.NewStore(t, uri) }, opts)

	if !mongotest.NewStore(t, uri).Transactional() {
		return
	}
	t.Run("WithoutTransactions", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) ugc.Store {
			return mongotest.NewStore(t, uri, mongo.WithoutTransactions())
		}, opts)
	})
}
