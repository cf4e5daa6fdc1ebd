package networkpolicy

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/common/commontest"
)

func TestGolden(t *testing.T) {
	for name, s := range commontest.Samples() {
		t.Run(name, func(t *testing.T) { commontest.Golden(t, name, Objects(s)) })
	}
}

func matches(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(k8slabels.Set(l))
}

// reaches applies Kubernetes' NetworkPolicy rules (kubernetes.io, "Network
// Policies"): a pod no ingress policy selects accepts everything; one that
// some policy selects accepts only what a rule of those policies allows. A
// peer with only a podSelector means pods of the policy's namespace; a
// namespaceSelector of {} means every namespace.
func reaches(policies []*networkingv1.NetworkPolicy, toNS string, to map[string]string, fromNS string, from map[string]string, port int32) bool {
	selected := false
	for _, p := range policies {
		if p.Namespace != toNS || !matches(&p.Spec.PodSelector, to) {
			continue
		}
		selected = true
		for _, rule := range p.Spec.Ingress {
			portOK := len(rule.Ports) == 0
			for _, rp := range rule.Ports {
				portOK = portOK || rp.Port.IntVal == port
			}
			for _, peer := range rule.From {
				nsOK := fromNS == toNS
				if peer.NamespaceSelector != nil {
					nsOK = matches(peer.NamespaceSelector, map[string]string{"kubernetes.io/metadata.name": fromNS})
				}
				if portOK && nsOK && (peer.PodSelector == nil || matches(peer.PodSelector, from)) {
					return true
				}
			}
		}
	}
	return !selected
}

func TestWhoReachesWhom(t *testing.T) {
	s := commontest.Production()
	var policies []*networkingv1.NetworkPolicy
	for _, o := range Objects(s) {
		policies = append(policies, o.(*networkingv1.NetworkPolicy))
	}
	pod := func(component string) map[string]string { return common.Labels(s, component) }
	other := commontest.Production()
	other.Name = "other"
	operator := map[string]string{OperatorPodLabel: "true", "app.kubernetes.io/name": "ugcstack"}
	for _, tt := range []struct {
		name   string
		to     string
		fromNS string
		from   map[string]string
		port   int32
		want   bool
	}{
		{"API to MongoDB", common.ComponentMongoDB, s.Namespace, pod(common.ComponentAPI), common.MongoPort, true},
		{"relay to MongoDB", common.ComponentMongoDB, s.Namespace, pod(common.ComponentRelay), common.MongoPort, true},
		{"members replicate", common.ComponentMongoDB, s.Namespace, pod(common.ComponentMongoDB), common.MongoPort, true},
		{"the operator, from its namespace, to MongoDB", common.ComponentMongoDB, "ugcstack-system", operator, common.MongoPort, true},
		{"gateway to MongoDB", common.ComponentMongoDB, s.Namespace, pod(common.ComponentGateway), common.MongoPort, false},
		{"another stack's API to MongoDB", common.ComponentMongoDB, s.Namespace, common.Labels(other, common.ComponentAPI), common.MongoPort, false},
		{"a stack's API from another namespace", common.ComponentMongoDB, "elsewhere", pod(common.ComponentAPI), common.MongoPort, false},
		{"relay to ClickHouse", common.ComponentClickHouse, s.Namespace, pod(common.ComponentRelay), common.ClickHousePort, true},
		{"servers query each other", common.ComponentClickHouse, s.Namespace, pod(common.ComponentClickHouse), common.ClickHousePort, true},
		{"API to ClickHouse", common.ComponentClickHouse, s.Namespace, pod(common.ComponentAPI), common.ClickHousePort, false},
		{"ClickHouse to Keeper", common.ComponentKeeper, s.Namespace, pod(common.ComponentClickHouse), common.KeeperClientPort, true},
		{"Keeper peers", common.ComponentKeeper, s.Namespace, pod(common.ComponentKeeper), common.KeeperRaftPort, true},
		{"relay to Keeper", common.ComponentKeeper, s.Namespace, pod(common.ComponentRelay), common.KeeperClientPort, false},
		{"gateway to API", common.ComponentAPI, s.Namespace, pod(common.ComponentGateway), common.UGCPort, true},
		{"anything else to API behind a gateway", common.ComponentAPI, s.Namespace, pod(common.ComponentRelay), common.UGCPort, false},
		{"the world to the gateway", common.ComponentGateway, "elsewhere", map[string]string{}, 8080, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := reaches(policies, s.Namespace, pod(tt.to), tt.fromNS, tt.from, tt.port); got != tt.want {
				t.Errorf("reaches = %v, want %v", got, tt.want)
			}
		})
	}

	s.Spec.Gateway.Enabled = false
	if n := len(Objects(s)); n != 3 {
		t.Errorf("without a gateway the API is left open to its clients: %d policies, want 3", n)
	}
	s.Spec.NetworkPolicy = ugcv1.NetworkPolicySpec{Enabled: false}
	if n := len(Objects(s)); n != 0 {
		t.Errorf("disabled: %d policies", n)
	}
}
