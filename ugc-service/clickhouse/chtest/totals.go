package chtest

import (
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
)

// Totals is what the events in ClickHouse, read through the deduplicating
// FINAL form, say about UGC: how many changes of each type happened, and
// what they add up to: the score distribution of every film and the number
// of bookmarks of every user.
type Totals struct {
	Events    map[ugc.EventType]int64
	Films     map[uuid.UUID]ugc.Distribution
	Bookmarks map[uuid.UUID]int64
}

// ReadTotals folds every event of the database's ugc_events table.
func ReadTotals(t testing.TB, sink *clickhouse.Sink, database string) Totals {
	t.Helper()
	rows, err := sink.Query(t.Context(), `SELECT type, user_id, film_id, score, previous_score FROM `+database+`.`+clickhouse.TableEvents+` FINAL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tot := Totals{Events: map[ugc.EventType]int64{}, Films: map[uuid.UUID]ugc.Distribution{}, Bookmarks: map[uuid.UUID]int64{}}
	for rows.Next() {
		var (
			typ             string
			user, film      uuid.UUID
			score, previous *uint8
		)
		if err := rows.Scan(&typ, &user, &film, &score, &previous); err != nil {
			t.Fatal(err)
		}
		tot.Events[ugc.EventType(typ)]++
		switch ugc.EventType(typ) {
		case ugc.EventBookmarkAdded:
			tot.Bookmarks[user]++
		case ugc.EventBookmarkRemoved:
			tot.Bookmarks[user]--
		}
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
