package controllers

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/deploy/logging"
	"github.com/ugcstack/ugcstack/deploy/nginx"
)

// BuildGatewayConfigMap is nginx's configuration, rendered from the same
// template as the standalone deploy/nginx/nginx.conf: JSON access log with
// ECS names and the request id, X-Request-Id passed upstream, the API's
// 64 KiB body limit and the optional per-address rate limit.
func BuildGatewayConfigMap(s *ugcv1.UGCStack) (*corev1.ConfigMap, error) {
	g := s.Spec.Gateway
	p := nginx.Defaults()
	p.Listen = fmt.Sprint(gatewayPort)
	p.Upstreams = []string{fmt.Sprintf("%s.%s.svc:80", apiName(s), s.Namespace)}
	p.RatePerSecond, p.Burst = int(g.RateLimitPerSecond), int(g.RateLimitPerSecond)*2
	p.MaxBodySize = bodyLimit
	conf, err := nginx.Render(p)
	if err != nil {
		return nil, err
	}
	return configMap(s, gatewayName(s), componentGateway, map[string]string{"nginx.conf": conf}), nil
}

// BuildGatewayDeployment runs nginx with the ConfigMap above.
func BuildGatewayDeployment(s *ugcv1.UGCStack, configHash string) *appsv1.Deployment {
	g := s.Spec.Gateway
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(s, gatewayName(s), componentGateway),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(g.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selector(s, componentGateway)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(s, componentGateway), Annotations: map[string]string{"ugc.ugcstack.io/config-hash": configHash}},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              nonRootPod(101, false),
					Containers: []corev1.Container{{
						Name:  "nginx",
						Image: g.Image,
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: gatewayPort, Protocol: corev1.ProtocolTCP}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
							Path: "/nginx-health", Port: intstr.FromString("http"),
						}}, PeriodSeconds: 5},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("32Mi"),
						}},
						SecurityContext: restrictedSecurityContext(),
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: "/etc/nginx/nginx.conf", SubPath: "nginx.conf", ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: gatewayName(s)}}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
}

// BuildGatewayService exposes the gateway.
func BuildGatewayService(s *ugcv1.UGCStack) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(s, gatewayName(s), componentGateway),
		Spec: corev1.ServiceSpec{
			Selector: selector(s, componentGateway),
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
}

func clickhouseShardName(s *ugcv1.UGCStack, shard int32) string {
	return fmt.Sprintf("%s-s%d", clickhouseName(s), shard)
}

// clickhouseHost is the stable DNS name of one managed ClickHouse server.
func clickhouseHost(s *ugcv1.UGCStack, shard, replica int32) string {
	return fmt.Sprintf("%s-%d.%s.%s.svc", clickhouseShardName(s, shard), replica, clickhouseName(s), s.Namespace)
}

// BuildClickHouseConfigMap describes the cluster (remote_servers) and the
// per-pod macros, derived from the pod's hostname at start.
func BuildClickHouseConfigMap(s *ugcv1.UGCStack) *corev1.ConfigMap {
	c := s.Spec.ClickHouse
	var b strings.Builder
	// The relay's tables are plain (not Replicated) MergeTree, so the
	// Distributed table writes each row to every replica of its shard
	// itself: internal_replication is false.
	fmt.Fprintf(&b, "<clickhouse>\n  <remote_servers>\n    <%s>\n", clickhouseCluster)
	for sh := int32(0); sh < c.Shards; sh++ {
		b.WriteString("      <shard>\n        <internal_replication>false</internal_replication>\n")
		for r := int32(0); r < c.Replicas; r++ {
			// Servers query each other as the generated user, whose
			// password each reads from its own environment.
			fmt.Fprintf(&b, "        <replica><host>%s</host><port>%d</port><user>%s</user><password from_env=\"CLICKHOUSE_PASSWORD\"/></replica>\n",
				clickhouseHost(s, sh, r), clickhousePort, clickhouseUser)
		}
		b.WriteString("      </shard>\n")
	}
	fmt.Fprintf(&b, "    </%s>\n  </remote_servers>\n", clickhouseCluster)
	b.WriteString(keeperClientConfig(s))
	fmt.Fprintf(&b, "  <macros>\n    <cluster>%s</cluster>\n", clickhouseCluster)
	b.WriteString("    <shard from_env=\"CLICKHOUSE_SHARD\"/>\n    <replica from_env=\"HOSTNAME\"/>\n  </macros>\n</clickhouse>\n")
	return configMap(s, clickhouseName(s), componentClickHouse, map[string]string{"cluster.xml": b.String()})
}

