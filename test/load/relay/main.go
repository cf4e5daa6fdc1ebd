// Command relay is the benchmark behind `make bench-relay`. Against a real
// clickhouse-server on 127.0.0.1 and the embedded store in a temporary
// directory, it measures:
//
//   - throughput: events per second the relay moves from a full outbox into
//     ClickHouse (read, insert, mark), with the default batch size;
//   - lag: under a steady write rate (1,000 changes/s by default), the time
//     from each change to its event being in ClickHouse, as p50/p99/max,
//     with the relay woken by each write, as `ugc serve --relay` runs it,
//     and polling alone, as a separate `ugc relay` does; each with
//     ClickHouse's data on disk and, where /dev/shm exists, in memory. On a
//     slow disk an insert's files (a part for the table and one for each
//     view) dominate the lag; in memory what is left is the relay's own.
//
// It prints one line per measurement:
//
//	BENCH <name> key=value ...
//
// Writes and the relay run in this process; everything is bounded in count
// and time and stops by itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse/chtest"
	"github.com/ugcstack/ugcstack/ugc-service/relay"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

func main() {
	backlog := flag.Int("backlog", 200_000, "events in the outbox for the throughput run")
	rate := flag.Int("rate", 1000, "changes per second in the lag run")
	duration := flag.Duration("duration", 30*time.Second, "length of the lag run")
	flag.Parse()
	if err := run(*backlog, *rate, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "bench-relay:", err)
		os.Exit(1)
	}
}

// memory is where a ClickHouse's data directory in memory goes.
const memory = "/dev/shm"

func run(backlog, rate int, duration time.Duration) error {
	ch, err := chtest.New()
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := throughput(ch, backlog); err != nil {
		return fmt.Errorf("throughput: %w", err)
	}
	if err := lags(ch, "disk", rate, duration); err != nil {
		return err
	}
	if _, err := os.Stat(memory); err != nil {
		fmt.Printf("BENCH relay_lag clickhouse_data=memory skipped=%q\n", err.Error())
		return nil
	}
	mem, err := chtest.NewIn(memory)
	if err != nil {
		return err
	}
	defer mem.Close()
	return lags(mem, "memory", rate, duration)
}

// lags runs the lag measurement woken and polling against ch, whose data
// is on storage.
func lags(ch *chtest.Server, storage string, rate int, duration time.Duration) error {
	for _, woken := range []bool{true, false} {
		if err := lag(ch, storage, rate, duration, woken); err != nil {
			return fmt.Errorf("lag (%s): %w", storage, err)
		}
	}
	return nil
}

// bench is one run's store, sink and relay.
type bench struct {
	store *sqlite.Store
	sink  *timedSink
	relay *relay.Relay
	dir   string
}

func newBench(ch *chtest.Server, database string) (*bench, error) {
	dir, err := os.MkdirTemp("", "ugc-bench-relay-")
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	sink, err := clickhouse.Open(clickhouse.Config{Addr: []string{ch.Addr}, Database: database})
	if err != nil {
		return nil, errors.Join(err, store.Close(), os.RemoveAll(dir))
	}
	ts := &timedSink{Sink: sink}
	r, err := relay.New(store, ts, relay.DefaultConfig, slog.New(slog.DiscardHandler), nil, prometheus.NewRegistry())
	if err != nil {
		return nil, errors.Join(err, sink.Close(), store.Close(), os.RemoveAll(dir))
	}
	return &bench{store: store, sink: ts, relay: r, dir: dir}, nil
}

func (b *bench) close() {
	_ = errors.Join(b.sink.Close(), b.store.Close(), os.RemoveAll(b.dir))
}

// timedSink records, for every event, how long after its change ClickHouse
// acknowledged it.
type timedSink struct {
	*clickhouse.Sink
	mu      sync.Mutex
	lags    []time.Duration
	inserts int
}

