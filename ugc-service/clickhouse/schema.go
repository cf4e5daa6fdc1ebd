// Package clickhouse is the analytics edge: the schema the relay creates in
// ClickHouse for the events of package ugc.
//
// Every table tolerates a batch inserted twice (the relay inserts, then marks
// the outbox; a crash in between re-sends the batch): the raw table is a
// ReplacingMergeTree whose sorting key ends with the event id, and the
// aggregate tables count uniqExact(event id) states instead of rows, so a
// duplicated event adds nothing to any figure. Averages are derived at query
// time from per-score counts, never stored, for the same reason.
package clickhouse

import (
	"fmt"
	"regexp"
	"strings"
)

// Table names. In cluster mode the MergeTree tables get a "_local" suffix
// on each node and these names become Distributed tables over them.
const (
	TableEvents        = "ugc_events"
	TableRatingsDaily  = "ugc_film_ratings_daily"
	TableReviewsDaily  = "ugc_review_activity_daily"
	TableBookmarksFilm = "ugc_film_bookmarks_daily"
)

// EventColumns are the raw table's columns in the order every INSERT lists
// them (ClickHouse 18.16 over the native protocol needs the list).
var EventColumns = []string{
	"event_id", "type", "user_id", "film_id", "review_id",
	"score", "previous_score", "vote", "previous_vote", "occurred_at",
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Schema renders the DDL for one database, on a single server or, when
// Cluster is set, on every node of that cluster.
type Schema struct {
	Database string
	Cluster  string // "" for a single server
}

// Validate reports a non-nil error unless the names are plain identifiers:
// they are spliced into DDL, which takes no bind parameters.
func (s Schema) Validate() error {
	if !identRE.MatchString(s.Database) {
		return fmt.Errorf("clickhouse database %q is not a plain identifier", s.Database)
	}
	if s.Cluster != "" && !identRE.MatchString(s.Cluster) {
		return fmt.Errorf("clickhouse cluster %q is not a plain identifier", s.Cluster)
	}
	return nil
}

func (s Schema) onCluster() string {
	if s.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + s.Cluster
}

// storage is the name of the MergeTree table behind a logical table.
func (s Schema) storage(table string) string {
	if s.Cluster == "" {
		return table
	}
	return table + "_local"
}

func (s Schema) q(table string) string { return s.Database + "." + table }

// Statements returns the DDL in the order it must run. Every statement is
// idempotent (IF NOT EXISTS), so the relay runs them all at every start.
func (s Schema) Statements() []string {
	oc := s.onCluster()
	stmts := []string{
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s%s", s.Database, oc),
		// Raw events. ORDER BY serves per-film and per-user scans (film first,
		// the common filter; user queries use the type/user prefix less well
		// but still prune by month) and ends with the event id, so a retried
		// batch collapses to one row on merge or with FINAL.
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    event_id UUID,
    type String,
    user_id UUID,
    film_id UUID,
    review_id UUID,
    score Nullable(UInt8),
    previous_score Nullable(UInt8),
    vote String,
    previous_vote String,
    occurred_at DateTime('UTC')
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (film_id, user_id, occurred_at, event_id)`, s.q(s.storage(TableEvents)), oc),
		// Ratings set per film, day and score: average and count derive from it.
		aggTable(s, TableRatingsDaily, "day Date, film_id UUID, score UInt8", "(film_id, day, score)"),
		aggTable(s, TableReviewsDaily, "day Date, type String", "(day, type)"),
		aggTable(s, TableBookmarksFilm, "day Date, film_id UUID, type String", "(film_id, day, type)"),
		mview(s, TableRatingsDaily, "toDate(occurred_at) AS day, film_id, assumeNotNull(score) AS score",
			"type = 'rating_set'", "day, film_id, score"),
		mview(s, TableReviewsDaily, "toDate(occurred_at) AS day, type",
			"type IN ('review_created', 'review_updated', 'review_deleted', 'review_vote_set', 'review_vote_deleted')", "day, type"),
		mview(s, TableBookmarksFilm, "toDate(occurred_at) AS day, film_id, type",
			"type IN ('bookmark_added', 'bookmark_removed')", "day, film_id, type"),
	}
	if s.Cluster != "" {
		// Events shard by film, so every copy of an event lands on the same
		// shard and deduplicates there. (ClickHouse 18.16 cannot hash a UUID
		// directly.)
		stmts = append(stmts, distributed(s, TableEvents, "cityHash64(toString(film_id))"))
		for _, t := range []string{TableRatingsDaily, TableReviewsDaily, TableBookmarksFilm} {
			stmts = append(stmts, distributed(s, t, "rand()"))
		}
	}
	return stmts
}

func aggTable(s Schema, table, keyCols, orderBy string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    %s,
    events AggregateFunction(uniqExact, UUID)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY %s`, s.q(s.storage(table)), s.onCluster(), keyCols, orderBy)
}

func mview(s Schema, table, selectCols, where, groupBy string) string {
	return fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s%s TO %s AS
SELECT %s, uniqExactState(event_id) AS events
FROM %s
WHERE %s
GROUP BY %s`, s.q(s.storage(table)+"_mv"), s.onCluster(), s.q(s.storage(table)),
		selectCols, s.q(s.storage(TableEvents)), where, groupBy)
}

func distributed(s Schema, table, shardKey string) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s%s AS %s ENGINE = Distributed(%s, %s, %s, %s)",
		s.q(table), s.onCluster(), s.q(s.storage(table)), s.Cluster, s.Database, s.storage(table), shardKey)
}

// InsertEvents is the INSERT the relay prepares a batch with.
func (s Schema) InsertEvents() string {
	return fmt.Sprintf("INSERT INTO %s (%s)", s.q(TableEvents), strings.Join(EventColumns, ", "))
}
