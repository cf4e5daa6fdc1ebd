package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Growing from one server to a cluster. A server that ran alone holds the
// logical tables under their own names, as plain MergeTree; the cluster needs
// those names for Distributed fronts over "_local" tables, and its
// CREATE ... IF NOT EXISTS would leave the old tables in place, outside
// every read of the cluster. So, before the cluster's DDL, each server's
// single-server raw table is set aside (its views and aggregates are derived
// from it and dropped), and after the DDL its events are inserted again
// through the Distributed table: each reaches the shard of its film, on
// every replica, where the views rebuild the aggregates. An event sent twice
// collapses there like any re-sent batch. Every step reads its state from
// system.tables, so a relay that dies midway finishes the move when it
// starts again.

// asideSuffix names a single server's raw table while it is being moved.
const asideSuffix = "_single"

const engineDistributed = "Distributed"

var aggregateTables = []string{TableRatingsDaily, TableReviewsDaily, TableBookmarksFilm}

// setAside returns the statements that clear a server's single-server
// tables out of the cluster's names, given the engine of each table in the
// database on that server.
func (s Schema) setAside(engines map[string]string) []string {
	var stmts []string
	for _, t := range aggregateTables {
		if _, ok := engines[t+"_mv"]; ok {
			stmts = append(stmts, "DROP TABLE "+s.q(t+"_mv"))
		}
	}
	for _, t := range aggregateTables {
		if e, ok := engines[t]; ok && e != engineDistributed {
			stmts = append(stmts, "DROP TABLE "+s.q(t))
		}
	}
	e, ok := engines[TableEvents]
	if !ok || e == engineDistributed {
		return stmts
	}
	aside := s.q(TableEvents + asideSuffix)
	if _, ok := engines[TableEvents+asideSuffix]; ok {
		// A relay of the single-server configuration, still running during
		// the roll-out, created the table again after an earlier set-aside.
		return append(stmts, s.copyEvents(aside, s.q(TableEvents)), "DROP TABLE "+s.q(TableEvents))
	}
	return append(stmts, fmt.Sprintf("RENAME TABLE %s TO %s", s.q(TableEvents), aside))
}

// sendAgain returns the statements that move a set-aside raw table's events
// into the cluster and drop it, given the server's engines after the
// cluster's DDL.
func (s Schema) sendAgain(engines map[string]string) []string {
	if _, ok := engines[TableEvents+asideSuffix]; !ok {
		return nil
	}
	aside := s.q(TableEvents + asideSuffix)
	return []string{s.copyEvents(s.q(TableEvents), aside), "DROP TABLE " + aside}
}

func (s Schema) copyEvents(to, from string) string {
	cols := strings.Join(EventColumns, ", ")
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", to, cols, cols, from)
}

// errShrunk is a single server whose raw table is a Distributed front: the
// cluster it read was shrunk to one server, which is not migrated.
var errShrunk = errors.New("is a Distributed table left by a cluster: shrinking ClickHouse to one server is not migrated " +
	"(the removed shards' events would be lost); keep the cluster, or copy the events into a new database")

// engines lists the tables of the schema's database on the server conn
// talks to, with their engines.
func (s Schema) engines(ctx context.Context, conn driver.Conn) (map[string]string, error) {
	rows, err := conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = '"+s.Database+"'")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	engines := map[string]string{}
	for rows.Next() {
		var name, engine string
		if err := rows.Scan(&name, &engine); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		engines[name] = engine
	}
	return engines, rows.Err()
}

// hosts lists the native address of every server of the schema's cluster,
// as the server conn talks to describes it.
func (s Schema) hosts(ctx context.Context, conn driver.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT host_name, port FROM system.clusters WHERE cluster = '"+s.Cluster+"'")
	if err != nil {
		return nil, fmt.Errorf("list the cluster's servers: %w", err)
	}
	defer rows.Close()
	var hosts []string
	for rows.Next() {
		var (
			host string
			port uint16
		)
		if err := rows.Scan(&host, &port); err != nil {
			return nil, fmt.Errorf("list the cluster's servers: %w", err)
		}
		hosts = append(hosts, fmt.Sprintf("%s:%d", host, port))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("cluster %q is not in the server's remote_servers", s.Cluster)
	}
	return hosts, nil
}

// run executes stmts on conn, naming the failed one.
func run(ctx context.Context, conn driver.Conn, stmts []string) error {
	for _, stmt := range stmts {
		if err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	return nil
}
