package chart

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestLint(t *testing.T) {
	for name, args := range map[string][]string{
		"default":     nil,
		"non-default": {"-f", writeValues(t, nonDefault)},
	} {
		t.Run(name, func(t *testing.T) {
			out, stderr, err := helm(t, append([]string{"lint", "--strict", chartDir}, args...)...)
			if err != nil {
				t.Fatalf("helm lint: %v\n%s%s", err, out, stderr)
			}
		})
	}
}

// TestSchemaRejects: values.schema.json turns mistakes into errors that name
// the value, before anything reaches a cluster.
func TestSchemaRejects(t *testing.T) {
	for _, c := range []struct{ set, wantInError string }{
		{"replicas=-1", "/replicas"},
		{"stack.api.replicas=-1", "/stack/api/replicas"},
		{"stack.gateway.rateLimitPerSecond=-5", "/stack/gateway/rateLimitPerSecond"},
		{"replica=2", "additional properties 'replica'"},
		{"stack.mongodb.member=3", "additional properties 'member'"},
		{"stack.mongodb.members=2", "/stack/mongodb/members"},
		{"stack.mongodb.deletePolicy=Sometimes", "/stack/mongodb/deletePolicy"},
		{"stack.clickhouse.deletePolicy=Sometimes", "/stack/clickhouse/deletePolicy"},
		{"stack.mongodb.storageSize=lots", "/stack/mongodb/storageSize"},
		{"logLevel=verbose", "/logLevel"},
		{"stack.api.logLevel=trace", "/stack/api/logLevel"},
		{"stack.api.jwt.secret=too-short", "/stack/api/jwt/secret"},
		{"stack.name=Not_A_Name", "/stack/name"},
		{"metrics.port=70000", "/metrics/port"},
		{"image.pullPolicy=Sometimes", "/image/pullPolicy"},
	} {
		t.Run(c.set, func(t *testing.T) {
			for _, cmd := range []string{"template", "lint"} {
				args := []string{cmd}
				if cmd == "template" {
					args = append(args, release)
				}
				out, stderr, err := helm(t, append(args, chartDir, "--set", c.set)...)
				if err == nil {
					t.Fatalf("helm %s --set %s succeeded", cmd, c.set)
				}
				if !strings.Contains(out+stderr, c.wantInError) {
					t.Errorf("helm %s --set %s: error does not name %q:\n%s%s", cmd, c.set, c.wantInError, out, stderr)
				}
			}
		})
	}
}

func TestTemplateRefuses(t *testing.T) {
	_, stderr, err := helm(t, "template", release, chartDir, "--set", "replicas=2,leaderElection=false")
	if err == nil || !strings.Contains(stderr, "needs leaderElection") {
		t.Errorf("two managers without leader election: err %v\n%s", err, stderr)
	}
}

// TestREADMEListsEveryValue: the chart README's table has one row per leaf
// of values.yaml, and no row for a value that is gone.
func TestREADMEListsEveryValue(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(b, &values); err != nil {
		t.Fatal(err)
	}
	var want []string
	leaves("", values, &want)
	sort.Strings(want)

	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z0-9.]+)` \\|")
	var got []string
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		got = append(got, m[1])
	}
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("README.md has no row for %s", k)
		}
	}
	for _, k := range got {
		if !slices.Contains(want, k) {
			t.Errorf("README.md lists %s, which values.yaml does not have", k)
		}
	}
}

// leaves collects the dotted paths of values.yaml's settings; a map with
// keys is a section, an empty map or list is a setting of its own.
func leaves(prefix string, v any, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 || prefix == "resources" {
		*out = append(*out, prefix)
		return
	}
	for k, sub := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		leaves(p, sub, out)
	}
}
