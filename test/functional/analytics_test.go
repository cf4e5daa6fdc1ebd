package functional

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse/chtest"
)

// analyticsEnv configures `ugc serve --relay` against the test's ClickHouse,
// with a short interval so that the tests wait little.
func analyticsEnv(ch *chtest.Server, database, dataDir string) []string {
	return []string{
		"UGC_DATA_DIR=" + dataDir, "UGC_CLICKHOUSE_ADDR=" + ch.Addr, "UGC_CLICKHOUSE_DATABASE=" + database,
		"UGC_RELAY_INTERVAL=50ms", "UGC_RELAY_BATCH_SIZE=1000",
	}
}

// TestAnalyticsSurvivesClickHouseOutage stops ClickHouse during a burst of
// 10,000 API writes and starts it again: afterwards the deduplicated events
// in ClickHouse equal what the API confirmed, change for change, and add up
// to the store's film summaries and bookmark lists exactly.
func TestAnalyticsSurvivesClickHouseOutage(t *testing.T) {
	ch := chtest.Start(t)
	sink := ch.Sink(t, "outage")
	s := launch(t, []string{"serve", "--relay"}, analyticsEnv(ch, "outage", t.TempDir())...)
	w := newWorkload(t, 40, 25, s)

	const total = 10_000
	done := w.start(total, 16)
	waitFor(t, func() bool { return w.attempted.Load() >= 2_000 }, "2,000 writes")
	stopping := w.attempted.Load()
	ch.Stop()
	stopped := w.attempted.Load()
	waitFor(t, func() bool { return w.attempted.Load() >= 7_000 }, "7,000 writes")
	restarting := w.attempted.Load()
	if err := ch.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("ClickHouse stopping at write %d, down from write %d, starting again at write %d, up at write %d",
		stopping, stopped, restarting, w.attempted.Load())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w.unknown.Load() != 0 {
		t.Fatalf("%d writes failed although the API stayed up", w.unknown.Load())
	}

	waitDrained(t, s)
	m := s.metrics(t)
	if !strings.Contains(m, `ugc_relay_failures_total{step="insert"}`) {
		t.Fatal("the relay never failed an insert: ClickHouse's outage did not reach it")
	}
	for _, want := range []string{"\nugc_outbox_pending_events 0\n", "\nugc_outbox_oldest_event_age_seconds 0\n", "\nugc_relay_events_total "} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q after the outbox drained", strings.TrimSpace(want))
		}
	}
	got := chtest.ReadTotals(t, sink, "outage")
	for _, typ := range ugc.EventTypes {
		if got.Events[typ] != w.confirmed(typ) {
			t.Errorf("%s: ClickHouse holds %d, the API confirmed %d", typ, got.Events[typ], w.confirmed(typ))
		}
	}
	w.checkTruth(t, s, got)
}

// TestAnalyticsSurvivesAPICrash kills the API (SIGKILL) in the middle of a
// stream of writes, starts it again on the same data, and checks that every
// change the store kept reached ClickHouse exactly once.
func TestAnalyticsSurvivesAPICrash(t *testing.T) {
	ch := chtest.Start(t)
	sink := ch.Sink(t, "crash")
	env := analyticsEnv(ch, "crash", t.TempDir())
	s := launch(t, []string{"serve", "--relay"}, env...)
	w := newWorkload(t, 30, 20, s)

	done := w.start(4_000, 8)
	waitFor(t, func() bool { return w.attempted.Load() >= 1_500 }, "1,500 writes")
	s.kill()
	s = launch(t, []string{"serve", "--relay"}, env...)
	w.target.Store(s)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w.unknown.Load() == 0 {
		t.Fatal("no write saw the crash: the API was not killed mid-stream")
	}
	t.Logf("%d writes were cut off by the crash; their outcome is whatever the store kept", w.unknown.Load())

	waitDrained(t, s)
	w.checkTruth(t, s, chtest.ReadTotals(t, sink, "crash"))
}

// workload makes random rating and bookmark writes through the API.
type workload struct {
	users  []user
	films  []uuid.UUID
	target atomic.Pointer[server]

	attempted, unknown atomic.Int64
	mu                 sync.Mutex
	made               map[ugc.EventType]int64
}

func newWorkload(t *testing.T, users, films int, s *server) *workload {
	w := &workload{made: map[ugc.EventType]int64{}}
	for range users {
		w.users = append(w.users, newUser(t))
	}
	for range films {
		w.films = append(w.films, uuid.New())
	}
	w.target.Store(s)
	return w
}

// start makes n writes from the given number of clients in the background;
// the channel yields the first unexpected answer, or nil.
func (w *workload) start(n int64, clients int) <-chan error {
	out := make(chan error, 1)
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(c), 7))
			for w.attempted.Add(1) <= n {
				if err := w.write(rnd); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(errs)
		out <- <-errs // nil when closed empty
	}()
	return out
}

