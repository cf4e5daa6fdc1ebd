package clickhouse_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse/chtest"
)

// TestSinkAgainstServer creates the schema twice (it is idempotent), inserts
// every event type, inserts the same batch again as a relay retry would, and
// reads back exactly one row per event, with its values, through the
// deduplicating query and through the aggregate views.
func TestSinkAgainstServer(t *testing.T) {
	srv := chtest.Start(t)
	ctx := t.Context()
	sink := srv.Sink(t, "ugc_test")
	if err := sink.Migrate(ctx); err != nil { // again: the schema is idempotent
		t.Fatal(err)
	}

	user, voter, film, review := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	prev := 4
	events := []ugc.Event{
		ugc.RatingSetEvent(user, film, 8, nil),
		ugc.RatingSetEvent(voter, film, 6, &prev),
		ugc.RatingDeletedEvent(voter, film, 6),
		ugc.ReviewEvent(ugc.EventReviewCreated, user, film, review),
		ugc.VoteEvent(voter, film, review, ugc.VoteLike, ""),
		ugc.VoteEvent(voter, film, review, "", ugc.VoteLike),
		ugc.NewEvent(ugc.EventBookmarkAdded, voter, film),
	}
	for _, e := range events {
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := sink.InsertEvents(ctx, events[:3]); err != nil { // a retried batch
		t.Fatal(err)
	}

	rows, err := sink.Query(ctx, `SELECT event_id, type, user_id, film_id, review_id, score, previous_score, vote, previous_vote, occurred_at
		FROM ugc_test.ugc_events FINAL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []ugc.Event
	for rows.Next() {
		var (
			e               ugc.Event
			typ, vote, prev string
			score, previous *uint8
		)
		if err := rows.Scan(&e.ID, &typ, &e.UserID, &e.FilmID, &e.ReviewID, &score, &previous, &vote, &prev, &e.OccurredAt); err != nil {
			t.Fatal(err)
		}
		e.Type, e.Vote, e.PreviousVote = ugc.EventType(typ), ugc.VoteValue(vote), ugc.VoteValue(prev)
		e.Score, e.PreviousScore = widen(score), widen(previous)
		got = append(got, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(events) {
		t.Fatalf("FINAL read %d events, want %d (one per event id)", len(got), len(events))
	}
	// ClickHouse orders UUIDs by their two halves as integers, not bytewise.
	byID := func(a, b ugc.Event) int { return bytes.Compare(a.ID[:], b.ID[:]) }
	slices.SortFunc(got, byID)
	slices.SortFunc(events, byID)
	for i, want := range events {
		g := got[i]
		if g.ID != want.ID || g.Type != want.Type || g.UserID != want.UserID || g.FilmID != want.FilmID ||
			g.ReviewID != want.ReviewID || !samePtr(g.Score, want.Score) || !samePtr(g.PreviousScore, want.PreviousScore) ||
			g.Vote != want.Vote || g.PreviousVote != want.PreviousVote ||
			!g.OccurredAt.Equal(want.OccurredAt.Truncate(time.Second)) {
			t.Fatalf("event %d read back as %+v, want %+v", i, g, want)
		}
	}

	// The views count each event once, although three were inserted twice.
	var ratings uint64
	err = sink.QueryRow(ctx, `SELECT uniqExactMerge(events) FROM ugc_test.ugc_film_ratings_daily WHERE film_id = ?`, film).Scan(&ratings)
	if err != nil {
		t.Fatal(err)
	}
	if ratings != 2 {
		t.Fatalf("daily ratings view counts %d rating_set events, want 2", ratings)
	}
}

func widen(p *uint8) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

func samePtr(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// TestSinkOnCluster runs the schema ON CLUSTER against a real two-shard
// cluster (two servers and ZooKeeper), relays events for many films through
// the Distributed table, sends a batch again, and reads back exactly one row
// per event through the Distributed table's FINAL, with both shards holding
// some: a re-sent event lands on the shard of its film and merges there.
func TestSinkOnCluster(t *testing.T) {
	cluster := chtest.StartCluster(t, 2)
	ctx := t.Context()
	sink, err := clickhouse.Open(clickhouse.Config{Addr: cluster.Addrs()[:1], Database: "ugc_cluster", Cluster: cluster.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	for range 2 { // idempotent on a cluster too
		if err := sink.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var events []ugc.Event
	for range 200 {
		events = append(events, ugc.RatingSetEvent(uuid.New(), uuid.New(), 7, nil))
	}
	if err := sink.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := sink.InsertEvents(ctx, events[:120]); err != nil {
		t.Fatal(err)
	}
	var total uint64
	if err := sink.QueryRow(ctx, `SELECT count() FROM ugc_cluster.ugc_events FINAL`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != uint64(len(events)) {
		t.Fatalf("the Distributed table's FINAL reads %d events, want %d", total, len(events))
	}
	for i, shard := range cluster.Shards {
		local := srvSink(t, shard)
		var n uint64
		if err := local.QueryRow(ctx, `SELECT count() FROM ugc_cluster.ugc_events_local FINAL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("shard %d holds no events: nothing was distributed", i+1)
		}
		t.Logf("shard %d holds %d events", i+1, n)
	}
}

// srvSink connects to one server without creating anything.
func srvSink(t *testing.T, s *chtest.Server) *clickhouse.Sink {
	t.Helper()
	sink, err := clickhouse.Open(clickhouse.Config{Addr: []string{s.Addr}, Database: "default"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	return sink
}
