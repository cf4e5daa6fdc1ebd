package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/ecslog"
	"github.com/ugcstack/ugcstack/ugc-service/metrics"
	"github.com/ugcstack/ugcstack/ugc-service/relay"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

// steps records, in order, what a process released.
type steps struct {
	mu   sync.Mutex
	done []string
}

func (s *steps) note(step string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = append(s.done, step)
}

func (s *steps) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.done)
}

// notingStore is a real store that notes the batches it marks sent and its
// close.
type notingStore struct {
	ugc.Store
	steps *steps
}

func (s notingStore) MarkEventsSent(ctx context.Context, ids []uuid.UUID) error {
	err := s.Store.MarkEventsSent(ctx, ids)
	if err == nil {
		s.steps.note("batch marked")
	}
	return err
}

func (s notingStore) Close() error {
	s.steps.note("store closed")
	return s.Store.Close()
}

// stallingSink holds every batch until the relay is told to stop and then
// takes it, as an insert that lands during shutdown does.
type stallingSink struct {
	steps     *steps
	inserting chan struct{}
}

func (s *stallingSink) InsertEvents(ctx context.Context, _ []ugc.Event) error {
	s.inserting <- struct{}{}
	<-ctx.Done()
	return nil
}

func (s *stallingSink) Close() error {
	s.steps.note("sink closed")
	return nil
}

// logOutput notes the buffered log reaching stdout.
type logOutput struct{ steps *steps }

func (o logOutput) Write(p []byte) (int, error) {
	o.steps.note("log flushed")
	return len(p), nil
}

// TestCloseOrder stops a process whose relay is mid-batch: the batch must be
// marked sent before the store closes, and each later step must wait for the
// one before it.
func TestCloseOrder(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRating(ctx, uuid.New(), uuid.New(), 7); err != nil {
		t.Fatal(err) // an event in the outbox for the relay to take
	}

	done := &steps{}
	logOut := ecslog.NewBufferedWriter(logOutput{done}, 64<<10, time.Hour) // flushed only by Close
	p := &process{
		logOut:      logOut,
		logger:      ecslog.New(logOut, slog.LevelInfo),
		flushSentry: func() { done.note("sentry flushed") },
		store:       notingStore{Store: s, steps: done},
		metrics:     metrics.New(),
	}
	sink := &stallingSink{steps: done, inserting: make(chan struct{})}
	if p.relay, err = relay.New(p.store, sink, relay.DefaultConfig, p.logger, nil, p.metrics.Registry()); err != nil {
		t.Fatal(err)
	}
	p.sink = sink
	p.startRelay(ctx)
	<-sink.inserting
	p.logger.Info("a line for the log to flush")
	p.Close()

	want := []string{"batch marked", "sink closed", "store closed", "sentry flushed", "log flushed"}
	if got := done.list(); !slices.Equal(got, want) {
		t.Fatalf("Close released %q, want %q", got, want)
	}
}

// TestConnectFailureReleases fails connect once the store is open (relay.New
// refuses the relay's configuration): what connect opened must stay in the
// process for Close to release.
func TestConnectFailureReleases(t *testing.T) {
	cfg, err := loadConfig(env(map[string]string{"UGC_DATA_DIR": t.TempDir(), "UGC_CLICKHOUSE_ADDR": "127.0.0.1:1"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Relay.BatchSize = 0
	p, err := openProcess(cfg, io.Discard, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.connect(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "batch size") {
		t.Fatalf("connect = %v, want relay.New to refuse the batch size", err)
	}
	p.Close()
	// Closing the store checkpoints its write-ahead log into the database
	// and removes it; a store left open keeps it.
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "ugc.db-wal")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the store was left open: its WAL is still there (%v)", err)
	}
}
