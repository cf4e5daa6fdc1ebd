package http

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ugcstack/ugcstack/ugc-service/metrics"
)

// spec is the part of the OpenAPI document these tests read.
type spec struct {
	OpenAPI string                          `yaml:"openapi"`
	Paths   map[string]map[string]yaml.Node `yaml:"paths"`
}

type specOperation struct {
	OperationID string           `yaml:"operationId"`
	Security    []map[string]any `yaml:"security"`
	Responses   map[string]any   `yaml:"responses"`
}

var httpMethods = []string{"get", "put", "post", "patch", "delete"}

func loadSpec(t *testing.T) spec {
	t.Helper()
	var s spec
	if err := yaml.Unmarshal(openAPISpec, &s); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(s.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q, want 3.1", s.OpenAPI)
	}
	return s
}

// TestSpecListsEveryRoute holds the OpenAPI document and the router to the
// same set of routes, so neither can gain an endpoint the other lacks.
func TestSpecListsEveryRoute(t *testing.T) {
	doc := loadSpec(t)
	var documented []string
	ids := map[string]bool{}
	for path, item := range doc.Paths {
		for method, node := range item {
			if !slices.Contains(httpMethods, method) {
				continue // path-level parameters
			}
			var op specOperation
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if method == "get" { // the spec's description: every GET answers HEAD too
				documented = append(documented, "HEAD "+path)
			}
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s %s: missing or repeated operationId %q", method, path, op.OperationID)
			}
			ids[op.OperationID] = true
			if len(op.Responses) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
		}
	}
	srv, err := NewServer(Config{Metrics: metrics.New()})
	if err != nil {
		t.Fatal(err)
	}
	routed := srv.Routes()
	slices.Sort(documented)
	slices.Sort(routed)
	if !slices.Equal(documented, routed) {
		t.Fatalf("spec and router differ\nspec:   %v\nrouter: %v", documented, routed)
	}
}

// TestSpecDocumentsCachingAndLimits: every public read of the API documents
// its 304, and every write its 429, as the router applies them.
func TestSpecDocumentsCachingAndLimits(t *testing.T) {
	for path, item := range loadSpec(t).Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method, node := range item {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			var op specOperation
			if err := node.Decode(&op); err != nil {
				t.Fatal(err)
			}
			_, notModified := op.Responses["304"]
			_, limited := op.Responses["429"]
			public := method == "get" && len(op.Security) == 0
			write := method != "get"
			if public != notModified || write != limited {
				t.Errorf("%s %s: documents 304=%v 429=%v, want %v %v", method, path, notModified, limited, public, write)
			}
		}
	}
}
