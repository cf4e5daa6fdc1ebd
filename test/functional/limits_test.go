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
