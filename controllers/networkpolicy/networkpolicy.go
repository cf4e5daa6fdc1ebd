// Package networkpolicy renders who may reach the stack's pods: only the
// API, the relay and the operator reach MongoDB; only the relay and the
// servers themselves reach ClickHouse; only ClickHouse and Keeper reach
// Keeper; with the gateway on, only the gateway reaches the API. Nothing
// when spec.networkPolicy.enabled is false.
package networkpolicy

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

// OperatorPodLabel marks the operator's pods (the chart and config/manager
// set it), which configure MongoDB's replica set from their own namespace.
const OperatorPodLabel = "ugc.ugcstack.io/operator"

// Objects are the stack's NetworkPolicies; none when they are off.
func Objects(s *ugcv1.UGCStack) []client.Object {
	if !s.Spec.NetworkPolicy.Enabled {
		return nil
	}
	operator := networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{},
		PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{OperatorPodLabel: "true"}},
	}
	objs := []client.Object{
		policy(s, common.ComponentMongoDB, []int32{common.MongoPort},
			append(peers(s, common.ComponentAPI, common.ComponentRelay, common.ComponentMongoDB), operator)...),
		policy(s, common.ComponentClickHouse, []int32{common.ClickHousePort, common.ClickHouseHTTPPort},
			peers(s, common.ComponentRelay, common.ComponentClickHouse)...),
		policy(s, common.ComponentKeeper, []int32{common.KeeperClientPort, common.KeeperRaftPort},
			peers(s, common.ComponentClickHouse, common.ComponentKeeper)...),
	}
	if s.Spec.Gateway.Enabled {
		objs = append(objs, policy(s, common.ComponentAPI, []int32{common.UGCPort}, peers(s, common.ComponentGateway)...))
	}
	return objs
}

// peers are the pods of the given components of this stack.
func peers(s *ugcv1.UGCStack, components ...string) []networkingv1.NetworkPolicyPeer {
	out := make([]networkingv1.NetworkPolicyPeer, 0, len(components))
	for _, c := range components {
		out = append(out, networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: common.Selector(s, c)}})
	}
	return out
}

// policy admits to component's pods, on ports, only from.
func policy(s *ugcv1.UGCStack, component string, ports []int32, from ...networkingv1.NetworkPolicyPeer) *networkingv1.NetworkPolicy {
	var np []networkingv1.NetworkPolicyPort
	for _, p := range ports {
		np = append(np, networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(p))})
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: common.ObjectMeta(s, s.Name+"-"+component, common.ComponentNetwork),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: common.Selector(s, component)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: from, Ports: np}},
		},
	}
}

// Reconcile applies the policies, or prunes them when they are off. It
// reports through the API's condition.
func Reconcile(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) common.Result {
	objs := Objects(s)
	if err := common.ApplyAndPrune(ctx, d, s, common.ComponentNetwork, []client.ObjectList{&networkingv1.NetworkPolicyList{}}, objs...); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if len(objs) == 0 {
		return common.Ready(ugcv1.ReasonDisabled, "no network policies")
	}
	return common.Ready(ugcv1.ReasonAvailable, "network policies applied")
}
