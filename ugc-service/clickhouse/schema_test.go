package clickhouse_test

import (
	"strings"
	"testing"

	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
)

func TestSchemaSingleServer(t *testing.T) {
	s := clickhouse.Schema{Database: "ugc"}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	stmts := s.Statements()
	if len(stmts) != 8 {
		t.Fatalf("%d statements, want 8 (database, raw table, 3 aggregates, 3 views)", len(stmts))
	}
	all := strings.Join(stmts, "\n;\n")
	// Debian's clickhouse-server 18.16 knows neither DateTime64 nor (without
	// an experimental setting) LowCardinality.
	for _, bad := range []string{"ON CLUSTER", "Distributed", "_local", "DateTime64", "LowCardinality"} {
		if strings.Contains(all, bad) {
			t.Errorf("single-server DDL mentions %q", bad)
		}
	}
	for i, st := range stmts {
		if !strings.Contains(st, "IF NOT EXISTS") {
			t.Errorf("statement %d is not idempotent: %s", i, st)
		}
	}
	raw := stmts[1]
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS ugc.ugc_events (",
		"ENGINE = ReplacingMergeTree",
		"PARTITION BY toYYYYMM(occurred_at)",
		"ORDER BY (film_id, user_id, occurred_at, event_id)",
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("raw table DDL lacks %q:\n%s", want, raw)
		}
	}
	for _, col := range clickhouse.EventColumns {
		if !strings.Contains(raw, "\n    "+col+" ") {
			t.Errorf("raw table lacks column %s", col)
		}
	}
	// Every aggregate counts distinct event ids, so a batch inserted twice
	// changes no figure.
	for _, st := range stmts[5:] {
		if !strings.Contains(st, "uniqExactState(event_id)") || !strings.Contains(st, "FROM ugc.ugc_events\n") {
			t.Errorf("view does not count distinct events of the raw table:\n%s", st)
		}
	}
	if got, want := s.InsertEvents(), "INSERT INTO ugc.ugc_events (event_id, type, user_id, film_id, review_id, score, previous_score, vote, previous_vote, occurred_at)"; got != want {
		t.Errorf("insert\n got %s\nwant %s", got, want)
	}
}

func TestSchemaCluster(t *testing.T) {
	s := clickhouse.Schema{Database: "analytics", Cluster: "ugc_cluster"}
	stmts := s.Statements()
	if len(stmts) != 12 {
		t.Fatalf("%d statements, want 12 (8 local + 4 distributed)", len(stmts))
	}
	for i, st := range stmts {
		if !strings.Contains(st, " ON CLUSTER ugc_cluster") {
			t.Errorf("statement %d lacks ON CLUSTER: %s", i, st)
		}
	}
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS analytics.ugc_events_local ON CLUSTER ugc_cluster (",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS analytics.ugc_film_ratings_daily_local_mv ON CLUSTER ugc_cluster TO analytics.ugc_film_ratings_daily_local AS",
		"FROM analytics.ugc_events_local\n",
		"CREATE TABLE IF NOT EXISTS analytics.ugc_events ON CLUSTER ugc_cluster AS analytics.ugc_events_local ENGINE = Distributed(ugc_cluster, analytics, ugc_events_local, cityHash64(toString(film_id)))",
		"CREATE TABLE IF NOT EXISTS analytics.ugc_film_bookmarks_daily ON CLUSTER ugc_cluster AS analytics.ugc_film_bookmarks_daily_local ENGINE = Distributed(ugc_cluster, analytics, ugc_film_bookmarks_daily_local, rand())",
	} {
		if !strings.Contains(strings.Join(stmts, "\n"), want) {
			t.Errorf("cluster DDL lacks %q", want)
		}
	}
	// The relay writes to the Distributed table, which shards by film.
	if !strings.HasPrefix(s.InsertEvents(), "INSERT INTO analytics.ugc_events (") {
		t.Errorf("cluster insert targets %s", s.InsertEvents())
	}
}

func TestSchemaValidate(t *testing.T) {
	for _, s := range []clickhouse.Schema{
		{Database: ""},
		{Database: "ugc; DROP TABLE x"},
		{Database: "ugc", Cluster: "a-b"},
		{Database: "1ugc"},
	} {
		if s.Validate() == nil {
			t.Errorf("%+v: want an error", s)
		}
	}
	if err := (clickhouse.Schema{Database: "ugc_2", Cluster: "main"}).Validate(); err != nil {
		t.Error(err)
	}
}
