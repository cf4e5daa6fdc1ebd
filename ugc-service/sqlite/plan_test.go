package sqlite

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// TestQueryPlans checks that every listing walks an index in its order: a
// "TEMP B-TREE" would mean sorting all of a film's reviews or a user's
// ratings for each page, and a bare SCAN reading a whole table.
func TestQueryPlans(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	id := uuid.New()
	queries := map[string][]any{
		userRatingsListing.first:        {id, 21},
		userRatingsListing.after:        {id, 1, id, 21},
		bookmarksListing.first:          {id, 21},
		bookmarksListing.after:          {id, 1, id, 21},
		selectReview + `WHERE r.id = ?`: {id},
	}
	for sort, q := range reviewListings {
		queries[q.first] = []any{id, 21}
		if sort == ugc.SortNewest || sort == ugc.SortOldest {
			queries[q.after] = []any{id, id, 21}
		} else {
			queries[q.after] = []any{id, 3, id, 21}
		}
	}
	for q, args := range queries {
		plan := explain(t, s, q, args)
		if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "SCAN ") || !strings.Contains(plan, "INDEX") {
			t.Errorf("query does not walk an index:\n%s\nplan:\n%s", q, plan)
		}
	}
}

func explain(t *testing.T, s *Store, q string, args []any) string {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
