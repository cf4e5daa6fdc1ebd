package functional

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/ugcstack/ugcstack/ugc-service/jwt"
)

func TestAuthenticationFailures(t *testing.T) {
	s := start(t)
	film := uuid.NewString()
	path := "/api/v1/films/" + film + "/rating"
	id := uuid.New()

	expired, err := jwt.Mint([]byte(secret), id, -time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := jwt.Mint([]byte("not-the-server-secret-0123456789abcdef"), id, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	algNone := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		b64([]byte(`{"sub":"`+id.String()+`","exp":`+strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)+`}`)) + "."
	notUUID, err := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}

	for name, header := range map[string]string{
		"missing":      "",
		"basic scheme": "Basic YWxpY2U6c2VjcmV0",
		"empty bearer": "Bearer ",
		"malformed":    "Bearer not-a-jwt",
		"expired":      "Bearer " + expired,
		"forged":       "Bearer " + forged,
		"alg none":     "Bearer " + algNone,
		"sub not uuid": "Bearer " + notUUID,
	} {
		t.Run(name, func(t *testing.T) {
			r := request{Method: "PUT", Path: path, Body: map[string]int{"score": 3}}
			if header != "" {
				r.Header = map[string]string{"Authorization": header}
			}
			resp := s.expect(t, 401, r)
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	sum := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/" + film + "/summary"}).JSON(t)
	if sum["count"] != 0.0 {
		t.Fatalf("rejected tokens changed the store: %v", sum)
	}
}

// TestBadInputLeavesStoreUnchanged sends every kind of bad request against a
// known state and checks each gets its 4xx problem and the state is intact.
func TestBadInputLeavesStoreUnchanged(t *testing.T) {
	s := start(t)
	alice, bob := newUser(t), newUser(t)
	film := uuid.NewString()
	rating := "/api/v1/films/" + film + "/rating"
	s.expect(t, 200, request{Method: "PUT", Path: rating, As: alice, Body: map[string]int{"score": 6}})
	rv := s.expect(t, 201, request{Method: "POST", Path: "/api/v1/films/" + film + "/reviews", As: alice, Body: map[string]string{"text": "baseline"}}).JSON(t)
	review := "/api/v1/reviews/" + rv["id"].(string)
	s.expect(t, 200, request{Method: "PUT", Path: review + "/vote", As: bob, Body: map[string]string{"value": "like"}})
	s.expect(t, 201, request{Method: "PUT", Path: "/api/v1/users/me/bookmarks/" + film, As: alice})

	raw := func(s string) *string { return &s }
	huge := `{"score": 1, "pad": "` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		name   string
		status int
		req    request
	}{
		{"malformed JSON", 400, request{Method: "PUT", Path: rating, As: alice, RawBody: raw(`{"score":`), ContentType: "application/json"}},
		{"empty body", 400, request{Method: "PUT", Path: rating, As: alice, RawBody: raw(``), ContentType: "application/json"}},
		{"missing field", 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]any{}}},
		{"null score", 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]any{"score": nil}}},
		{"string score", 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]any{"score": "1"}}},
		{"float score", 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]any{"score": 1.5}}},
		{"score 11", 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]any{"score": 11}}},
		{"score -1", 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]any{"score": -1}}},
		{"unknown field", 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]any{"score": 1, "stars": 1}}},
		{"operator key", 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]any{"$set": map[string]int{"score": 1}}}},
		{"operator beside field", 400, request{Method: "PUT", Path: rating, As: alice, Body: map[string]any{"score": 1, "$inc": 1}}},
		{"array body", 400, request{Method: "PUT", Path: rating, As: alice, Body: []int{1}}},
		{"oversize body", 413, request{Method: "PUT", Path: rating, As: alice, RawBody: &huge, ContentType: "application/json"}},
		{"text/plain", 415, request{Method: "PUT", Path: rating, As: alice, RawBody: raw(`{"score": 1}`), ContentType: "text/plain"}},
		{"no content type", 415, request{Method: "PUT", Path: rating, As: alice, RawBody: raw(`{"score": 1}`)}},
		{"invalid film UUID", 400, request{Method: "PUT", Path: "/api/v1/films/not-a-uuid/rating", As: alice, Body: map[string]int{"score": 1}}},
		{"UUID without dashes", 400, request{Method: "PUT", Path: "/api/v1/films/" + strings.ReplaceAll(film, "-", "") + "/rating", As: alice, Body: map[string]int{"score": 1}}},
		{"empty review", 400, request{Method: "PATCH", Path: review, As: alice, Body: map[string]string{"text": "   "}}},
		{"review too long", 400, request{Method: "PATCH", Path: review, As: alice, Body: map[string]string{"text": strings.Repeat("ы", 5001)}}},
		{"review text number", 400, request{Method: "PATCH", Path: review, As: alice, Body: map[string]any{"text": 5}}},
		{"review operator key", 400, request{Method: "PATCH", Path: review, As: alice, Body: map[string]any{"text": "x", "$where": "1"}}},
		{"duplicate review", 409, request{Method: "POST", Path: "/api/v1/films/" + film + "/reviews", As: alice, Body: map[string]string{"text": "again"}}},
		{"invalid review UUID", 400, request{Method: "PATCH", Path: "/api/v1/reviews/123", As: alice, Body: map[string]string{"text": "x"}}},
		{"bad vote value", 400, request{Method: "PUT", Path: review + "/vote", As: bob, Body: map[string]string{"value": "love"}}},
		{"vote value number", 400, request{Method: "PUT", Path: review + "/vote", As: bob, Body: map[string]any{"value": 1}}},
		{"own vote", 403, request{Method: "PUT", Path: review + "/vote", As: alice, Body: map[string]string{"value": "dislike"}}},
		{"other's edit", 403, request{Method: "PATCH", Path: review, As: bob, Body: map[string]string{"text": "mine now"}}},
		{"invalid bookmark UUID", 400, request{Method: "PUT", Path: "/api/v1/users/me/bookmarks/123", As: alice}},
		{"negative limit", 400, request{Method: "GET", Path: "/api/v1/users/me/bookmarks?limit=-1", As: alice}},
		{"zero limit", 400, request{Method: "GET", Path: "/api/v1/users/me/bookmarks?limit=0", As: alice}},
		{"limit 101", 400, request{Method: "GET", Path: "/api/v1/users/me/ratings?limit=101", As: alice}},
		{"limit not a number", 400, request{Method: "GET", Path: "/api/v1/films/" + film + "/reviews?limit=ten"}},
		{"garbage cursor", 400, request{Method: "GET", Path: "/api/v1/users/me/bookmarks?cursor=%24%24%24", As: alice}},
		{"truncated cursor", 400, request{Method: "GET", Path: "/api/v1/users/me/bookmarks?cursor=AQAAAA", As: alice}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { s.expect(t, c.status, c.req) })
	}

	// The state is exactly as it was.
	if got := s.expect(t, 200, request{Method: "GET", Path: rating, As: alice}).JSON(t); got["score"] != 6.0 {
		t.Fatalf("rating = %v", got)
	}
	if got := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/" + film + "/summary"}).JSON(t); got["count"] != 1.0 || got["average"] != 6.0 {
		t.Fatalf("summary = %v", got)
	}
	if got := s.expect(t, 200, request{Method: "GET", Path: review}).JSON(t); got["text"] != "baseline" || got["likes"] != 1.0 || got["dislikes"] != 0.0 {
		t.Fatalf("review = %v", got)
	}
	if got := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/" + film + "/reviews"}).JSON(t); len(got["items"].([]any)) != 1 {
		t.Fatalf("reviews = %v", got)
	}
	if got := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/users/me/bookmarks", As: alice}).JSON(t); len(got["items"].([]any)) != 1 {
		t.Fatalf("bookmarks = %v", got)
	}
	if got := s.expect(t, 200, request{Method: "GET", Path: "/api/v1/users/me/ratings", As: bob}).JSON(t); len(got["items"].([]any)) != 0 {
		t.Fatalf("bob's ratings = %v", got)
	}
}

