package metrics_test

import (
	"fmt"
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

// TestMadeUpMethodsAddNoSeries: a client can send any token as a method;
// each would be a new series (and memory) if counted by name, so only the
// standard methods are, and every other folds into "other".
func TestMadeUpMethodsAddNoSeries(t *testing.T) {
	m := metrics.New()
	for i := range 1000 {
		m.ObserveRequest("(unmatched)", fmt.Sprintf("M%04d", i), 404, time.Millisecond)
	}
	m.ObserveRequest("(unmatched)", "GET", 404, time.Millisecond)
	if got := testutil.CollectAndCount(m.Registry(), "ugc_http_requests_total"); got != 2 {
		t.Errorf("1,001 requests with 1,001 methods made %d series, want 2 (GET and other)", got)
	}
}
