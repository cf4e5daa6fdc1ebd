package ugcstack

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
)

// TestCacheHoldsOnlyTheOperatorsObjects: every kind the operator owns is
// cached only where it carries the operator's managed-by label.
func TestCacheHoldsOnlyTheOperatorsObjects(t *testing.T) {
	opts := CacheOptions()
	mine := k8slabels.Set{"app.kubernetes.io/managed-by": "ugcstack-operator"}
	helmRelease := k8slabels.Set{"owner": "helm", "name": "ugcstack"}
	seen := map[string]bool{}
	for o, by := range opts.ByObject {
		switch o.(type) {
		case *corev1.Secret:
			seen["Secret"] = true
		case *corev1.ConfigMap:
			seen["ConfigMap"] = true
		case *appsv1.StatefulSet:
			seen["StatefulSet"] = true
		}
		if by.Label == nil || !by.Label.Matches(mine) || by.Label.Matches(helmRelease) {
			t.Errorf("%T cached with selector %v", o, by.Label)
		}
	}
	if len(seen) != 3 {
		t.Errorf("Secrets, ConfigMaps and StatefulSets must be restricted; restricted: %v", seen)
	}
}

// TestCacheWatchesTheGivenNamespaces: a namespace-scoped install watches
// only its namespaces; no namespace (or an empty flag) watches them all.
func TestCacheWatchesTheGivenNamespaces(t *testing.T) {
	if opts := CacheOptions(""); opts.DefaultNamespaces != nil {
		t.Errorf("an empty --watch-namespaces restricts the cache: %v", opts.DefaultNamespaces)
	}
	opts := CacheOptions("team-a", "team-b")
	if _, ok := opts.DefaultNamespaces["team-a"]; len(opts.DefaultNamespaces) != 2 || !ok {
		t.Errorf("namespaces %v", opts.DefaultNamespaces)
	}
}
