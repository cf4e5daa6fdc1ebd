package relay

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common/commontest"
)

func TestGolden(t *testing.T) {
	for name, s := range commontest.Samples() {
		t.Run(name, func(t *testing.T) {
			var objs []*appsv1.Deployment
			if d := Deployment(s); d != nil {
				objs = append(objs, d)
			}
			commontest.Golden(t, name, objs)
		})
	}
}

// TestFollowsClickHouse: the relay runs whenever the stack has a
// ClickHouse, pointed at the external DSN or at every managed server, with
// the cluster named only when there is more than one server.
func TestFollowsClickHouse(t *testing.T) {
	env := func(d *appsv1.Deployment) map[string]corev1.EnvVar {
		m := map[string]corev1.EnvVar{}
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			m[e.Name] = e
		}
		return m
	}
	secret := func(d *appsv1.Deployment, name string) *ugcv1.SecretKeyRef {
		return commontest.SecretRef(d.Spec.Template.Spec, d.Spec.Template.Spec.Containers[0], name)
	}
	s := commontest.Production()
	if e := env(Deployment(s)); strings.Count(e["UGC_CLICKHOUSE_ADDR"].Value, ":9000") != 4 || e["UGC_CLICKHOUSE_CLUSTER"].Value != "ugc" {
		t.Errorf("2×2 cluster: relay env %v", e)
	}
	s.Spec.ClickHouse.Shards, s.Spec.ClickHouse.Replicas = 1, 1
	if e := env(Deployment(s)); e["UGC_CLICKHOUSE_ADDR"].Value != "prod-clickhouse-s0-0.prod-clickhouse.ugc.svc:9000" || e["UGC_CLICKHOUSE_CLUSTER"].Name != "" {
		t.Errorf("one server: relay env %v", e)
	}
	s.Spec.ClickHouse.External = &ugcv1.ExternalClickHouse{DSNSecretRef: ugcv1.SecretKeyRef{Name: "ch", Key: "dsn"}}
	if d := Deployment(s); secret(d, "UGC_CLICKHOUSE_DSN") == nil || secret(d, "UGC_CLICKHOUSE_DSN").Name != "ch" || env(d)["UGC_CLICKHOUSE_ADDR"].Name != "" {
		t.Errorf("external: relay env %v", env(d))
	}
	s.Spec.ClickHouse.External, s.Spec.ClickHouse.Enabled = nil, false
	if d := Deployment(s); d != nil {
		t.Errorf("no ClickHouse, yet a relay: %v", d.Name)
	}
}
