package functional

import (
	"testing"

	"github.com/google/uuid"
)

// TestUserWriteRateLimit: a user over their write rate gets 429 with
// Retry-After; other users and reads are not held back.
func TestUserWriteRateLimit(t *testing.T) {
	s := start(t, "UGC_USER_WRITE_RATE=0.5", "UGC_USER_WRITE_BURST=3")
	alice, bob := newUser(t), newUser(t)
	rating := "/api/v1/films/" + uuid.NewString() + "/rating"
	for range 3 {
		s.expect(t, 200, request{Method: "PUT", Path: rating, As: alice, Body: map[string]int{"score": 7}})
	}
	resp := s.expect(t, 429, request{Method: "PUT", Path: rating, As: alice, Body: map[string]int{"score": 8}})
	if got := resp.Header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After %q, want 2 (one token every 2 s)", got)
	}
	if code := resp.JSON(t)["code"]; code != "rate_limited" {
		t.Fatalf("problem code %v", code)
	}
	if got := s.expect(t, 200, request{Method: "GET", Path: rating, As: alice}).JSON(t)["score"]; got != 7.0 {
		t.Fatalf("the refused write changed the score to %v", got)
	}
	s.expect(t, 200, request{Method: "PUT", Path: rating, As: bob, Body: map[string]int{"score": 1}})
}

// TestRefusedWritesSpendNoBudget: 20 malformed PUTs used to spend a burst
// of 20, and the next valid write got 429. Only accepted writes count.
func TestRefusedWritesSpendNoBudget(t *testing.T) {
	s := start(t, "UGC_USER_WRITE_RATE=0.1", "UGC_USER_WRITE_BURST=3")
	alice := newUser(t)
	rating := "/api/v1/films/" + uuid.NewString() + "/rating"
	for range 20 {
		s.expect(t, 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]int{"score": 11}})
		s.expect(t, 404, request{Method: "PUT", Path: "/api/v1/reviews/" + uuid.NewString() + "/vote", As: alice, Body: map[string]string{"value": "like"}})
	}
	for range 3 {
		s.expect(t, 200, request{Method: "PUT", Path: rating, As: alice, Body: map[string]int{"score": 7}})
	}
	s.expect(t, 429, request{Method: "PUT", Path: rating, As: alice, Body: map[string]int{"score": 8}})
}

// TestDefaultBurstTakesABookmarkedPage: a person bookmarking two catalogue
// pages (48 films) at once is not refused by the default limit.
func TestDefaultBurstTakesABookmarkedPage(t *testing.T) {
	s := start(t, "UGC_USER_WRITE_RATE=") // the default limit, not the harness's none
	alice := newUser(t)
	for range 48 {
		s.expect(t, 201, request{Method: "PUT", Path: "/api/v1/users/me/bookmarks/" + uuid.NewString(), As: alice})
	}
}
