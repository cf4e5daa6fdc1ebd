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
