package ugcstack

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/api"
	"github.com/ugcstack/ugcstack/controllers/clickhouse"
	"github.com/ugcstack/ugcstack/controllers/common/commontest"
	"github.com/ugcstack/ugcstack/controllers/gateway"
	"github.com/ugcstack/ugcstack/controllers/logging"
	"github.com/ugcstack/ugcstack/controllers/mongodb/members"
	"github.com/ugcstack/ugcstack/controllers/networkpolicy"
	"github.com/ugcstack/ugcstack/controllers/relay"
)

// Limits the children's consumers put on names, each from its source.
const (
	// ECK refuses a resource name over 36 characters: cloud-on-k8s
	// pkg/controller/common/name/name.go (MaxResourceNameLength), checked
	// by pkg/apis/common/v1/validations.go in its webhook.
	eckMaxName = 36
	// A StatefulSet's pods carry controller-revision-hash=<name>-<hash of
	// up to 10 characters>, a label value (63): kubernetes
	// pkg/controller/history ControllerRevisionName.
	statefulSetMaxName = validation.LabelValueMaxLength - 11
)

// everyChild renders every child of s that any component applies.
func everyChild(t *testing.T, s *ugcv1.UGCStack) []client.Object {
	t.Helper()
	gw, err := gateway.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	objs := append(api.Objects(s), gw...)
	objs = append(objs, clickhouse.Objects(s)...)
	objs = append(objs, clickhouse.KeeperObjects(s)...)
	objs = append(objs, networkpolicy.Objects(s)...)
	objs = append(objs, relay.Deployment(s), members.Service(s), members.StatefulSet(s, members.Desired(s)), members.PDB(s),
		members.KeyfileSecret(s), members.AdminSecret(s, "x"), members.AppSecret(s, "x"), logging.SetupJob(s, "uid"))
	objs = append(objs, logging.FilebeatRBAC(s)...)
	for _, o := range logging.ECKObjects(s) {
		objs = append(objs, o)
	}
	return objs
}

func TestLongestStackNameGivesValidChildNames(t *testing.T) {
	s := commontest.Production()
	s.Name = strings.Repeat("n", ugcv1.MaxNameLength)
	s.Spec.ClickHouse.Shards = 100
	s.Spec.MongoDB.Members = ptr.To(int32(49))
	for _, o := range everyChild(t, s) {
		name, kind := o.GetName(), o.GetObjectKind().GroupVersionKind().Kind
		if kind == "" {
			t.Fatalf("%s has no kind", name)
		}
		// Services, and every name that becomes a label value (Jobs'
		// job-name, pods' statefulset.kubernetes.io/pod-name).
		if errs := validation.IsDNS1035Label(name); errs != nil && kind != "ConfigMap" && kind != "Secret" {
			t.Errorf("%s %s: %v", kind, name, errs)
		}
		switch kind {
		case logging.Elasticsearch.Kind, logging.Kibana.Kind, logging.Logstash.Kind, logging.Beat.Kind:
			if len(name) > eckMaxName {
				t.Errorf("%s %s: %d characters, ECK refuses more than %d", kind, name, len(name), eckMaxName)
			}
		case "StatefulSet":
			if len(name) > statefulSetMaxName {
				t.Errorf("StatefulSet %s: %d characters, its controller-revision-hash label would pass 63", name, len(name))
			}
		}
	}
}

func TestOneCharacterMoreBreaksAChildName(t *testing.T) {
	s := commontest.Production()
	s.Name = strings.Repeat("n", ugcv1.MaxNameLength+1)
	if got := len(logging.Name(s)); got <= eckMaxName {
		t.Fatalf("the Elasticsearch of a %d-character stack is %d long: the limit could be raised", len(s.Name), got)
	}
}
