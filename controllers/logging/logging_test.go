package logging

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common/commontest"
	"github.com/ugcstack/ugcstack/deploy/logging"
)

func TestGolden(t *testing.T) {
	for name, s := range commontest.Samples() {
		t.Run(name, func(t *testing.T) {
			var objs []client.Object
			if s.Spec.Logging.Enabled {
				objs = append(objs, FilebeatRBAC(s)...)
				for _, o := range ECKObjects(s) {
					objs = append(objs, o)
				}
				objs = append(objs, SetupJob(s, "es-uid"))
			}
			commontest.Golden(t, name, objs)
		})
	}
}

// TestUsesTheShippedConfigs holds the ECK objects to deploy/logging: what
// runs in the cluster is what the contract tests check.
func TestUsesTheShippedConfigs(t *testing.T) {
	var pipeline string
	var beatConfig map[string]any
	for _, o := range ECKObjects(commontest.Production()) {
		switch o.GetKind() {
		case Logstash.Kind:
			pipelines, _, _ := unstructured.NestedSlice(o.Object, "spec", "pipelines")
			pipeline, _ = pipelines[0].(map[string]any)["config.string"].(string)
		case Beat.Kind:
			beatConfig, _, _ = unstructured.NestedMap(o.Object, "spec", "config")
		}
	}
	if pipeline != logging.LogstashPipeline() {
		t.Error("the Logstash object does not carry deploy/logging/logstash.conf")
	}
	shipped := logging.FilebeatConfig()
	scopeMetadata(shipped, commontest.Production().Namespace)
	if !reflect.DeepEqual(beatConfig["filebeat.inputs"], shipped["filebeat.inputs"]) {
		t.Error("the Beat's inputs differ from deploy/logging/filebeat.yml scoped to the namespace")
	}
}

// TestSetupJobNameFollowsItsInputs: a different configuration, or another
// Elasticsearch, gets a different Job, so it runs again; the same one keeps
// its Job.
func TestSetupJobNameFollowsItsInputs(t *testing.T) {
	s := commontest.Production()
	first := SetupJob(s, "es-1").Name
	if again := SetupJob(s, "es-1").Name; again != first {
		t.Fatalf("name not stable: %s, then %s", first, again)
	}
	if !strings.HasPrefix(first, "prod-logs-setup-") || !strings.HasSuffix(first, SetupHash(s, "es-1")[:10]) {
		t.Errorf("name %s does not carry the configuration hash", first)
	}
	// ECK deletes an Elasticsearch's volumes with it: one created anew is
	// empty and must be set up again.
	if SetupJob(s, "es-2").Name == first {
		t.Error("a new Elasticsearch (another UID) kept the Job name")
	}
	s.Spec.Logging.Kibana = false
	if SetupJob(s, "es-1").Name == first {
		t.Error("dropping Kibana (no saved objects to load) kept the Job name")
	}
}

// eckLogstashVariables are the variables ECK gives a Logstash for each
// elasticsearchRefs entry: the clusterName upper-cased with "-" as "_",
// then _ES_HOSTS, _ES_USER, _ES_PASSWORD and, with a CA,
// _ES_SSL_CERTIFICATE_AUTHORITY (elastic/cloud-on-k8s
// pkg/controller/logstash/env.go, buildEnv and normalize).
func eckLogstashVariables(clusterName string) []string {
	prefix := strings.ToUpper(strings.ReplaceAll(clusterName, "-", "_"))
	return []string{prefix + "_ES_HOSTS", prefix + "_ES_USER", prefix + "_ES_PASSWORD", prefix + "_ES_SSL_CERTIFICATE_AUTHORITY"}
}

// TestLogstashReadsTheVariablesECKSets: the pipeline reads exactly what ECK
// derives from the rendered elasticsearchRefs, or Logstash never starts.
func TestLogstashReadsTheVariablesECKSets(t *testing.T) {
	if got := eckLogstashVariables("my-es"); got[0] != "MY_ES_ES_HOSTS" {
		t.Fatalf("the rule itself is off: %v", got)
	}
	var refs []any
	for _, o := range ECKObjects(commontest.Production()) {
		if o.GetKind() == Logstash.Kind {
			refs, _, _ = unstructured.NestedSlice(o.Object, "spec", "elasticsearchRefs")
		}
	}
	if len(refs) != 1 {
		t.Fatalf("elasticsearchRefs: %v", refs)
	}
	name, _ := refs[0].(map[string]any)["clusterName"].(string)
	for _, v := range eckLogstashVariables(name) {
		if !strings.Contains(logging.LogstashPipeline(), "${"+v+"}") {
			t.Errorf("ECK sets %s (clusterName %q); the pipeline does not read it", v, name)
		}
	}
}

