package functional

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestHealthReadinessAndSpec(t *testing.T) {
	s := start(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if got := s.expect(t, 200, request{Method: "GET", Path: path}).JSON(t); got["status"] != "ok" {
			t.Fatalf("%s = %v", path, got)
		}
	}
	spec := s.expect(t, 200, request{Method: "GET", Path: "/api/openapi.yaml"})
	if !strings.HasPrefix(string(spec.Body), "openapi: 3.1") {
		t.Fatalf("spec starts %.40q", spec.Body)
	}
	s.expect(t, 404, request{Method: "GET", Path: "/api/v1/nothing-here"})
	s.expect(t, 405, request{Method: "POST", Path: "/api/v1/films/" + uuid.NewString() + "/summary"})
}

func TestRatingsAndSummary(t *testing.T) {
	s := start(t)
	alice, bob := newUser(t), newUser(t)
	film := uuid.NewString()
	rating := "/api/v1/films/" + film + "/rating"
	summary := "/api/v1/films/" + film + "/summary"

	sum := s.expect(t, 200, request{Method: "GET", Path: summary}).JSON(t)
	if sum["count"] != 0.0 || sum["average"] != nil || sum["likes"] != 0.0 || len(sum["distribution"].([]any)) != 11 {
		t.Fatalf("unrated film summary = %v", sum)
	}
	s.expect(t, 404, request{Method: "GET", Path: rating, As: alice})

	r := s.expect(t, 200, request{Method: "PUT", Path: rating, As: alice, Body: map[string]int{"score": 10}}).JSON(t)
	if r["score"] != 10.0 || r["user_id"] != alice.ID.String() || r["film_id"] != film {
		t.Fatalf("PUT rating = %v", r)
	}
	s.expect(t, 200, request{Method: "PUT", Path: rating, As: bob, Body: map[string]int{"score": 0}})
	s.expect(t, 200, request{Method: "PUT", Path: rating, As: bob, Body: map[string]int{"score": 5}})
	if got := s.expect(t, 200, request{Method: "GET", Path: rating, As: bob}).JSON(t); got["score"] != 5.0 {
		t.Fatalf("GET rating = %v", got)
	}

	sum = s.expect(t, 200, request{Method: "GET", Path: summary}).JSON(t)
	if sum["count"] != 2.0 || sum["average"] != 7.5 || sum["likes"] != 1.0 || sum["dislikes"] != 0.0 {
		t.Fatalf("summary = %v", sum)
	}

	s.expect(t, 204, request{Method: "DELETE", Path: rating, As: alice})
	s.expect(t, 404, request{Method: "DELETE", Path: rating, As: alice})
	s.expect(t, 404, request{Method: "GET", Path: rating, As: alice})
	sum = s.expect(t, 200, request{Method: "GET", Path: summary}).JSON(t)
	if sum["count"] != 1.0 || sum["average"] != 5.0 || sum["likes"] != 0.0 {
		t.Fatalf("summary after delete = %v", sum)
	}

	mine := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/users/me/ratings", As: bob}).JSON(t)
	if items := mine["items"].([]any); len(items) != 1 || mine["next_cursor"] != nil {
		t.Fatalf("bob's ratings = %v", mine)
	}
	empty := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/users/me/ratings", As: alice})
	if !strings.Contains(string(empty.Body), `"items":[]`) {
		t.Fatalf("empty listing = %s", empty.Body)
	}
}