// TestHeaderLimitIsAProblem: headers over the API's 32 KiB bound get a 431
// problem. Past the HTTP server's own backstop (64 KiB), and for requests it
// cannot parse, Go answers in plain text before any handler runs: the README
// lists those.
func TestHeaderLimitIsAProblem(t *testing.T) {
	s := start(t)
	addr := strings.TrimPrefix(s.URL, "http://")
	r := sendRaw(t, addr, "GET /api/v1/films/"+uuid.NewString()+"/summary HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("b", 40<<10)+"\r\n\r\n")
	var p map[string]any
	if r.Status != 431 || r.ContentType != "application/problem+json" || json.Unmarshal(r.Body, &p) != nil || p["code"] != "header_too_large" {
		t.Fatalf("got %d %q %.200s, want a 431 problem", r.Status, r.ContentType, r.Body)
	}
	s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/" + uuid.NewString() + "/summary", Header: map[string]string{"X-Big": strings.Repeat("b", 30<<10)}})
	if r := sendRaw(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("b", 100<<10)+"\r\n\r\n"); r.Status != 431 {
		t.Fatalf("past the backstop: %d, want Go's own 431", r.Status)
	}
}

// TestEncodedSlashIsNotASeparator: /films/{id}%2Fsummary names no route;
// it was routed as /films/{id}/summary, decoded before routing.
func TestEncodedSlashIsNotASeparator(t *testing.T) {
	s := start(t)
	film := uuid.NewString()
	s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/" + film + "/summary"})
	s.expect(t, 404, request{Method: "GET", Path: "/api/v1/films/" + film + "%2Fsummary"})
	s.expect(t, 404, request{Method: "GET", Path: "/api/v1/films/" + film + "%2freviews"})
}
