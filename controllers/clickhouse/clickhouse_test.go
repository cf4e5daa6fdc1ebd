package clickhouse

import (
	"strings"
	"testing"

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
			if got := len(KeeperObjects(s)) == 3; got != tt.wantKeeper {
				t.Errorf("Keeper's three objects: %v, want %v", got, tt.wantKeeper)
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