func TestReviewsVotesAndAuthorization(t *testing.T) {
	s := start(t)
	alice, bob, carol := newUser(t), newUser(t), newUser(t)
	film := uuid.NewString()
	reviews := "/api/v1/films/" + film + "/reviews"

	s.expect(t, 200, request{Method: "PUT", Path: "/api/v1/films/" + film + "/rating", As: alice, Body: map[string]int{"score": 9}})
	created := s.expect(t, 201, request{Method: "POST", Path: reviews, As: alice, Body: map[string]string{"text": "  Slow, then devastating.  "}})
	rv := created.JSON(t)
	id := rv["id"].(string)
	if rv["text"] != "Slow, then devastating." || rv["author_id"] != alice.ID.String() || rv["author_score"] != 9.0 {
		t.Fatalf("created review = %v", rv)
	}
	review := "/api/v1/reviews/" + id
	if loc := created.Header.Get("Location"); loc != review {
		t.Fatalf("Location = %q, want %q", loc, review)
	}
	s.expect(t, 409, request{Method: "POST", Path: reviews, As: alice, Body: map[string]string{"text": "again"}})

	// Reading is public; changing is the author's alone.
	s.expect(t, 200, request{Method: "GET", Path: review})
	s.expect(t, 403, request{Method: "PATCH", Path: review, As: bob, Body: map[string]string{"text": "hijacked"}})
	s.expect(t, 403, request{Method: "DELETE", Path: review, As: bob})
	s.expect(t, 401, request{Method: "PATCH", Path: review, Body: map[string]string{"text": "anonymous"}})
	if got := s.expect(t, 200, request{Method: "GET", Path: review}).JSON(t); got["text"] != "Slow, then devastating." {
		t.Fatalf("review changed by others: %v", got)
	}
	if got := s.expect(t, 200, request{Method: "PATCH", Path: review, As: alice, Body: map[string]string{"text": "Devastating."}}).JSON(t); got["text"] != "Devastating." {
		t.Fatalf("PATCH = %v", got)
	}

	vote := review + "/vote"
	s.expect(t, 403, request{Method: "PUT", Path: vote, As: alice, Body: map[string]string{"value": "like"}})
	for _, step := range []struct {
		who             user
		value           string
		likes, dislikes float64
	}{
		{bob, "like", 1, 0}, {bob, "like", 1, 0}, {carol, "like", 2, 0}, {bob, "dislike", 1, 1},
	} {
		got := s.expect(t, 200, request{Method: "PUT", Path: vote, As: step.who, Body: map[string]string{"value": step.value}}).JSON(t)
		if got["likes"] != step.likes || got["dislikes"] != step.dislikes {
			t.Fatalf("after %s: %v", step.value, got)
		}
	}
	s.expect(t, 204, request{Method: "DELETE", Path: vote, As: carol})
	s.expect(t, 404, request{Method: "DELETE", Path: vote, As: carol})
	if got := s.expect(t, 200, request{Method: "GET", Path: review}).JSON(t); got["likes"] != 0.0 || got["dislikes"] != 1.0 {
		t.Fatalf("counters = %v", got)
	}

	list := s.expect(t, 200, request{Method: "GET", Path: reviews + "?sort=most_disliked"}).JSON(t)
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
		t.Fatalf("listing = %v", list)
	}

	s.expect(t, 204, request{Method: "DELETE", Path: review, As: alice})
	s.expect(t, 404, request{Method: "GET", Path: review})
	s.expect(t, 404, request{Method: "PUT", Path: vote, As: bob, Body: map[string]string{"value": "like"}})
	s.expect(t, 201, request{Method: "POST", Path: reviews, As: alice, Body: map[string]string{"text": "A second look."}})
}

func TestBookmarks(t *testing.T) {
	s := start(t)
	alice := newUser(t)
	film := uuid.NewString()
	path := "/api/v1/users/me/bookmarks/" + film
	b := s.expect(t, 201, request{Method: "PUT", Path: path, As: alice}).JSON(t)
	again := s.expect(t, 200, request{Method: "PUT", Path: path, As: alice}).JSON(t)
	if b["film_id"] != film || again["created_at"] != b["created_at"] {
		t.Fatalf("bookmark %v, again %v", b, again)
	}
	list := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/users/me/bookmarks", As: alice}).JSON(t)
	if items := list["items"].([]any); len(items) != 1 {
		t.Fatalf("bookmarks = %v", list)
	}
	s.expect(t, 204, request{Method: "DELETE", Path: path, As: alice})
	s.expect(t, 404, request{Method: "DELETE", Path: path, As: alice})
	s.expect(t, 401, request{Method: "GET", Path: "/api/v1/users/me/bookmarks"})
}

