// Package chart tests the Helm chart in charts/ugcstack through the pinned
// helm binary: lint, rendering with default and non-default values, the
// values schema, and drift against what controller-gen writes into config/.
package chart

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

const (
	repoRoot  = "../.."
	chartDir  = repoRoot + "/charts/ugcstack"
	release   = "ugc-test"
	namespace = "ugcstack-system"
)

// helmBin is bin/helm, or $UGC_HELM. `make test-chart` builds helm first and
// sets UGC_HELM, so there a missing binary is a failure; a plain
// `go test ./...` without bin/helm skips, as the envtest suite does without
// its binaries.
func helmBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("UGC_HELM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("UGC_HELM=%s: %v (`make helm` builds it)", p, err)
		}
		return p
	}
	p, err := filepath.Abs(filepath.Join(repoRoot, "bin", "helm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skip("bin/helm is not built: `make test-chart` builds it and runs these tests")
	}
	return p
}

// helm runs the pinned helm and returns its stdout, stderr and error.
func helm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	// No repositories, plugins or caches of the person running the tests.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// writeValues writes a values file for helm's -f.
func writeValues(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rendered is the output of helm template, by kind and name.
type rendered struct {
	objects []*unstructured.Unstructured
}

func (r rendered) get(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range r.objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %q rendered; have %s", kind, name, r.names())
	return nil
}

func (r rendered) ofKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.objects {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func (r rendered) names() string {
	var s []string
	for _, o := range r.objects {
		s = append(s, o.GetKind()+"/"+o.GetName())
	}
	return strings.Join(s, ", ")
}

// template renders the chart (without its CRDs) with extra helm arguments.
func template(t *testing.T, args ...string) rendered {
	t.Helper()
	out, stderr, err := helm(t, append([]string{"template", release, chartDir, "--namespace", namespace}, args...)...)
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", args, err, stderr)
	}
	return rendered{objects: decodeYAML(t, out)}
}

// decodeYAML splits a multi-document YAML stream into objects.
func decodeYAML(t *testing.T, s string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(s), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, s)
		}
		if m == nil {
			continue // an empty document between separators
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}
