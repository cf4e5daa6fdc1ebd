// Package clickhouse is the managed ClickHouse component: one StatefulSet
// per shard, the cluster description (remote_servers, macros), the
// generated credentials and, for more than one server, ClickHouse Keeper.
package clickhouse

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

const configDir = "/etc/clickhouse-server/config.d"

// ConfigMap describes the cluster (remote_servers) and the per-pod macros,
// derived from the pod's hostname at start.
func ConfigMap(s *ugcv1.UGCStack) *corev1.ConfigMap {
	var b strings.Builder
	// The relay's tables are plain (not Replicated) MergeTree, so the
	// Distributed table writes each row to every replica of its shard
	// itself: internal_replication is false.
	fmt.Fprintf(&b, "<clickhouse>\n  <remote_servers>\n    <%s>\n", common.ClickHouseCluster)
	for _, shard := range common.ClickHouseHosts(s) {
		b.WriteString("      <shard>\n        <internal_replication>false</internal_replication>\n")
		for _, h := range shard {
			// Servers query each other as the generated user, whose
			// password each reads from its own environment.
			fmt.Fprintf(&b, "        <replica><host>%s</host><port>%d</port><user>%s</user><password from_env=\"CLICKHOUSE_PASSWORD\"/></replica>\n",
				h, common.ClickHousePort, common.ClickHouseUser)
		}
		b.WriteString("      </shard>\n")
	}
	fmt.Fprintf(&b, "    </%s>\n  </remote_servers>\n", common.ClickHouseCluster)
	b.WriteString(keeperClientConfig(s))
	fmt.Fprintf(&b, "  <macros>\n    <cluster>%s</cluster>\n", common.ClickHouseCluster)
	b.WriteString("    <shard from_env=\"CLICKHOUSE_SHARD\"/>\n    <replica from_env=\"HOSTNAME\"/>\n  </macros>\n</clickhouse>\n")
	return common.ConfigMap(s, common.ClickHouseName(s), common.ComponentClickHouse, map[string]string{"cluster.xml": b.String()})
}

// Service is the headless Service of every shard's pods. Unready servers
// are published too: a server starting up must resolve its own name in
// remote_servers to know which replica it is.
func Service(s *ugcv1.UGCStack) *corev1.Service {
	return common.HeadlessService(s, common.ClickHouseName(s), common.ComponentClickHouse, true,
		corev1.ServicePort{Name: "native", Port: common.ClickHousePort}, corev1.ServicePort{Name: "http", Port: common.ClickHouseHTTPPort})
}

// AuthSecret holds the generated credentials; its data is made once, by
// the reconcile step, never from the spec.
func AuthSecret(s *ugcv1.UGCStack) *corev1.Secret {
	return common.Secret(s, common.ClickHouseAuthSecretName(s), common.ComponentClickHouse, nil)
}

func generateAuth(context.Context) (map[string]string, error) {
	return map[string]string{"username": common.ClickHouseUser, "password": common.RandomPassword(24)}, nil
}

// shardSelector picks one shard's servers.
func shardSelector(s *ugcv1.UGCStack, shard int32) map[string]string {
	sel := common.Selector(s, common.ComponentClickHouse)
	sel["ugc.ugcstack.io/shard"] = fmt.Sprint(shard)
	return sel
}

func claimLabels(s *ugcv1.UGCStack, shard int32) map[string]string {
	l := common.ClaimLabels(s, common.ComponentClickHouse)
	l["ugc.ugcstack.io/shard"] = fmt.Sprint(shard)
	return l
}

// StatefulSets returns one StatefulSet per shard. configHash, of the
// ConfigMap, rolls the servers when the cluster changes: the file is
// mounted by subPath, which the kubelet never refreshes.
func StatefulSets(s *ugcv1.UGCStack, configHash string) []*appsv1.StatefulSet {
	c := s.Spec.ClickHouse
	resources := c.Resources
	if resources.Requests == nil {
		resources.Requests = common.Requests("250m", "1Gi").Requests
	}
	resources = common.DefaultMemoryLimit(resources, "2Gi")
	// The image's entrypoint writes users.d/default-user.xml under
	// /etc/clickhouse-server at every start, so its root filesystem
	// stays writable; everything else is as restricted as the rest.
	sc := common.RestrictedSecurityContext()
	sc.ReadOnlyRootFilesystem = ptr.To(false)
	var out []*appsv1.StatefulSet
	for sh := range c.Shards {
		l := common.Labels(s, common.ComponentClickHouse)
		l["ugc.ugcstack.io/shard"] = fmt.Sprint(sh)
		sel := shardSelector(s, sh)
		out = append(out, &appsv1.StatefulSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
			ObjectMeta: metav1.ObjectMeta{Name: common.ClickHouseShardName(s, sh), Namespace: s.Namespace, Labels: l},
			Spec: appsv1.StatefulSetSpec{
				Replicas:    ptr.To(c.Replicas),
				ServiceName: common.ClickHouseName(s),
				Selector:    &metav1.LabelSelector{MatchLabels: sel},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: l, Annotations: map[string]string{common.ConfigHashAnnotation: configHash}},
					Spec: corev1.PodSpec{
						AutomountServiceAccountToken: ptr.To(false),
						SecurityContext:              common.NonRootPod(clickhouseUID, true),
						Affinity:                     common.SpreadAffinity(c.Spread, sel),
						Containers: []corev1.Container{{
							Name:  "clickhouse",
							Image: c.Image,
							Env: []corev1.EnvVar{
								{Name: "CLICKHOUSE_SHARD", Value: fmt.Sprint(sh)},
								// The image's entrypoint creates this user in place of "default".
								{Name: "CLICKHOUSE_USER", Value: common.ClickHouseUser},
								common.SecretEnv("CLICKHOUSE_PASSWORD", common.ClickHousePasswordRef(s)),
							},
							Ports:           []corev1.ContainerPort{{Name: "native", ContainerPort: common.ClickHousePort}, {Name: "http", ContainerPort: common.ClickHouseHTTPPort}},
							Resources:       resources,
							SecurityContext: sc,
							ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
								Path: "/ping", Port: intstr.FromString("http"),
							}}, PeriodSeconds: 10},
							// One file in config.d, beside the image's own
							// docker_related_config.xml (listen on every
							// address), which a mount of the directory would hide.
							VolumeMounts: []corev1.VolumeMount{
								{Name: common.DataVolume, MountPath: "/var/lib/clickhouse"},
								{Name: "config", MountPath: configDir + "/cluster.xml", SubPath: "cluster.xml", ReadOnly: true},
							},
						}},
						Volumes: []corev1.Volume{common.ConfigMapVolume("config", common.ClickHouseName(s))},
					},
				},
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{common.DataClaim(claimLabels(s, sh), c.Storage, "10Gi")},
			},
		})
	}
	return out
}
