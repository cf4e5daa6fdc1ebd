package clickhouse

import (
	"strings"
	"testing"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common/commontest"
)

func TestGolden(t *testing.T) {
	for name, s := range commontest.Samples() {
		t.Run(name, func(t *testing.T) {
			objs := append(Objects(s), KeeperObjects(s)...)
			if len(objs) > 0 {
				objs = append(objs, AuthSecret(s))
			}
			commontest.Golden(t, name, objs)
		})
	}
}

// TestKeeperOnlyForClusters: ClickHouse Keeper and the <zookeeper> section
// exist exactly when there is more than one managed server.
func TestKeeperOnlyForClusters(t *testing.T) {
	for _, tt := range []struct {
		name       string
		mutate     func(*ugcv1.ClickHouseSpec)
		wantKeeper bool
	}{
		{"one server", func(c *ugcv1.ClickHouseSpec) { c.Shards, c.Replicas = 1, 1 }, false},
		{"two shards of one replica (ON CLUSTER needs Keeper)", func(c *ugcv1.ClickHouseSpec) { c.Replicas = 1 }, true},
		{"two replicas", func(c *ugcv1.ClickHouseSpec) {}, true},
		{"disabled", func(c *ugcv1.ClickHouseSpec) { c.Enabled = false }, false},
		{"external", func(c *ugcv1.ClickHouseSpec) {
			c.External = &ugcv1.ExternalClickHouse{DSNSecretRef: ugcv1.SecretKeyRef{Name: "ch", Key: "dsn"}}
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := commontest.Production()
			tt.mutate(&s.Spec.ClickHouse)
			if got := len(KeeperObjects(s)) == 3; got != tt.wantKeeper {
				t.Errorf("Keeper's three objects: %v, want %v", got, tt.wantKeeper)
			}
			if zk := strings.Contains(ConfigMap(s).Data["cluster.xml"], "<zookeeper>"); zk != tt.wantKeeper {
				t.Errorf("<zookeeper> in cluster.xml: %v, want %v", zk, tt.wantKeeper)
			}
		})
	}
}