// TestPagingAcrossPages pages through bookmarks and reviews while new rows
// arrive: every row that existed at the start is seen once, none skipped.
func TestPagingAcrossPages(t *testing.T) {
	s := start(t)
	alice := newUser(t)
	type mark struct{ film, created string }
	var marks []mark
	for range 45 {
		film := uuid.NewString()
		b := s.expect(t, 201, request{Method: "PUT", Path: "/api/v1/users/me/bookmarks/" + film, As: alice}).JSON(t)
		marks = append(marks, mark{film, b["created_at"].(string)})
	}
	// Newest first; bookmarks made in the same millisecond by film id, descending.
	slices.SortFunc(marks, func(a, b mark) int {
		ta, _ := time.Parse(time.RFC3339Nano, a.created)
		tb, _ := time.Parse(time.RFC3339Nano, b.created)
		return cmp.Or(tb.Compare(ta), strings.Compare(b.film, a.film))
	})
	var want []string
	for _, m := range marks {
		want = append(want, m.film)
	}

	got := pageAll(t, s, alice, "/api/v1/users/me/bookmarks?limit=10", "film_id", func() {
		s.expect(t, 201, request{Method: "PUT", Path: "/api/v1/users/me/bookmarks/" + uuid.NewString(), As: alice})
	})
	if !slices.Equal(got, want) {
		t.Fatalf("paged %d bookmarks, want the %d from the start in order", len(got), len(want))
	}

	film := uuid.NewString()
	var reviewIDs []string
	for range 25 {
		r := s.expect(t, 201, request{Method: "POST", Path: "/api/v1/films/" + film + "/reviews", As: newUser(t), Body: map[string]string{"text": "ok"}}).JSON(t)
		reviewIDs = append(reviewIDs, r["id"].(string))
	}
	got = pageAll(t, s, anonymous, "/api/v1/films/"+film+"/reviews?sort=oldest&limit=7", "id", nil)
	if !slices.Equal(got, reviewIDs) {
		t.Fatalf("oldest-first reviews %v, want %v", got, reviewIDs)
	}
}

// pageAll follows next_cursor from path and returns field of every item;
// between pages it calls between, if any.
func pageAll(t *testing.T, s *server, as user, path, field string, between func()) []string {
	t.Helper()
	var out []string
	next := ""
	for range 100 {
		p := path
		if next != "" {
			p += "&cursor=" + next
		}
		page := s.expect(t, 200, request{Method: "GET", Path: p, As: as}).JSON(t)
		for _, it := range page["items"].([]any) {
			out = append(out, it.(map[string]any)[field].(string))
		}
		if page["next_cursor"] == nil {
			return out
		}
		next = page["next_cursor"].(string)
		if between != nil {
			between()
		}
	}
	t.Fatal("paging did not end")
	return nil
}

func TestReviewSortsAndCursorMisuse(t *testing.T) {
	s := start(t)
	film := uuid.NewString()
	base := "/api/v1/films/" + film + "/reviews"
	for range 3 {
		s.expect(t, 201, request{Method: "POST", Path: base, As: newUser(t), Body: map[string]string{"text": "fine"}})
	}
	for _, sort := range []string{"newest", "oldest", "most_liked", "most_disliked"} {
		page := s.expect(t, 200, request{Method: "GET", Path: fmt.Sprintf("%s?sort=%s&limit=2", base, sort)}).JSON(t)
		if len(page["items"].([]any)) != 2 || page["next_cursor"] == nil {
			t.Fatalf("sort %s: %v", sort, page)
		}
	}
	page := s.expect(t, 200, request{Method: "GET", Path: base + "?sort=newest&limit=1"}).JSON(t)
	cursor := page["next_cursor"].(string)
	// A cursor from one order means nothing in another: refuse it.
	s.expect(t, 400, request{Method: "GET", Path: base + "?sort=most_liked&cursor=" + cursor})
	s.expect(t, 400, request{Method: "GET", Path: "/api/v1/users/me/bookmarks?cursor=" + cursor, As: newUser(t)})
	s.expect(t, 400, request{Method: "GET", Path: base + "?sort=best"})
	if got := s.expect(t, 200, request{Method: "GET", Path: base + "?sort=newest&cursor=" + cursor}).JSON(t); len(got["items"].([]any)) != 2 {
		t.Fatalf("resuming with the cursor: %v", got)
	}
}
