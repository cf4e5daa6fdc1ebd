package chart

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

const regenerate = "run `make manifests chart-crds` and commit the result"

// controllerGenLine is the annotation controller-gen writes, after which
// make chart-crds adds the schema digest.
var controllerGenLine = regexp.MustCompile(`(?m)^(    controller-gen\.kubebuilder\.io/version: .*\n)`)

// TestCRDsMatchConfig holds the chart's crds/ to what controller-gen writes
// into config/crd/bases, plus one annotation: the digest of that file, which
// templates/crd-check.yaml compares with the CRD on the cluster.
func TestCRDsMatchConfig(t *testing.T) {
	src := filepath.Join(repoRoot, "config", "crd", "bases")
	dst := filepath.Join(chartDir, "crds")
	want := yamlFiles(t, src)
	got := yamlFiles(t, dst)
	if len(want) == 0 {
		t.Fatalf("no CRDs in %s", src)
	}
	for _, name := range want {
		a, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil {
			t.Errorf("charts/ugcstack/crds/%s is missing: %s", name, regenerate)
			continue
		}
		digest := fmt.Sprintf("%x", sha256.Sum256(a))[:16]
		a = controllerGenLine.ReplaceAll(a, []byte("${1}    ugc.ugcstack.io/schema-digest: \""+digest+"\"\n"))
		if !bytes.Equal(a, b) {
			t.Errorf("charts/ugcstack/crds/%s differs from config/crd/bases/%s: %s", name, name, regenerate)
		}
	}
	for _, name := range got {
		if !slices.Contains(want, name) {
			t.Errorf("charts/ugcstack/crds/%s has no source in config/crd/bases: %s", name, regenerate)
		}
	}
}

func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && filepath.Ext(e.Name()) == ".yaml" {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestClusterRoleMatchesConfigRBAC holds the chart's ClusterRole to the
// rules controller-gen derives from the reconciler's +kubebuilder:rbac
// markers: a new child kind the operator manages must reach the chart too.
func TestClusterRoleMatchesConfigRBAC(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(b, &want); err != nil {
		t.Fatal(err)
	}
	got := typed[rbacv1.ClusterRole](t, template(t).get(t, "ClusterRole", release+"-ugcstack-manager"))
	if reflect.DeepEqual(got.Rules, want.Rules) {
		return
	}
	for _, r := range want.Rules {
		if !slices.ContainsFunc(got.Rules, func(g rbacv1.PolicyRule) bool { return reflect.DeepEqual(g, r) }) {
			t.Errorf("the chart's ClusterRole lacks %s", ruleString(r))
		}
	}
	for _, r := range got.Rules {
		if !slices.ContainsFunc(want.Rules, func(w rbacv1.PolicyRule) bool { return reflect.DeepEqual(w, r) }) {
			t.Errorf("the chart's ClusterRole has %s, which config/rbac/role.yaml does not", ruleString(r))
		}
	}
	t.Errorf("the chart's ClusterRole rules differ from config/rbac/role.yaml: %s", regenerate)
}

func ruleString(r rbacv1.PolicyRule) string {
	return fmt.Sprintf("groups %q resources %q verbs %q", r.APIGroups, r.Resources, r.Verbs)
}