// BuildClickHouseService is the headless Service of every shard's pods.
func BuildClickHouseService(s *ugcv1.UGCStack) *corev1.Service {
	return headlessService(s, clickhouseName(s), componentClickHouse, false,
		corev1.ServicePort{Name: "native", Port: clickhousePort}, corev1.ServicePort{Name: "http", Port: 8123})
}

// BuildClickHouseStatefulSets returns one StatefulSet per shard.
func BuildClickHouseStatefulSets(s *ugcv1.UGCStack) []*appsv1.StatefulSet {
	c := s.Spec.ClickHouse
	var out []*appsv1.StatefulSet
	for sh := int32(0); sh < c.Shards; sh++ {
		l := labels(s, componentClickHouse)
		l["ugc.ugcstack.io/shard"] = fmt.Sprint(sh)
		sel := selector(s, componentClickHouse)
		sel["ugc.ugcstack.io/shard"] = fmt.Sprint(sh)
		out = append(out, &appsv1.StatefulSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
			ObjectMeta: metav1.ObjectMeta{Name: clickhouseShardName(s, sh), Namespace: s.Namespace, Labels: l},
			Spec: appsv1.StatefulSetSpec{
				Replicas:    ptr.To(c.Replicas),
				ServiceName: clickhouseName(s),
				Selector:    &metav1.LabelSelector{MatchLabels: sel},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: l},
					Spec: corev1.PodSpec{
						AutomountServiceAccountToken: ptr.To(false),
						Containers: []corev1.Container{{
							Name:  "clickhouse",
							Image: c.Image,
							Env: []corev1.EnvVar{
								{Name: "CLICKHOUSE_SHARD", Value: fmt.Sprint(sh)},
								// The image's entrypoint creates this user in place of "default".
								{Name: "CLICKHOUSE_USER", Value: clickhouseUser},
								clickhousePasswordEnv(s, "CLICKHOUSE_PASSWORD"),
							},
							Ports:     []corev1.ContainerPort{{Name: "native", ContainerPort: clickhousePort}, {Name: "http", ContainerPort: 8123}},
							Resources: c.Resources,
							ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
								Path: "/ping", Port: intstr.FromString("http"),
							}}, PeriodSeconds: 10},
							VolumeMounts: []corev1.VolumeMount{
								{Name: "data", MountPath: "/var/lib/clickhouse"},
								{Name: "config", MountPath: "/etc/clickhouse-server/config.d/cluster.xml", SubPath: "cluster.xml", ReadOnly: true},
							},
						}},
						Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: clickhouseName(s)},
						}}}},
					},
				},
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{dataClaim(l, c.Storage, "10Gi")},
			},
		})
	}
	return out
}

// ECK kinds the logging stack renders.
var (
	ECKElasticsearch = schemaGVK("elasticsearch.k8s.elastic.co", "v1", "Elasticsearch")
	ECKKibana        = schemaGVK("kibana.k8s.elastic.co", "v1", "Kibana")
	ECKLogstash      = schemaGVK("logstash.k8s.elastic.co", "v1alpha1", "Logstash")
	ECKBeat          = schemaGVK("beat.k8s.elastic.co", "v1beta1", "Beat")
)

