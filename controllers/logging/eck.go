// Package logging is the logging component: ECK's Elasticsearch, Kibana,
// Logstash and Filebeat objects, rendered from deploy/logging's configs, and
// the Job that loads the index template, ILM policy and Kibana saved objects
// once Elasticsearch and Kibana are healthy.
package logging

import (
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/deploy/logging"
)

// ECK kinds the logging stack renders.
var (
	Elasticsearch = schema.GroupVersionKind{Group: "elasticsearch.k8s.elastic.co", Version: "v1", Kind: "Elasticsearch"}
	Kibana        = schema.GroupVersionKind{Group: "kibana.k8s.elastic.co", Version: "v1", Kind: "Kibana"}
	Logstash      = schema.GroupVersionKind{Group: "logstash.k8s.elastic.co", Version: "v1alpha1", Kind: "Logstash"}
	Beat          = schema.GroupVersionKind{Group: "beat.k8s.elastic.co", Version: "v1beta1", Kind: "Beat"}
)

// ECKKinds must all be served for the logging stack to be rendered.
var ECKKinds = []schema.GroupVersionKind{Elasticsearch, Kibana, Logstash, Beat}

// Name names every ECK object of the stack (ECK derives its Services and
// Secrets from it).
func Name(s *ugcv1.UGCStack) string { return s.Name + "-logs" }

func eckObject(s *ugcv1.UGCStack, gvk schema.GroupVersionKind, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(gvk)
	u.SetName(Name(s))
	u.SetNamespace(s.Namespace)
	u.SetLabels(maps.Clone(common.Labels(s, common.ComponentLogging)))
	return u
}

// ECKObjects renders Elasticsearch, Kibana (optional), Logstash and a
// Filebeat Beat: Filebeat reads container logs, decodes the API's JSON lines
// and ships them to Logstash, which writes to ugc-logs-* indices.
func ECKObjects(s *ugcv1.UGCStack) []*unstructured.Unstructured {
	l := s.Spec.Logging
	nodeSet := map[string]any{
		"name":                 "default",
		"count":                int64(l.ElasticsearchNodes),
		"volumeClaimTemplates": []any{elasticsearchClaim(l.ElasticsearchStorage)},
	}
	withResources(nodeSet, "elasticsearch", l.Resources.Elasticsearch)
	out := []*unstructured.Unstructured{eckObject(s, Elasticsearch, map[string]any{
		"version": l.Version, "nodeSets": []any{nodeSet},
	})}
	if l.Kibana {
		spec := map[string]any{
			"version": l.Version, "count": int64(1),
			"elasticsearchRef": map[string]any{"name": Name(s)},
		}
		withResources(spec, "kibana", l.Resources.Kibana)
		out = append(out, eckObject(s, Kibana, spec))
	}
	return append(out, logstash(s), filebeat(s))
}

func elasticsearchClaim(st ugcv1.StorageSpec) map[string]any {
	size := st.Size
	if size.IsZero() {
		size = resource.MustParse("30Gi")
	}
	spec := map[string]any{
		"accessModes": []any{"ReadWriteOnce"},
		"resources":   map[string]any{"requests": map[string]any{"storage": size.String()}},
	}
	if st.StorageClassName != nil {
		spec["storageClassName"] = *st.StorageClassName
	}
	return map[string]any{"metadata": map[string]any{"name": "elasticsearch-data"}, "spec": spec}
}

