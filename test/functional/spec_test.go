package functional

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"
)

// specPaths is the paths of the OpenAPI document the server serves, each
// with its operations by method.
func specPaths(t *testing.T, s *server) map[string]map[string]yaml.Node {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(s.expect(t, 200, request{Method: "GET", Path: "/api/openapi.yaml"}).Body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Paths
}

// TestSpecSecurityMatchesServer calls every documented operation without a
// token: those the spec marks as secured must answer 401, the others must not.
func TestSpecSecurityMatchesServer(t *testing.T) {
	s := start(t)
	operations := 0
	for path, item := range specPaths(t, s) {
		concrete := strings.NewReplacer("{film_id}", uuid.NewString(), "{review_id}", uuid.NewString()).Replace(path)
		for method, node := range item {
			if !slices.Contains([]string{"get", "put", "post", "patch", "delete"}, method) {
				continue
			}
			var op struct {
				Security []map[string]any `yaml:"security"`
			}
			if err := node.Decode(&op); err != nil {
				t.Fatal(err)
			}
			operations++
			resp := s.do(t, request{Method: strings.ToUpper(method), Path: concrete, Body: map[string]any{}})
			if secured := len(op.Security) > 0; secured != (resp.Status == 401) {
				t.Errorf("%s %s: secured=%v but anonymous call answered %d", method, path, secured, resp.Status)
			}
		}
	}
	if operations < 18 {
		t.Fatalf("only %d operations documented", operations)
	}
}

// TestHeadAnswersLikeGet: every documented GET answers HEAD with the same
// status and validators and no body (RFC 9110 §9.3.2); it was 405, for
// /healthz and /readyz too.
func TestHeadAnswersLikeGet(t *testing.T) {
	s := start(t)
	alice := newUser(t)
	film := uuid.NewString()
	s.expect(t, 200, request{Method: "PUT", Path: "/api/v1/films/" + film + "/rating", As: alice, Body: map[string]int{"score": 6}})
	review := s.expect(t, 201, request{Method: "POST", Path: "/api/v1/films/" + film + "/reviews", As: alice, Body: map[string]string{"text": "ok"}}).JSON(t)["id"].(string)
	reads := 0
	for path, item := range specPaths(t, s) {
		if _, ok := item["get"]; !ok {
			continue
		}
		reads++
		concrete := strings.NewReplacer("{film_id}", film, "{review_id}", review).Replace(path)
		if path == "/api/v1/films/summaries" {
			concrete += "?film_id=" + film
		}
		get := s.do(t, request{Method: "GET", Path: concrete, As: alice})
		head := s.do(t, request{Method: "HEAD", Path: concrete, As: alice})
		if head.Status != get.Status || len(head.Body) != 0 {
			t.Errorf("HEAD %s: %d with %d body bytes; GET answered %d", concrete, head.Status, len(head.Body), get.Status)
		}
		if head.Header.Get("ETag") != get.Header.Get("ETag") || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: ETag %q, Content-Type %q; GET %q, %q", concrete, head.Header.Get("ETag"), head.Header.Get("Content-Type"), get.Header.Get("ETag"), get.Header.Get("Content-Type"))
		}
	}
	if reads < 10 {
		t.Fatalf("only %d GET operations in the spec", reads)
	}
}
