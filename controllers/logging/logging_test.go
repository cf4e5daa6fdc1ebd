package logging

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ugcstack/ugcstack/controllers/common/commontest"
	"github.com/ugcstack/ugcstack/deploy/logging"
)

func TestGolden(t *testing.T) {
	for name, s := range commontest.Samples() {
		t.Run(name, func(t *testing.T) {
			var objs []client.Object
			if s.Spec.Logging.Enabled {
				for _, o := range ECKObjects(s) {
					objs = append(objs, o)
				}
				objs = append(objs, SetupJob(s))
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
	if !reflect.DeepEqual(beatConfig["filebeat.inputs"], logging.FilebeatConfig()["filebeat.inputs"]) {
		t.Error("the Beat's inputs differ from deploy/logging/filebeat.yml")
	}
}

// TestSetupJobNameFollowsItsInputs: a different configuration gets a
// different Job, so it runs again; the same one keeps its Job.
func TestSetupJobNameFollowsItsInputs(t *testing.T) {
	s := commontest.Production()
	first := SetupJob(s).Name
	if again := SetupJob(s).Name; again != first {
		t.Fatalf("name not stable: %s, then %s", first, again)
	}
	if !strings.HasPrefix(first, "prod-logs-setup-") || !strings.HasSuffix(first, SetupHash(s)[:10]) {
		t.Errorf("name %s does not carry the configuration hash", first)
	}
	s.Spec.Logging.Kibana = false
	if SetupJob(s).Name == first {
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
