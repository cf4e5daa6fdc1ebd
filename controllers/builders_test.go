package controllers

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/deploy/logging"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// stacks are the table of specs every builder is rendered from (defaults
// filled in as the API server would).
func stacks() map[string]*ugcv1.UGCStack {
	base := func() *ugcv1.UGCStack {
		return &ugcv1.UGCStack{
			ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "ugc"},
			Spec: ugcv1.UGCStackSpec{
				API: ugcv1.APISpec{
					Image: "ghcr.io/ugcstack/ugc:1.0.0", Replicas: ptr.To(int32(2)), LogLevel: "info",
					JWT: ugcv1.JWTSpec{SecretRef: &ugcv1.SecretKeyRef{Name: "jwt", Key: "secret"}},
				},
				MongoDB:    ugcv1.MongoDBSpec{Members: ptr.To(int32(1)), Image: "mongo:8.0", Database: "ugc", DeletePolicy: "Retain"},
				Gateway:    ugcv1.GatewaySpec{Image: "nginx:1.29", Replicas: 2, RateLimitPerSecond: 50},
				Logging:    ugcv1.LoggingSpec{Version: "8.19.0", ElasticsearchNodes: 1, Kibana: true},
				ClickHouse: ugcv1.ClickHouseSpec{Shards: 1, Replicas: 1, Image: "clickhouse/clickhouse-server:25.8"},
			},
		}
	}
	minimal := base()
	prod := base()
	prod.Name = "prod"
	prod.Spec.API.JWT = ugcv1.JWTSpec{PublicKeySecretRef: &ugcv1.SecretKeyRef{Name: "auth-pub", Key: "key.pem"}, Issuer: "auth", Audience: "ugc"}
	prod.Spec.API.SentryDSNSecretRef = &ugcv1.SecretKeyRef{Name: "sentry", Key: "dsn"}
	prod.Spec.API.SentryEnvironment = "production"
	prod.Spec.API.Autoscaling = &ugcv1.AutoscalingSpec{MinReplicas: 3, MaxReplicas: 12, TargetCPUUtilizationPercentage: 70}
	prod.Spec.API.PodDisruptionBudget = &ugcv1.PodDisruptionBudgetSpec{MaxUnavailable: 1}
	prod.Spec.MongoDB.Members = ptr.To(int32(3))
	prod.Spec.MongoDB.DeletePolicy = "Delete"
	prod.Spec.MongoDB.Storage = ugcv1.StorageSpec{Size: resource.MustParse("50Gi"), StorageClassName: ptr.To("fast")}
	prod.Spec.Gateway.Enabled = true
	prod.Spec.Logging.Enabled = true
	prod.Spec.ClickHouse.Enabled = true
	prod.Spec.ClickHouse.Shards, prod.Spec.ClickHouse.Replicas = 2, 2
	return map[string]*ugcv1.UGCStack{"minimal": minimal, "production": prod}
}

func TestBuildersGolden(t *testing.T) {
	for name, s := range stacks() {
		gatewayCM, err := BuildGatewayConfigMap(s)
		if err != nil {
			t.Fatal(err)
		}
		objs := map[string]any{
			"api-configmap":     BuildAPIConfigMap(s),
			"api-deployment":    BuildAPIDeployment(s, "HASH"),
			"api-service":       BuildAPIService(s),
			"api-hpa":           BuildAPIHPA(s),
			"api-pdb":           BuildAPIPDB(s),
			"mongodb-service":   BuildMongoService(s),
			"mongodb-sts":       BuildMongoStatefulSet(s, *s.Spec.MongoDB.Members),
			"mongodb-admin":     BuildMongoAdminSecret(s, "PASSWORD"),
			"mongodb-keyfile":   BuildMongoKeyfileSecret(s, "KEY"),
			"gateway-configmap": gatewayCM,
			"gateway-deploy":    BuildGatewayDeployment(s, "HASH"),
			"gateway-service":   BuildGatewayService(s),
			"clickhouse-cm":     BuildClickHouseConfigMap(s),
			"clickhouse-svc":    BuildClickHouseService(s),
			"clickhouse-sts":    BuildClickHouseStatefulSets(s),
			"eck":               BuildECKObjects(s),
			"keeper-cm":         BuildKeeperConfigMap(s),
			"keeper-svc":        BuildKeeperService(s),
			"keeper-sts":        BuildKeeperStatefulSet(s),
			"logging-setup-job": BuildLoggingSetupJob(s),
			"relay-deployment":  BuildRelayDeployment(s),
			"clickhouse-auth":   BuildClickHouseAuthSecret(s, "PASSWORD"),
		}
		for kind, obj := range objs {
			t.Run(name+"/"+kind, func(t *testing.T) {
				got, err := yaml.Marshal(obj)
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name, kind+".golden.yaml")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./controllers -run Golden -update)", err)
				}
				if string(got) != string(want) {
					t.Errorf("%s differs from the golden file:\n%s", path, got)
				}
			})
		}
	}
}

func TestMongoURIListsEveryMember(t *testing.T) {
	s := stacks()["production"]
	want := "mongodb://admin:pw@prod-mongodb-0.prod-mongodb.ugc.svc:27017,prod-mongodb-1.prod-mongodb.ugc.svc:27017,prod-mongodb-2.prod-mongodb.ugc.svc:27017/ugc?replicaSet=prod&authSource=admin"
	if got := MongoURI(s, "admin", "pw"); got != want {
		t.Errorf("MongoURI = %s\nwant %s", got, want)
	}
}

