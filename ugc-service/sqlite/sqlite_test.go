package sqlite_test

import (
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
	"github.com/ugcstack/ugcstack/ugc-service/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, newStore, storetest.Options{Drift: drift})
}

// newStore opens a fresh store in a temporary directory.
func newStore(t *testing.T) ugc.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// drift corrupts the counters behind the store's back by writing the file
// through a second connection of its own.
func drift(t *testing.T, s ugc.Store, filmID, reviewID uuid.UUID) {
	t.Helper()
	db := sqlite.DB(s.(*sqlite.Store))
	if _, err := db.ExecContext(t.Context(),
		`UPDATE film_distributions SET s0 = s0 + 3, s10 = 7 WHERE film_id = ?`, filmID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(),
		`UPDATE reviews SET likes = likes + 5, dislikes = 0 WHERE id = ?`, reviewID); err != nil {
		t.Fatal(err)
	}
}
