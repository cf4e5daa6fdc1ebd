package clickhouse_test

import (
	"strings"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse/chtest"
)

const growDB = "ugc_grow"

// TestSinkGrowsIntoCluster runs one real server alone, grows it into a
// two-shard cluster on its data, and reads every event exactly once through
// the cluster afterwards, on the shard of its film, with the aggregates
// rebuilt. On the way it meets what a roll-out meets: a move that died after
// setting the old table aside, a relay of the old configuration writing into
// a table it created again, a batch re-sent across the move, and a relay
// connected to the new server rather than the one that holds the data.
// Shrinking back to one server is refused.
func TestSinkGrowsIntoCluster(t *testing.T) {
	srv := chtest.Start(t)
	ctx := t.Context()
	alone := srv.Sink(t, growDB)
	var sent []ugc.Event
	insert := func(sink *clickhouse.Sink, events []ugc.Event) {
		t.Helper()
		if err := sink.InsertEvents(ctx, events); err != nil {
			t.Fatal(err)
		}
	}
	newEvents := func(n int) []ugc.Event {
		var events []ugc.Event
		for i := range n {
			user, film := uuid.New(), uuid.New()
			if i%3 == 0 {
				events = append(events, ugc.NewEvent(ugc.EventBookmarkAdded, user, film))
			} else {
				events = append(events, ugc.RatingSetEvent(user, film, i%11, nil))
			}
		}
		sent = append(sent, events...)
		return events
	}
	before := newEvents(120)
	insert(alone, before)
	insert(alone, before[:30]) // a retried batch, folded by the server alone

	cluster := chtest.StartCluster(t, 2, srv)
	// A move that died after setting the raw table aside, and then a relay
	// of the old configuration that created the table again and wrote to it.
	exec(t, srv, "RENAME TABLE "+growDB+".ugc_events TO "+growDB+".ugc_events_single")
	insert(srv.Sink(t, growDB), newEvents(10))

	grown, err := clickhouse.Open(clickhouse.Config{Addr: []string{cluster.Shards[1].Addr}, Database: growDB, Cluster: cluster.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = grown.Close() })
	for range 2 { // the move is done once; the second start finds nothing to move
		if err := grown.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	insert(grown, newEvents(80))
	insert(grown, before[:20]) // a batch the old relay sent and was not sure of

	want := map[uuid.UUID]uuid.UUID{} // event id → film
	ratings := 0
	for _, e := range sent {
		want[e.ID] = e.FilmID
		if e.Type == ugc.EventRatingSet {
			ratings++
		}
	}
	got := eventCounts(t, grown, "SELECT event_id, film_id FROM "+growDB+".ugc_events FINAL")
	if len(got) != len(want) {
		t.Fatalf("the cluster reads %d distinct events, want %d", len(got), len(want))
	}
	for id := range want {
		if got[id] != 1 {
			t.Fatalf("event %s is read %d times through the cluster, want once", id, got[id])
		}
	}
	var counted uint64
	if err := grown.QueryRow(ctx, "SELECT uniqExactMerge(events) FROM "+growDB+".ugc_film_ratings_daily").Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if counted != uint64(ratings) {
		t.Fatalf("the ratings aggregate counts %d events, want %d (rebuilt from the moved events)", counted, ratings)
	}

	held := map[uuid.UUID]int{} // event id → shards holding it
	for i, shard := range cluster.Shards {
		local := srvSink(t, shard)
		ids := eventCounts(t, local, "SELECT event_id, film_id FROM "+growDB+".ugc_events_local FINAL")
		if len(ids) == 0 {
			t.Fatalf("shard %d holds no events", i+1)
		}
		for id := range ids {
			held[id]++
		}
		var leftovers []string
		rows, err := local.Query(ctx, "SELECT name FROM system.tables WHERE database = '"+growDB+"' AND (name LIKE '%_single' OR (name LIKE '%_mv' AND name NOT LIKE '%_local_mv'))")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			leftovers = append(leftovers, name)
		}
		rows.Close()
		if len(leftovers) > 0 {
			t.Fatalf("shard %d keeps the single server's %v after the move", i+1, leftovers)
		}
	}
	for id, n := range held {
		if n != 1 {
			t.Fatalf("event %s (film %s) is held by %d shards: the move did not send it to its film's shard", id, want[id], n)
		}
	}

	back, err := clickhouse.Open(clickhouse.Config{Addr: []string{srv.Addr}, Database: growDB})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = back.Close() })
	if err := back.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "shrinking ClickHouse to one server is not migrated") {
		t.Fatalf("a single-server relay over the cluster's tables: %v, want the shrink refused", err)
	}
}

// eventCounts counts the rows of each event id a query of (event_id, film_id)
// returns.
func eventCounts(t *testing.T, sink *clickhouse.Sink, query string) map[uuid.UUID]int {
	t.Helper()
	rows, err := sink.Query(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := map[uuid.UUID]int{}
	for rows.Next() {
		var id, film uuid.UUID
		if err := rows.Scan(&id, &film); err != nil {
			t.Fatal(err)
		}
		n[id]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// exec runs one statement on a server as the test, not as a relay.
func exec(t *testing.T, s *chtest.Server, stmt string) {
	t.Helper()
	conn, err := ch.Open(&ch.Options{Addr: []string{s.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(t.Context(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
