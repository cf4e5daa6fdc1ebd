package common

import (
	"testing"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// TestSpreadAffinity: the members of a set, a shard's replicas and Keeper's
// nodes could all land on one node. Preferred (the default, also for an
// unset policy) asks for different nodes, Required demands them, None
// leaves it to the scheduler.
func TestSpreadAffinity(t *testing.T) {
	sel := map[string]string{"app.kubernetes.io/component": "mongodb"}
	for _, policy := range []ugcv1.Spread{"", ugcv1.SpreadPreferred} {
		a := SpreadAffinity(policy, sel)
		if a == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 || a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
			t.Fatalf("%q: %+v", policy, a)
		}
		term := a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
		if term.TopologyKey != "kubernetes.io/hostname" || term.LabelSelector.MatchLabels["app.kubernetes.io/component"] != "mongodb" {
			t.Fatalf("%q: term %+v", policy, term)
		}
	}
	if a := SpreadAffinity(ugcv1.SpreadRequired, sel); a == nil || len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 || a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution != nil {
		t.Fatalf("Required: %+v", a)
	}
	if a := SpreadAffinity(ugcv1.SpreadNone, sel); a != nil {
		t.Fatalf("None: %+v", a)
	}
}
