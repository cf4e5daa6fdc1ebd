package relay_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/relay"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

// memorySink keeps what it is sent, and calls onInsert for each batch.
type memorySink struct {
	mu       sync.Mutex
	got      map[uuid.UUID]bool
	onInsert func()
}

func (s *memorySink) InsertEvents(_ context.Context, events []ugc.Event) error {
	s.mu.Lock()
	for _, e := range events {
		s.got[e.ID] = true
	}
	f := s.onInsert
	s.onInsert = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

func (s *memorySink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// runRelay runs a relay from store to sink whose Interval is an hour, so
// that only Wake or the adaptive poll can bring an event in the seconds a
// test waits; it stops when the test ends.
func runRelay(t *testing.T, store *sqlite.Store, sink *memorySink) *relay.Relay {
	t.Helper()
	cfg := relay.DefaultConfig
	cfg.Interval = time.Hour
	r, err := relay.New(store, sink, cfg, slog.New(slog.DiscardHandler), nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	t.Cleanup(func() {
		stop()
		<-done
	})
	go func() { done <- r.Run(ctx) }()
	return r
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	store, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

func waitForEvents(t *testing.T, sink *memorySink, n int, why string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); sink.count() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d events in the sink after 10 s (the relay's Interval is an hour)", why, sink.count(), n)
		}
	}
}

// TestWakeCutsTheIdleWaitShort: a relay in the API's process is woken by
// each write, so an event does not wait out the poll interval (500 ms by
// default: p99 lag was ~530 ms at 1,000 writes/s).
func TestWakeCutsTheIdleWaitShort(t *testing.T) {
	store, sink := openStore(t), &memorySink{got: map[uuid.UUID]bool{}}
	r := runRelay(t, store, sink)
	time.Sleep(50 * time.Millisecond) // the first look found nothing: idle
	if _, err := store.SetRating(t.Context(), uuid.New(), uuid.New(), 7); err != nil {
		t.Fatal(err)
	}
	r.Wake()
	waitForEvents(t, sink, 1, "after Wake")
}

// TestRelayPollsSoonerWhileEventsCome: a relay without Wake (`ugc relay`
// beside the API) looks again after a short gather while the last batch
// was not empty, not after its Interval.
func TestRelayPollsSoonerWhileEventsCome(t *testing.T) {
	store := openStore(t)
	if _, err := store.SetRating(t.Context(), uuid.New(), uuid.New(), 1); err != nil {
		t.Fatal(err)
	}
	sink := &memorySink{got: map[uuid.UUID]bool{}}
	// The next event is recorded while the first batch is being inserted.
	sink.onInsert = func() {
		if _, err := store.SetRating(context.Background(), uuid.New(), uuid.New(), 2); err != nil {
			t.Error(err)
		}
	}
	runRelay(t, store, sink)
	waitForEvents(t, sink, 2, "the event recorded during an insert")
}