// TestLoggingAndGatewayUseTheShippedConfigs holds the operator to the configs
// in deploy/: what runs in the cluster is what the contract tests check.
func TestLoggingAndGatewayUseTheShippedConfigs(t *testing.T) {
	s := stacks()["production"]
	cm, err := BuildGatewayConfigMap(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"http.request.id":"$ugc_request_id"`, "proxy_set_header X-Request-Id $ugc_request_id;", "client_max_body_size 64k;"} {
		if !strings.Contains(cm.Data["nginx.conf"], want) {
			t.Errorf("gateway config lacks %q", want)
		}
	}
	var pipeline string
	var beatConfig map[string]any
	for _, o := range BuildECKObjects(s) {
		switch o.GetKind() {
		case "Logstash":
			pipelines, _, _ := unstructured.NestedSlice(o.Object, "spec", "pipelines")
			pipeline, _ = pipelines[0].(map[string]any)["config.string"].(string)
		case "Beat":
			beatConfig, _, _ = unstructured.NestedMap(o.Object, "spec", "config")
		}
	}
	if pipeline != logging.LogstashPipeline() {
		t.Error("the Logstash object does not carry deploy/logging/logstash.conf")
	}
	shipped := logging.FilebeatConfig()
	if !reflect.DeepEqual(beatConfig["filebeat.inputs"], shipped["filebeat.inputs"]) {
		t.Error("the Beat's inputs differ from deploy/logging/filebeat.yml")
	}
}

// TestKeeperOnlyForClusters: ClickHouse Keeper and the <zookeeper> section
// exist exactly when there is more than one managed server.
func TestKeeperOnlyForClusters(t *testing.T) {
	for _, tt := range []struct {
		name     string
		mutate   func(*ugcv1.ClickHouseSpec)
		wantKeep bool
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
			s := stacks()["production"]
			tt.mutate(&s.Spec.ClickHouse)
			got := []bool{BuildKeeperStatefulSet(s) != nil, BuildKeeperService(s) != nil, BuildKeeperConfigMap(s) != nil}
			for i, g := range got {
				if g != tt.wantKeep {
					t.Errorf("builder %d returned an object: %v, want %v", i, g, tt.wantKeep)
				}
			}
			if zk := strings.Contains(BuildClickHouseConfigMap(s).Data["cluster.xml"], "<zookeeper>"); zk != tt.wantKeep {
				t.Errorf("<zookeeper> in cluster.xml: %v, want %v", zk, tt.wantKeep)
			}
		})
	}
}

// TestLoggingSetupJobNameFollowsItsInputs: a different configuration gets a
// different Job, so it runs again; the same one keeps its Job.
func TestLoggingSetupJobNameFollowsItsInputs(t *testing.T) {
	s := stacks()["production"]
	first := BuildLoggingSetupJob(s).Name
	if again := BuildLoggingSetupJob(s).Name; again != first {
		t.Fatalf("name not stable: %s, then %s", first, again)
	}
	if !strings.HasPrefix(first, "prod-logs-setup-") || !strings.HasSuffix(first, LoggingSetupHash(s)[:10]) {
		t.Errorf("name %s does not carry the configuration hash", first)
	}
	s.Spec.Logging.Kibana = false
	if BuildLoggingSetupJob(s).Name == first {
		t.Error("dropping Kibana (no saved objects to load) kept the Job name")
	}
}

// TestRelayFollowsClickHouse: the relay runs whenever the stack has a
// ClickHouse, pointed at the external DSN or at every managed server, with
// the cluster named only when there is more than one server.
func TestRelayFollowsClickHouse(t *testing.T) {
	env := func(d *appsv1.Deployment) map[string]corev1.EnvVar {
		m := map[string]corev1.EnvVar{}
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			m[e.Name] = e
		}
		return m
	}
	s := stacks()["production"]
	if e := env(BuildRelayDeployment(s)); strings.Count(e["UGC_CLICKHOUSE_ADDR"].Value, ":9000") != 4 || e["UGC_CLICKHOUSE_CLUSTER"].Value != "ugc" {
		t.Errorf("2×2 cluster: relay env %v", e)
	}
	s.Spec.ClickHouse.Shards, s.Spec.ClickHouse.Replicas = 1, 1
	if e := env(BuildRelayDeployment(s)); e["UGC_CLICKHOUSE_ADDR"].Value != "prod-clickhouse-s0-0.prod-clickhouse.ugc.svc:9000" || e["UGC_CLICKHOUSE_CLUSTER"].Name != "" {
		t.Errorf("one server: relay env %v", e)
	}
	s.Spec.ClickHouse.External = &ugcv1.ExternalClickHouse{DSNSecretRef: ugcv1.SecretKeyRef{Name: "ch", Key: "dsn"}}
	if e := env(BuildRelayDeployment(s)); e["UGC_CLICKHOUSE_DSN"].ValueFrom.SecretKeyRef.Name != "ch" || e["UGC_CLICKHOUSE_ADDR"].Name != "" {
		t.Errorf("external: relay env %v", e)
	}
	if got := BuildAPIConfigMap(s).Data["UGC_OUTBOX"]; got != "on" {
		t.Errorf("with a ClickHouse the API's UGC_OUTBOX = %q, want on", got)
	}
	s.Spec.ClickHouse.External, s.Spec.ClickHouse.Enabled = nil, false
	if d := BuildRelayDeployment(s); d != nil {
		t.Errorf("no ClickHouse, yet a relay: %v", d.Name)
	}
	if got := BuildAPIConfigMap(s).Data["UGC_OUTBOX"]; got != "off" {
		t.Errorf("without ClickHouse the API's UGC_OUTBOX = %q, want off: nothing would drain it", got)
	}
}