// TestFilebeatFindsTheStacksPods: add_kubernetes_metadata must label the
// stack's lines, or the drop_event rule discards them all. Its keys are
// libbeat's (elastic/beats libbeat/processors/add_kubernetes_metadata
// config.go: node, namespace, add_resource_metadata; an unknown key such as
// host is ignored), and it runs as an account allowed to read the pods it
// looks up (FilebeatRBAC), with node and namespace metadata off so that
// it needs nothing cluster-wide.
func TestFilebeatFindsTheStacksPods(t *testing.T) {
	s := commontest.Production()
	var beat *unstructured.Unstructured
	for _, o := range ECKObjects(s) {
		if o.GetKind() == Beat.Kind {
			beat = o
		}
	}
	inputs, _, _ := unstructured.NestedSlice(beat.Object, "spec", "config", "filebeat.inputs")
	var meta map[string]any
	for _, p := range inputs[0].(map[string]any)["processors"].([]any) {
		if m, ok := p.(map[string]any)["add_kubernetes_metadata"].(map[string]any); ok {
			meta = m
		}
	}
	if meta["node"] != "${NODE_NAME}" || meta["host"] != nil || meta["namespace"] != s.Namespace {
		t.Errorf("add_kubernetes_metadata %v: want node ${NODE_NAME} and namespace %s", meta, s.Namespace)
	}
	if fmt.Sprint(meta["add_resource_metadata"]) != "map[namespace:map[enabled:false] node:map[enabled:false]]" {
		t.Errorf("add_resource_metadata %v would need nodes and namespaces", meta["add_resource_metadata"])
	}
	pod, _, _ := unstructured.NestedMap(beat.Object, "spec", "daemonSet", "podTemplate", "spec")
	if pod["serviceAccountName"] != FilebeatName(s) {
		t.Errorf("Filebeat runs as %v, not %s", pod["serviceAccountName"], FilebeatName(s))
	}
	c := pod["containers"].([]any)[0].(map[string]any)
	for _, m := range c["volumeMounts"].([]any) {
		if m.(map[string]any)["readOnly"] != true {
			t.Errorf("host mount %v is writable", m)
		}
	}
	var role *rbacv1.Role
	for _, o := range FilebeatRBAC(s) {
		if r, ok := o.(*rbacv1.Role); ok {
			role = r
		}
	}
	if fmt.Sprint(role.Rules) != "[{[get list watch] [] [pods] [] []}]" {
		t.Errorf("Filebeat's role %v: want get/list/watch pods only", role.Rules)
	}
}

// TestResourcesReachECKsContainers: ECK merges a podTemplate container by
// name into the one it builds, named by elastic/cloud-on-k8s
// ElasticsearchContainerName, KibanaContainerName and LogstashContainerName
// ("elasticsearch", "kibana", "logstash" in pkg/apis/*), so the spec's
// sizes land on the right containers; Logstash's heap follows its limit,
// or its default 1g heap would outgrow a small one.
func TestResourcesReachECKsContainers(t *testing.T) {
	s := commontest.Production()
	mem := func(q string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(q)}}
	}
	s.Spec.Logging.Resources = ugcv1.LoggingResources{Elasticsearch: mem("1536Mi"), Kibana: mem("1Gi"), Logstash: mem("1Gi")}
	paths := map[string][]string{
		Elasticsearch.Kind: {"spec", "nodeSets"},
		Kibana.Kind:        {"spec", "podTemplate", "spec", "containers"},
		Logstash.Kind:      {"spec", "podTemplate", "spec", "containers"},
	}
	names := map[string]string{Elasticsearch.Kind: "elasticsearch", Kibana.Kind: "kibana", Logstash.Kind: "logstash"}
	for _, o := range ECKObjects(s) {
		path, ok := paths[o.GetKind()]
		if !ok {
			continue
		}
		list, _, _ := unstructured.NestedSlice(o.Object, path...)
		c := list[0].(map[string]any)
		if o.GetKind() == Elasticsearch.Kind {
			cs, _, _ := unstructured.NestedSlice(c, "podTemplate", "spec", "containers")
			c = cs[0].(map[string]any)
		}
		limit, _, _ := unstructured.NestedString(c, "resources", "limits", "memory")
		if c["name"] != names[o.GetKind()] || limit == "" {
			t.Errorf("%s: container %v", o.GetKind(), c)
		}
		if o.GetKind() == Logstash.Kind && fmt.Sprint(c["env"]) != "[map[name:LS_JAVA_OPTS value:-Xms512m -Xmx512m]]" {
			t.Errorf("Logstash heap: %v", c["env"])
		}
	}
}