func (s *timedSink) InsertEvents(ctx context.Context, events []ugc.Event) error {
	if err := s.Sink.InsertEvents(ctx, events); err != nil {
		return err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inserts++
	for _, e := range events {
		s.lags = append(s.lags, now.Sub(e.OccurredAt))
	}
	return nil
}

// writer makes rating changes across a catalogue, as users would.
type writer struct {
	store        *sqlite.Store
	users, films []uuid.UUID
}

func newWriter(store *sqlite.Store) *writer {
	w := &writer{store: store}
	for range 5000 {
		w.users = append(w.users, uuid.New())
	}
	for range 2000 {
		w.films = append(w.films, uuid.New())
	}
	return w
}

func (w *writer) write(ctx context.Context, rnd *rand.Rand) error {
	_, err := w.store.SetRating(ctx, w.users[rnd.IntN(len(w.users))], w.films[rnd.IntN(len(w.films))], rnd.IntN(11))
	return err
}

// throughput fills the outbox with n events (32 concurrent writers), then
// times the relay emptying it.
func throughput(ch *chtest.Server, n int) error {
	b, err := newBench(ch, "bench_throughput")
	if err != nil {
		return err
	}
	defer b.close()
	ctx := context.Background()
	if err := b.sink.Migrate(ctx); err != nil {
		return err
	}
	w := newWriter(b.store)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	per := n / 32
	for i := range 32 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(i), 1))
			for range per {
				if err := w.write(ctx, rnd); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	total := per * 32

	start := time.Now()
	sent := 0
	for sent < total {
		k, err := b.relay.Flush(ctx)
		if err != nil {
			return err
		}
		if k == 0 {
			return fmt.Errorf("outbox empty after %d of %d events", sent, total)
		}
		sent += k
	}
	elapsed := time.Since(start)
	fmt.Printf("BENCH relay_throughput events=%d batch=%d seconds=%.2f events_per_s=%.0f\n",
		total, relay.DefaultConfig.BatchSize, elapsed.Seconds(), float64(total)/elapsed.Seconds())
	return nil
}

// lag writes at a steady rate for d with the relay running as in
// production, woken by each write or not, then reports how long each event
// took to reach ClickHouse.
func lag(ch *chtest.Server, storage string, rate int, d time.Duration, woken bool) error {
	mode, database := "polling", "bench_lag_polling"
	if woken {
		mode, database = "woken", "bench_lag_woken"
	}
	b, err := newBench(ch, database)
	if err != nil {
		return err
	}
	defer b.close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	relayDone := make(chan error, 1)
	go func() { relayDone <- b.relay.Run(ctx) }()

	// Every tick starts its share of writes; a write that has not finished
	// by the next tick does not hold the schedule back (open loop).
	const tick = 10 * time.Millisecond
	perTick := max(1, rate*int(tick)/int(time.Second))
	w := newWriter(b.store)
	var wg sync.WaitGroup
	var failed sync.Map
	start := time.Now()
	ticker := time.NewTicker(tick)
	made := 0
	for i := 0; time.Since(start) < d; i++ {
		for j := range perTick {
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(uint64(i), uint64(j)))
				if err := w.write(ctx, rnd); err != nil {
					failed.Store(err.Error(), true)
				} else if woken {
					b.relay.Wake()
				}
			})
		}
		made += perTick
		<-ticker.C
	}
	ticker.Stop()
	wg.Wait()
	wrote := time.Since(start)
	var failure error
	failed.Range(func(k, _ any) bool { failure = errors.New(k.(string)); return false })
	if failure != nil {
		return failure
	}

	deadline := time.Now().Add(time.Minute)
	for {
		st, err := b.store.OutboxStats(context.Background())
		if err != nil {
			return err
		}
		if st.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("outbox not drained a minute after the writes: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := <-relayDone; err != nil {
		return err
	}

	lags := b.sink.lags
	slices.Sort(lags)
	q := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))].Microseconds()) / 1000 }
	fmt.Printf("BENCH relay_lag clickhouse_data=%s mode=%s writes=%d writes_per_s=%.0f events=%d inserts=%d interval_ms=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
		storage, mode, made, float64(made)/wrote.Seconds(), len(lags), b.sink.inserts, relay.DefaultConfig.Interval.Milliseconds(), q(0.50), q(0.99), q(1))
	return nil
}
