package chtest

import (
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
)

// Totals is what the events in ClickHouse, read through the deduplicating
// FINAL form, say about UGC: how many changes of each type happened, and the
// score distribution of every film that they add up to.
type Totals struct {
	Events map[ugc.EventType]int64
	Films  map[uuid.UUID]ugc.Distribution
}

// ReadTotals folds every event of the database's ugc_events table.
func ReadTotals(t testing.TB, sink *clickhouse.Sink, database string) Totals {
	t.Helper()
	rows, err := sink.Query(t.Context(), `SELECT type, film_id, score, previous_score FROM `+database+`.`+clickhouse.TableEvents+` FINAL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tot := Totals{Events: map[ugc.EventType]int64{}, Films: map[uuid.UUID]ugc.Distribution{}}
	for rows.Next() {
		var (
			typ             string
			film            uuid.UUID
			score, previous *uint8
		)
		if err := rows.Scan(&typ, &film, &score, &previous); err != nil {
			t.Fatal(err)
		}
		tot.Events[ugc.EventType(typ)]++
		if score == nil && previous == nil {
			continue
		}
		d := tot.Films[film]
		if score != nil {
			d[*score]++
		}
		if previous != nil {
			d[*previous]--
		}
		tot.Films[film] = d
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return tot
}
