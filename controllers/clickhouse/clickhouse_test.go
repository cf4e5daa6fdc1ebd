package clickhouse

import (
	"reflect"
	"strings"
	"testing"

	policyv1 "k8s.io/api/policy/v1"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
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
			if got := len(KeeperObjects(s)) == 4; got != tt.wantKeeper {
				t.Errorf("Keeper's four objects (with its PDB): %v, want %v", got, tt.wantKeeper)
			}
			if zk := strings.Contains(ConfigMap(s).Data["cluster.xml"], "<zookeeper>"); zk != tt.wantKeeper {
				t.Errorf("<zookeeper> in cluster.xml: %v, want %v", zk, tt.wantKeeper)
			}
		})
	}
}

// TestConfigChangesReachRunningServers: cluster.xml is one file mounted by
// subPath, which the kubelet never refreshes, so the pod template carries
// the ConfigMap's hash and a change rolls the servers. It stays one file:
// the image puts docker_related_config.xml (listen_host :: and 0.0.0.0) in
// the same directory (ClickHouse/ClickHouse docker/server/Dockerfile, COPY
// docker_related_config.xml /etc/clickhouse-server/config.d/), which a
// ConfigMap mounted over the directory would hide.
func TestConfigChangesReachRunningServers(t *testing.T) {
	s := commontest.Production()
	hash := func(s *ugcv1.UGCStack) string {
		sts := Objects(s)[2].(*appsv1.StatefulSet)
		return sts.Spec.Template.Annotations[common.ConfigHashAnnotation]
	}
	before := hash(s)
	s.Spec.ClickHouse.Replicas = 3
	if hash(s) == before || before == "" {
		t.Errorf("config hash %q did not change with the cluster", before)
	}
	for _, m := range Objects(s)[2].(*appsv1.StatefulSet).Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.Name == "config" && (m.SubPath == "" || m.MountPath == configDir) {
			t.Errorf("the ConfigMap is mounted over %s: %+v", configDir, m)
		}
	}
}

// TestServersRunRestricted: the servers run as the image's clickhouse
// user without privileges, with a memory limit. The root filesystem stays
// writable: docker/server/entrypoint.sh writes
// /etc/clickhouse-server/users.d/default-user.xml at every start, and the
// image makes /etc/clickhouse-server writable for any user (chmod ugo+Xrw).
func TestServersRunRestricted(t *testing.T) {
	pod := StatefulSets(commontest.Production(), "")[0].Spec.Template.Spec
	c := pod.Containers[0]
	switch {
	case !ptr.Deref(pod.SecurityContext.RunAsNonRoot, false) || ptr.Deref(pod.SecurityContext.RunAsUser, 0) != clickhouseUID:
		t.Errorf("pod security context %+v", pod.SecurityContext)
	case ptr.Deref(c.SecurityContext.AllowPrivilegeEscalation, true) || len(c.SecurityContext.Capabilities.Drop) == 0:
		t.Errorf("container security context %+v", c.SecurityContext)
	case c.SecurityContext.SeccompProfile == nil:
		t.Error("no seccomp profile")
	case c.Resources.Limits.Memory().IsZero():
		t.Error("no memory limit: BestEffort")
	}
	if !Service(commontest.Production()).Spec.PublishNotReadyAddresses {
		t.Error("unready servers are not in DNS")
	}
}

// TestDrainsKeepQuorumAndACopy: Keeper and ClickHouse had no
// PodDisruptionBudget, so two drains could take two of three Keeper nodes
// (below Raft's quorum) or both replicas of a shard. Each gets one that
// lets drains take one pod at a time, and a shard's selects only its own
// servers; a single server has none.
func TestDrainsKeepQuorumAndACopy(t *testing.T) {
	s := commontest.Production() // 2 shards x 2 replicas
	pdbs := map[string]*policyv1.PodDisruptionBudget{}
	for _, o := range append(Objects(s), KeeperObjects(s)...) {
		if p, ok := o.(*policyv1.PodDisruptionBudget); ok {
			pdbs[p.Name] = p
		}
	}
	if len(pdbs) != 3 {
		t.Fatalf("%d PDBs, want one per shard and Keeper's: %v", len(pdbs), pdbs)
	}
	keeper := pdbs[KeeperName(s)]
	if keeper == nil || keeper.Spec.MaxUnavailable.IntValue() != 1 || keeper.Spec.Selector.MatchLabels["app.kubernetes.io/component"] != common.ComponentKeeper {
		t.Errorf("Keeper's PDB %+v", keeper)
	}
	for sh := range s.Spec.ClickHouse.Shards {
		p := pdbs[common.ClickHouseShardName(s, sh)]
		sts := StatefulSets(s, "")[sh]
		if p == nil || p.Spec.MaxUnavailable.IntValue() != 1 || !reflect.DeepEqual(p.Spec.Selector.MatchLabels, sts.Spec.Selector.MatchLabels) {
			t.Errorf("shard %d's PDB %+v does not select its StatefulSet's pods %v", sh, p, sts.Spec.Selector.MatchLabels)
		}
	}
	s.Spec.ClickHouse.Shards, s.Spec.ClickHouse.Replicas = 1, 1
	for _, o := range Objects(s) {
		if _, ok := o.(*policyv1.PodDisruptionBudget); ok {
			t.Errorf("a single server has PDB %s", o.GetName())
		}
	}
}
