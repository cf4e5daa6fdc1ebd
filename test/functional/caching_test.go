package functional

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestConditionalReads: every public read carries a strong ETag and a public
// Cache-Control; the ETag in If-None-Match gets 304 with no body until the
// resource changes.
func TestConditionalReads(t *testing.T) {
	s := start(t)
	alice, bob := newUser(t), newUser(t)
	film := uuid.NewString()
	s.expect(t, 200, request{Method: "PUT", Path: "/api/v1/films/" + film + "/rating", As: alice, Body: map[string]int{"score": 9}})
	rv := s.expect(t, 201, request{Method: "POST", Path: "/api/v1/films/" + film + "/reviews", As: alice, Body: map[string]string{"text": "fine"}}).JSON(t)
	review := "/api/v1/reviews/" + rv["id"].(string)

	for _, c := range []struct {
		path, cache string
		change      request // makes the resource change
	}{
		{"/api/v1/films/" + film + "/summary", "max-age=5", request{Method: "PUT", Path: "/api/v1/films/" + film + "/rating", As: bob, Body: map[string]int{"score": 1}}},
		{"/api/v1/films/summaries?film_id=" + film, "max-age=5", request{Method: "PUT", Path: "/api/v1/films/" + film + "/rating", As: alice, Body: map[string]int{"score": 2}}},
		{review, "max-age=30", request{Method: "PUT", Path: review + "/vote", As: bob, Body: map[string]string{"value": "like"}}},
		{"/api/v1/films/" + film + "/reviews", "max-age=10", request{Method: "PATCH", Path: review, As: alice, Body: map[string]string{"text": "better"}}},
	} {
		t.Run(c.path, func(t *testing.T) {
			first := s.expect(t, 200, request{Method: "GET", Path: c.path})
			etag := first.Header.Get("ETag")
			if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 3 {
				t.Fatalf("ETag %q is not a strong validator", etag)
			}
			if cc := first.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") || !strings.Contains(cc, c.cache) {
				t.Fatalf("Cache-Control %q, want public with %s", cc, c.cache)
			}
			for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
				again := s.expect(t, 304, request{Method: "GET", Path: c.path, Header: map[string]string{"If-None-Match": inm}})
				if len(again.Body) != 0 || again.Header.Get("ETag") != etag {
					t.Fatalf("If-None-Match %s: 304 with body %q and ETag %q", inm, again.Body, again.Header.Get("ETag"))
				}
			}
			s.expect(t, 200, request{Method: "GET", Path: c.path, Header: map[string]string{"If-None-Match": `"stale"`}})

			s.expect(t, c.change.expectStatus(), c.change)
			changed := s.expect(t, 200, request{Method: "GET", Path: c.path, Header: map[string]string{"If-None-Match": etag}})
			if changed.Header.Get("ETag") == etag {
				t.Fatal("the ETag did not change with the resource")
			}
		})
	}
	// Private and failed reads are never cacheable by others.
	mine := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/users/me/ratings", As: alice})
	if strings.Contains(mine.Header.Get("Cache-Control"), "public") {
		t.Fatalf("a user's own listing is public: %q", mine.Header.Get("Cache-Control"))
	}
	bad := s.expect(t, 400, request{Method: "GET", Path: "/api/v1/films/nope/summary"})
	if bad.Header.Get("Cache-Control") != "no-store" || bad.Header.Get("ETag") != "" {
		t.Fatalf("a problem is cacheable: %v", bad.Header)
	}
}

// expectStatus is what a change request in TestConditionalReads answers.
func (r request) expectStatus() int {
	if r.Method == "POST" {
		return 201
	}
	return 200
}

// TestBatchSummaries reads a catalogue page's summaries in one call.
func TestBatchSummaries(t *testing.T) {
	s := start(t)
	alice := newUser(t)
	films := make([]string, 24)
	q := make([]string, 0, len(films)+1)
	for i := range films {
		films[i] = uuid.NewString()
		q = append(q, "film_id="+films[i])
	}
	for i, f := range films[:12] {
		s.expect(t, 200, request{Method: "PUT", Path: "/api/v1/films/" + f + "/rating", As: alice, Body: map[string]int{"score": i % 11}})
	}
	q = append(q, "film_id="+films[3]) // asked twice, answered once
	var body struct {
		Items []struct {
			FilmID string   `json:"film_id"`
			Count  int      `json:"count"`
			Avg    *float64 `json:"average"`
		} `json:"items"`
	}
	s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/summaries?" + strings.Join(q, "&")}).Decode(t, &body)
	if len(body.Items) != len(films) {
		t.Fatalf("%d items for %d distinct films", len(body.Items), len(films))
	}
	for i, it := range body.Items {
		rated := i < 12
		if it.FilmID != films[i] || (it.Count == 1) != rated || (it.Avg != nil) != rated {
			t.Fatalf("item %d = %+v, want film %s rated=%v", i, it, films[i], rated)
		}
		one := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/" + films[i] + "/summary"}).JSON(t)
		if one["count"] != float64(it.Count) {
			t.Fatalf("batch item %d disagrees with the single read %v", i, one)
		}
	}

	many := make([]string, 101)
	for i := range many {
		many[i] = "film_id=" + uuid.NewString()
	}
	for name, query := range map[string]string{
		"none":     "",
		"101":      strings.Join(many, "&"),
		"not uuid": "film_id=" + films[0] + "&film_id=nope",
		"no dash":  "film_id=" + strings.ReplaceAll(films[0], "-", ""),
	} {
		t.Run(name, func(t *testing.T) {
			s.expect(t, 400, request{Method: "GET", Path: "/api/v1/films/summaries?" + query})
		})
	}
	s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/summaries?" + strings.Join(many[:100], "&")})
}
