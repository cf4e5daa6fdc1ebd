package clickhouse

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

// ClickHouse Keeper coordinates the cluster's distributed DDL. Three nodes
// tolerate the loss of one; its ports are ClickHouse's defaults.
const (
	KeeperNodes = 3
	// clickhouseUID is the clickhouse user of the official image, which
	// runs both the servers and Keeper.
	clickhouseUID   = 101
	keeperDataDir   = "/var/lib/clickhouse-keeper"
	keeperConfigDir = "/etc/clickhouse-keeper"
)

// KeeperName names Keeper's StatefulSet, headless Service and ConfigMap.
func KeeperName(s *ugcv1.UGCStack) string { return common.ClickHouseName(s) + "-keeper" }

// keeperEnabled: as soon as there is more than one ClickHouse server, the
// relay creates its tables ON CLUSTER, whose distributed DDL queue lives in
// Keeper.
func keeperEnabled(s *ugcv1.UGCStack) bool {
	c := s.Spec.ClickHouse
	return common.ManagedClickHouse(s) && c.Shards*c.Replicas > 1
}

// KeeperObjects are Keeper's children; none for a single server.
func KeeperObjects(s *ugcv1.UGCStack) []client.Object {
	if !keeperEnabled(s) {
		return nil
	}
	cm := KeeperConfigMap(s)
	// Drains take one Keeper node at a time: two would leave one of three,
	// below the Raft quorum, and stop every ON CLUSTER statement.
	return []client.Object{
		cm, KeeperService(s), KeeperStatefulSet(s, common.HashData(cm.Data)),
		common.PDB(s, KeeperName(s), common.ComponentKeeper, common.Selector(s, common.ComponentKeeper), 1),
	}
}

func keeperHosts(s *ugcv1.UGCStack) []string {
	hosts := make([]string, KeeperNodes)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%s-%d.%s.%s.svc", KeeperName(s), i, KeeperName(s), s.Namespace)
	}
	return hosts
}

// keeperClientConfig is ClickHouse's <zookeeper> section listing the Keeper
// nodes; empty when there is no Keeper.
func keeperClientConfig(s *ugcv1.UGCStack) string {
	if !keeperEnabled(s) {
		return ""
	}
	var b strings.Builder
	b.WriteString("  <zookeeper>\n")
	for _, h := range keeperHosts(s) {
		fmt.Fprintf(&b, "    <node><host>%s</host><port>%d</port></node>\n", h, common.KeeperClientPort)
	}
	b.WriteString("  </zookeeper>\n")
	return b.String()
}

// KeeperConfigMap is keeper_config.xml: the Raft configuration lists the
// three nodes with ids 1..3; each node takes its own id from
// KEEPER_SERVER_ID, which the container derives from its ordinal.
func KeeperConfigMap(s *ugcv1.UGCStack) *corev1.ConfigMap {
	var b strings.Builder
	fmt.Fprintf(&b, `<clickhouse>
  <listen_host>0.0.0.0</listen_host>
  <logger><console>1</console><level>information</level></logger>
  <keeper_server>
    <tcp_port>%d</tcp_port>
    <server_id from_env="KEEPER_SERVER_ID"/>
    <log_storage_path>%s/log</log_storage_path>
    <snapshot_storage_path>%s/snapshots</snapshot_storage_path>
    <coordination_settings>
      <operation_timeout_ms>10000</operation_timeout_ms>
      <session_timeout_ms>30000</session_timeout_ms>
      <raft_logs_level>warning</raft_logs_level>
    </coordination_settings>
    <raft_configuration>
`, common.KeeperClientPort, keeperDataDir, keeperDataDir)
	for i, h := range keeperHosts(s) {
		fmt.Fprintf(&b, "      <server><id>%d</id><hostname>%s</hostname><port>%d</port></server>\n", i+1, h, common.KeeperRaftPort)
	}
	b.WriteString("    </raft_configuration>\n  </keeper_server>\n</clickhouse>\n")
	return common.ConfigMap(s, KeeperName(s), common.ComponentKeeper, map[string]string{"keeper_config.xml": b.String()})
}

// KeeperService is the headless Service the Raft peers and ClickHouse reach
// the nodes by; peers must resolve each other before any is ready.
func KeeperService(s *ugcv1.UGCStack) *corev1.Service {
	return common.HeadlessService(s, KeeperName(s), common.ComponentKeeper, true,
		corev1.ServicePort{Name: "client", Port: common.KeeperClientPort}, corev1.ServicePort{Name: "raft", Port: common.KeeperRaftPort})
}

// KeeperStatefulSet runs the three Keeper nodes from the ClickHouse image,
// so Keeper and server versions move together. Parallel start: a Raft
// quorum forms only once two nodes run. configHash rolls the nodes.
func KeeperStatefulSet(s *ugcv1.UGCStack, configHash string) *appsv1.StatefulSet {
	c := s.Spec.ClickHouse
	l := common.Labels(s, common.ComponentKeeper)
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: common.ObjectMeta(s, KeeperName(s), common.ComponentKeeper),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(int32(KeeperNodes)),
			ServiceName:         KeeperName(s),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: common.Selector(s, common.ComponentKeeper)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l, Annotations: map[string]string{common.ConfigHashAnnotation: configHash}},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              common.NonRootPod(clickhouseUID, true),
					Affinity:                     common.SpreadAffinity(s.Spec.ClickHouse.Spread, common.Selector(s, common.ComponentKeeper)),
					Containers: []corev1.Container{{
						Name:  "keeper",
						Image: c.Image,
						// Raft ids start at 1; the pod ordinal (HOSTNAME's
						// suffix) starts at 0.
						Command: []string{"/bin/bash", "-c", `export KEEPER_SERVER_ID=$(( ${HOSTNAME##*-} + 1 )) && exec clickhouse keeper --config-file=` + keeperConfigDir + `/keeper_config.xml`},
						Ports: []corev1.ContainerPort{
							{Name: "client", ContainerPort: common.KeeperClientPort, Protocol: corev1.ProtocolTCP},
							{Name: "raft", ContainerPort: common.KeeperRaftPort, Protocol: corev1.ProtocolTCP},
						},
						Resources: common.Requests("100m", "256Mi"),
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("client")}},
							PeriodSeconds: 10,
						},
						SecurityContext: common.RestrictedSecurityContext(),
						VolumeMounts: []corev1.VolumeMount{
							{Name: common.DataVolume, MountPath: keeperDataDir},
							{Name: "config", MountPath: keeperConfigDir, ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{common.ConfigMapVolume("config", KeeperName(s)), common.EmptyDir("tmp")},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{common.DataClaim(common.ClaimLabels(s, common.ComponentKeeper), ugcv1.StorageSpec{StorageClassName: c.Storage.StorageClassName}, "5Gi")},
		},
	}
}
