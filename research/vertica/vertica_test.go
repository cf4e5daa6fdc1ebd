package vertica

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

var _ ugcdata.Store = (*Store)(nil)

func TestDriverRegistered(t *testing.T) {
	if _, err := sql.Open("vertica", DefaultDSN); err != nil {
		t.Fatal(err)
	}
}

func TestInsertValues(t *testing.T) {
	got := insertValues("t", []string{"a", "b"}, 3)
	want := "INSERT INTO t (a, b) VALUES (?,?),(?,?),(?,?)"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestPlaceholdersMatchArguments(t *testing.T) {
	args := map[string]int{"user_bookmarks": 2, "film_summary": 1, "film_reviews": 3, "user_ratings": 1, "user_film_rating": 2}
	for name, q := range Queries {
		if n := strings.Count(q, "?"); n != args[name] {
			t.Errorf("%s: %d placeholders, code passes %d", name, n, args[name])
		}
	}
	if strings.Count(MergeRating, "?") != 4 {
		t.Error("MergeRating placeholders")
	}
}

func TestSchemaSortsAndSegmentsEveryTable(t *testing.T) {
	for _, q := range Schema {
		if strings.HasPrefix(q, "CREATE") && (!strings.Contains(q, "ORDER BY") || !strings.Contains(q, "SEGMENTED BY")) {
			t.Errorf("no sort order or segmentation: %s", q)
		}
	}
}