// write makes one change attempt and counts what the API confirmed. A
// transport error (the server is down) leaves the outcome unknown.
func (w *workload) write(rnd *rand.Rand) error {
	u, film := w.users[rnd.IntN(len(w.users))], w.films[rnd.IntN(len(w.films))]
	r := request{As: u}
	var typ ugc.EventType
	var changed int
	switch x := rnd.IntN(10); {
	case x < 5:
		r.Method, r.Path, r.Body = "PUT", "/api/v1/films/"+film.String()+"/rating", map[string]int{"score": rnd.IntN(11)}
		typ, changed = ugc.EventRatingSet, http.StatusOK
	case x < 7:
		r.Method, r.Path = "DELETE", "/api/v1/films/"+film.String()+"/rating"
		typ, changed = ugc.EventRatingDeleted, http.StatusNoContent
	case x < 9:
		r.Method, r.Path = "PUT", "/api/v1/users/me/bookmarks/"+film.String()
		typ, changed = ugc.EventBookmarkAdded, http.StatusCreated
	default:
		r.Method, r.Path = "DELETE", "/api/v1/users/me/bookmarks/"+film.String()
		typ, changed = ugc.EventBookmarkRemoved, http.StatusNoContent
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := w.target.Load().try(ctx, r)
	if err != nil {
		w.unknown.Add(1)
		time.Sleep(20 * time.Millisecond) // the server is restarting
		return nil
	}
	switch resp.Status {
	case changed:
		w.mu.Lock()
		w.made[typ]++
		w.mu.Unlock()
	case http.StatusOK, http.StatusNotFound: // re-added bookmark, nothing to delete
	default:
		return fmt.Errorf("%s %s = %d %s", r.Method, r.Path, resp.Status, resp.Body)
	}
	return nil
}

func (w *workload) confirmed(typ ugc.EventType) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.made[typ]
}

// checkTruth compares what ClickHouse's events add up to with what the
// store serves: every film's distribution and every user's bookmark count.
func (w *workload) checkTruth(t *testing.T, s *server, got chtest.Totals) {
	t.Helper()
	for _, film := range w.films {
		var sum ugc.FilmSummary
		s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/" + film.String() + "/summary"}).Decode(t, &sum)
		if got.Films[film] != sum.Distribution {
			t.Errorf("film %s: ClickHouse adds up to %v, the store has %v", film, got.Films[film], sum.Distribution)
		}
	}
	for _, u := range w.users {
		var l struct{ Items []any }
		s.expect(t, 200, request{Method: "GET", Path: "/api/v1/users/me/bookmarks?limit=100", As: u}).Decode(t, &l)
		if got.Bookmarks[u.ID] != int64(len(l.Items)) {
			t.Errorf("user %s: ClickHouse adds up to %d bookmarks, the store has %d", u.ID, got.Bookmarks[u.ID], len(l.Items))
		}
	}
}

// waitDrained waits until /readyz reports an empty outbox.
func waitDrained(t *testing.T, s *server) {
	t.Helper()
	waitFor(t, func() bool {
		ready := s.expect(t, 200, request{Method: "GET", Path: "/readyz"}).JSON(t)
		ob, _ := ready["outbox"].(map[string]any)
		return ob != nil && ob["pending"] == 0.0
	}, "the outbox to drain")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after 2 minutes", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// metrics returns the server's /metrics text.
func (s *server) metrics(t *testing.T) string {
	t.Helper()
	return string(s.expect(t, 200, request{Method: "GET", Path: "/metrics"}).Body)
}

// TestOutboxFollowsAnalyticsConfig: without ClickHouse configured the API
// keeps no outbox (nothing would drain it); UGC_OUTBOX=on records events for
// a relay elsewhere, visible in /readyz; --relay without events is refused.
func TestOutboxFollowsAnalyticsConfig(t *testing.T) {
	pending := func(s *server) any {
		ob, _ := s.expect(t, 200, request{Method: "GET", Path: "/readyz"}).JSON(t)["outbox"].(map[string]any)
		return ob["pending"]
	}
	rate := func(s *server) {
		s.expect(t, 200, request{Method: "PUT", Path: "/api/v1/films/" + uuid.NewString() + "/rating", As: newUser(t), Body: map[string]int{"score": 3}})
	}
	off := start(t)
	rate(off)
	if got := pending(off); got != 0.0 {
		t.Fatalf("no analytics configured, yet %v events pending", got)
	}
	on := start(t, "UGC_OUTBOX=on")
	rate(on)
	if got := pending(on); got != 1.0 {
		t.Fatalf("UGC_OUTBOX=on: %v events pending, want 1", got)
	}

	cmd := exec.Command(binary, "serve", "--relay")
	cmd.Env = []string{"UGC_JWT_SECRET=" + secret, "UGC_CLICKHOUSE_ADDR=127.0.0.1:9", "UGC_OUTBOX=off", "UGC_DATA_DIR=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "UGC_OUTBOX=off") {
		t.Fatalf("serve --relay with the outbox off: %v\n%s", err, out)
	}
}
