package relay_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse/chtest"
	"github.com/ugcstack/ugcstack/ugc-service/ecslog/ecslogtest"
	"github.com/ugcstack/ugcstack/ugc-service/relay"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

var fast = relay.Config{BatchSize: 40, Interval: 10 * time.Millisecond, Retention: time.Hour, MaxBackoff: 20 * time.Millisecond, InsertTimeout: 10 * time.Second}

// lossySink is the fault hook: on every other batch it inserts into the real
// sink and then reports failure, as when the relay dies or the connection
// drops after ClickHouse took the batch and before the outbox is marked.
type lossySink struct {
	*clickhouse.Sink
	mu         sync.Mutex
	calls      int
	inserted   map[uuid.UUID]int
	duplicated int
}

func (s *lossySink) InsertEvents(ctx context.Context, events []ugc.Event) error {
	if err := s.Sink.InsertEvents(ctx, events); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for _, e := range events {
		s.inserted[e.ID]++
		if s.inserted[e.ID] == 2 {
			s.duplicated++
		}
	}
	if s.calls%2 == 1 {
		return errors.New("connection reset after insert")
	}
	return nil
}

// TestRelayExactlyOnceWhenAcksAreLost makes a few hundred mixed changes in a
// real SQLite store, relays them into a real ClickHouse through a sink that
// loses the acknowledgement of every other batch, and checks ClickHouse ends
// with exactly the store's truth: one event per change and the same film
// distributions, although many events were inserted twice.
func TestRelayExactlyOnceWhenAcksAreLost(t *testing.T) {
	srv := chtest.Start(t)
	ctx := t.Context()
	store, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	sink := srv.Sink(t, "relay_acks")

	films := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	want := makeChanges(t, store, films, 300)

	lossy := &lossySink{Sink: sink, inserted: map[uuid.UUID]int{}}
	r, err := relay.New(store, lossy, fast, slog.New(slog.DiscardHandler), nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	runUntilDrained(t, r, store)

	if lossy.duplicated == 0 {
		t.Fatal("no event was inserted twice: the fault hook did not fire")
	}
	got := chtest.ReadTotals(t, sink, "relay_acks")
	if !equalCounts(got.Events, want) {
		t.Fatalf("ClickHouse holds %v events by type, the store made %v", got.Events, want)
	}
	for _, film := range films {
		s, err := store.FilmSummary(ctx, film)
		if err != nil {
			t.Fatal(err)
		}
		if got.Films[film] != s.Distribution {
			t.Fatalf("film %s: ClickHouse distribution %v, store %v", film, got.Films[film], s.Distribution)
		}
	}
	t.Logf("%d events inserted twice, each counted once", lossy.duplicated)
}

// failingSink never accepts a batch: ClickHouse is down.
type failingSink struct{}

func (failingSink) InsertEvents(context.Context, []ugc.Event) error {
	return errors.New("dial tcp 127.0.0.1:9000: connection refused")
}

// TestRelayAlertsWhenBacklogOutgrowsRetention checks that events waiting
// longer than the retention bound raise an alert and an error log line, and
// that they stay in the outbox.
func TestRelayAlertsWhenBacklogOutgrowsRetention(t *testing.T) {
	store, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if _, err := store.SetRating(t.Context(), uuid.New(), uuid.New(), 5); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)

	var logs ecslogtest.Buffer
	alerts := make(chan error, 10)
	cfg := fast
	cfg.Retention = time.Millisecond
	r, err := relay.New(store, failingSink{}, cfg, slog.New(slog.NewJSONHandler(&logs, nil)),
		func(err error) { alerts <- err }, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	select {
	case err := <-alerts:
		if !strings.Contains(err.Error(), "retention") {
			t.Fatalf("alert = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no alert within 10 s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), "connection refused") {
		t.Fatalf("want an ERROR line for the alert and WARN lines for the failures, got:\n%s", logs.String())
	}
	st, err := store.OutboxStats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 1 {
		t.Fatalf("outbox holds %d events after the alert, want the 1 (never dropped)", st.Pending)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := relay.DefaultConfig.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := relay.Config{BatchSize: 0, Interval: -1}
	err := bad.Validate()
	for _, want := range []string{"batch size", "interval", "retention", "max backoff", "insert timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want it to name %s", bad, err, want)
		}
	}
}

// makeChanges makes n random ratings, rating deletions and bookmarks on the
// films by a small set of users and returns how many changes of each type
// the store accepted.
func makeChanges(t *testing.T, s ugc.Store, films []uuid.UUID, n int) map[ugc.EventType]int64 {
	t.Helper()
	ctx := t.Context()
	users := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	made := map[ugc.EventType]int64{}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range n {
		user, film := users[rnd.IntN(len(users))], films[rnd.IntN(len(films))]
		var err error
		var typ ugc.EventType
		switch rnd.IntN(4) {
		case 0:
			typ, err = ugc.EventRatingDeleted, s.DeleteRating(ctx, user, film)
		case 1:
			var created bool
			_, created, err = s.AddBookmark(ctx, user, film)
			if !created {
				continue
			}
			typ = ugc.EventBookmarkAdded
		default:
			typ = ugc.EventRatingSet
			_, err = s.SetRating(ctx, user, film, rnd.IntN(11))
		}
		var e *ugc.Error
		if errors.As(err, &e) && e.Code == ugc.ENOTFOUND {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		made[typ]++
	}
	return made
}

// runUntilDrained runs the relay until the outbox is empty, then stops it.
func runUntilDrained(t *testing.T, r *relay.Relay, o ugc.Outbox) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := o.OutboxStats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox not drained within a minute: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func equalCounts(a, b map[ugc.EventType]int64) bool {
	for _, typ := range ugc.EventTypes {
		if a[typ] != b[typ] {
			return false
		}
	}
	return true
}