func eckObject(s *ugcv1.UGCStack, gvk gvk, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(gvk.GroupVersionKind())
	u.SetName(name)
	u.SetNamespace(s.Namespace)
	l := map[string]string{}
	for k, v := range labels(s, componentLogging) {
		l[k] = v
	}
	u.SetLabels(l)
	return u
}

// BuildECKObjects renders Elasticsearch, Kibana (optional), Logstash and a
// Filebeat Beat: Filebeat reads container logs, decodes the API's JSON lines
// and ships them to Logstash, which writes to ugc-logs-* indices.
func BuildECKObjects(s *ugcv1.UGCStack) []*unstructured.Unstructured {
	l := s.Spec.Logging
	size := l.ElasticsearchStorage.Size
	if size.IsZero() {
		size = resource.MustParse("30Gi")
	}
	claim := map[string]any{
		"metadata": map[string]any{"name": "elasticsearch-data"},
		"spec": map[string]any{
			"accessModes": []any{"ReadWriteOnce"},
			"resources":   map[string]any{"requests": map[string]any{"storage": size.String()}},
		},
	}
	if sc := l.ElasticsearchStorage.StorageClassName; sc != nil {
		claim["spec"].(map[string]any)["storageClassName"] = *sc
	}
	out := []*unstructured.Unstructured{
		eckObject(s, ECKElasticsearch, esName(s), map[string]any{
			"version": l.Version,
			"nodeSets": []any{map[string]any{
				"name":                 "default",
				"count":                int64(l.ElasticsearchNodes),
				"volumeClaimTemplates": []any{claim},
			}},
		}),
	}
	if l.Kibana {
		out = append(out, eckObject(s, ECKKibana, esName(s), map[string]any{
			"version": l.Version, "count": int64(1),
			"elasticsearchRef": map[string]any{"name": esName(s)},
		}))
	}
	out = append(out, eckObject(s, ECKLogstash, esName(s), map[string]any{
		"version": l.Version, "count": int64(1),
		"elasticsearchRefs": []any{map[string]any{"name": esName(s), "clusterName": "UGC_ES"}},
		"pipelines":         []any{map[string]any{"pipeline.id": "ugc", "config.string": logging.LogstashPipeline()}},
		"services": []any{map[string]any{"name": "beats", "service": map[string]any{"spec": map[string]any{
			"type": "ClusterIP", "ports": []any{map[string]any{"port": int64(5044), "name": "filebeat", "protocol": "TCP", "targetPort": int64(5044)}},
		}}}},
	}))
	// Filebeat's configuration is deploy/logging's, pointed at this
	// stack's Logstash.
	filebeat := logging.FilebeatConfig()
	filebeat["output.logstash"] = map[string]any{"hosts": []any{fmt.Sprintf("%s-ls-beats.%s.svc:%d", esName(s), s.Namespace, logging.LogstashPort)}}
	out = append(out, eckObject(s, ECKBeat, esName(s), map[string]any{
		"type": "filebeat", "version": l.Version, "config": filebeat,
		"daemonSet": map[string]any{"podTemplate": map[string]any{"spec": map[string]any{
			"automountServiceAccountToken": true,
			"securityContext":              map[string]any{"runAsUser": int64(0)},
			"containers": []any{map[string]any{
				"name": "filebeat",
				// add_kubernetes_metadata matches pods of this node.
				"env": []any{map[string]any{"name": "NODE_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "spec.nodeName"}}}},
				"volumeMounts": []any{
					map[string]any{"name": "varlogcontainers", "mountPath": "/var/log/containers"},
					map[string]any{"name": "varlogpods", "mountPath": "/var/log/pods"},
				},
			}},
			"volumes": []any{
				map[string]any{"name": "varlogcontainers", "hostPath": map[string]any{"path": "/var/log/containers"}},
				map[string]any{"name": "varlogpods", "hostPath": map[string]any{"path": "/var/log/pods"}},
			},
		}}},
	}))
	return out
}