func logstash(s *ugcv1.UGCStack) *unstructured.Unstructured {
	spec := map[string]any{
		"version": s.Spec.Logging.Version, "count": int64(1),
		// ECK names the reference's variables <CLUSTERNAME>_ES_HOSTS, ...:
		// "ugc" gives the UGC_ES_* that deploy/logging/logstash.conf reads.
		"elasticsearchRefs": []any{map[string]any{"name": Name(s), "clusterName": "ugc"}},
		"pipelines":         []any{map[string]any{"pipeline.id": "ugc", "config.string": logging.LogstashPipeline()}},
		"services": []any{map[string]any{"name": "beats", "service": map[string]any{"spec": map[string]any{
			"type": "ClusterIP", "ports": []any{map[string]any{"port": int64(logging.LogstashPort), "name": "filebeat", "protocol": "TCP", "targetPort": int64(logging.LogstashPort)}},
		}}}},
	}
	res := s.Spec.Logging.Resources.Logstash
	var env []any
	// Logstash's JVM takes a fixed 1g heap unless told: with a smaller
	// limit it would be killed, so the heap is half the limit.
	if limit := res.Limits.Memory(); !limit.IsZero() {
		mib := limit.Value() / (1 << 20) / 2
		env = append(env, map[string]any{"name": "LS_JAVA_OPTS", "value": fmt.Sprintf("-Xms%dm -Xmx%dm", mib, mib)})
	}
	withResources(spec, "logstash", res, env...)
	return eckObject(s, Logstash, spec)
}

// withResources overrides the resources (and adds env) of ECK's main
// container, named name, through the object's podTemplate; ECK merges a
// container by name into the one it builds. Nothing when both are empty.
func withResources(spec map[string]any, name string, res corev1.ResourceRequirements, env ...any) {
	if len(res.Limits) == 0 && len(res.Requests) == 0 && len(env) == 0 {
		return
	}
	c := map[string]any{"name": name}
	if r, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&res); err == nil && len(r) > 0 {
		c["resources"] = r
	}
	if len(env) > 0 {
		c["env"] = env
	}
	spec["podTemplate"] = map[string]any{"spec": map[string]any{"containers": []any{c}}}
}

// filebeat runs deploy/logging's Filebeat configuration, pointed at this
// stack's Logstash, on every node. add_kubernetes_metadata reads only the
// stack's namespace's pods, as the stack's own ServiceAccount (see rbac.go),
// and neither nodes nor namespaces, which would need a ClusterRole.
func filebeat(s *ugcv1.UGCStack) *unstructured.Unstructured {
	config := logging.FilebeatConfig()
	config["output.logstash"] = map[string]any{"hosts": []any{fmt.Sprintf("%s-ls-beats.%s.svc:%d", Name(s), s.Namespace, logging.LogstashPort)}}
	scopeMetadata(config, s.Namespace)
	return eckObject(s, Beat, map[string]any{
		"type": "filebeat", "version": s.Spec.Logging.Version, "config": config,
		"daemonSet": map[string]any{"podTemplate": map[string]any{"spec": map[string]any{
			"serviceAccountName":           FilebeatName(s),
			"automountServiceAccountToken": true,
			// Root reads the container logs (root-owned, 0640) without
			// any capability; nothing else is granted.
			"securityContext": map[string]any{"runAsUser": int64(0), "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"containers": []any{map[string]any{
				"name": "filebeat",
				// add_kubernetes_metadata matches pods of this node.
				"env": []any{map[string]any{"name": "NODE_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "spec.nodeName"}}}},
				"securityContext": map[string]any{
					"allowPrivilegeEscalation": false,
					"capabilities":             map[string]any{"drop": []any{"ALL"}},
				},
				"volumeMounts": []any{
					map[string]any{"name": "varlogcontainers", "mountPath": "/var/log/containers", "readOnly": true},
					map[string]any{"name": "varlogpods", "mountPath": "/var/log/pods", "readOnly": true},
				},
			}},
			"volumes": []any{
				map[string]any{"name": "varlogcontainers", "hostPath": map[string]any{"path": "/var/log/containers"}},
				map[string]any{"name": "varlogpods", "hostPath": map[string]any{"path": "/var/log/pods"}},
			},
		}}},
	})
}

// scopeMetadata limits every add_kubernetes_metadata of a Filebeat config
// to the pods of namespace, without node or namespace metadata.
func scopeMetadata(config map[string]any, namespace string) {
	for _, in := range config["filebeat.inputs"].([]any) {
		for _, p := range in.(map[string]any)["processors"].([]any) {
			if meta, ok := p.(map[string]any)["add_kubernetes_metadata"].(map[string]any); ok {
				meta["namespace"] = namespace
				meta["add_resource_metadata"] = map[string]any{
					"node": map[string]any{"enabled": false}, "namespace": map[string]any{"enabled": false},
				}
			}
		}
	}
}
