package functional

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"
)

// TestSpecSecurityMatchesServer calls every documented operation without a
// token: those the spec marks as secured must answer 401, the others must not.
func TestSpecSecurityMatchesServer(t *testing.T) {
	s := start(t)
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(s.expect(t, 200, request{Method: "GET", Path: "/api/openapi.yaml"}).Body, &doc); err != nil {
		t.Fatal(err)
	}
	operations := 0
	for path, item := range doc.Paths {
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
