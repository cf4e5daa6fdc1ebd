package ugc

import "context"

// Store is a system of record for all UGC: the embedded SQLite store for one
// machine and MongoDB in production implement it, and one behavioural suite
// (package storetest) holds both to the same contracts.
type Store interface {
	RatingService
	ReviewService
	BookmarkService

	// Outbox holds the events of every change, recorded atomically with it
	// (where the deployment allows: see each store), for the relay to
	// ClickHouse.
	Outbox

	// Migrate creates the tables or collections and indexes the store needs.
	// It is idempotent and safe to run while another instance serves.
	Migrate(ctx context.Context) error

	// Ping reports whether the store can serve requests now.
	Ping(ctx context.Context) error

	// ReconcileSummaries recomputes every derived counter (film
	// distributions, review like and dislike counts) from the source rows and
	// rewrites those that drifted.
	ReconcileSummaries(ctx context.Context) (*ReconcileReport, error)

	// Close releases the store's connections.
	Close() error
}

// ReconcileReport says what ReconcileSummaries checked and repaired.
type ReconcileReport struct {
	FilmsChecked    int `json:"films_checked"`
	FilmsRepaired   int `json:"films_repaired"`
	ReviewsChecked  int `json:"reviews_checked"`
	ReviewsRepaired int `json:"reviews_repaired"`
}
