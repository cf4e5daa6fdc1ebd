package metrics_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ugcstack/ugcstack/ugc-service/metrics"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

func TestInstrumentStoreRecordsOutcomes(t *testing.T) {
	s, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := metrics.New()
	store := m.InstrumentStore(s)
	user, film := uuid.New(), uuid.New()
	if _, err := store.SetRating(t.Context(), user, film, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := store.GetRating(t.Context(), uuid.New(), film); err == nil {
		t.Fatal("missing rating found")
	}
	if _, err := store.SetRating(t.Context(), user, film, 11); err == nil {
		t.Fatal("score 11 accepted")
	}
	m.ObserveRequest("/x/:id", "GET", 200, time.Millisecond)

	for series, want := range map[string]int{
		`ugc_store_operation_duration_seconds`: 3, // set ok, get not_found, set invalid
		`ugc_http_request_duration_seconds`:    1,
		`ugc_http_requests_total`:              1,
	} {
		if got := testutil.CollectAndCount(m.Registry(), series); got != want {
			t.Errorf("%s has %d series, want %d", series, got, want)
		}
	}
}
