package common

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// hostnameKey is the node label every kubelet sets: one value per node.
const hostnameKey = "kubernetes.io/hostname"

// SpreadAffinity keeps the pods selector picks on different nodes by
// policy: preferred (the default, as Percona's operator does), required,
// or not at all (nil).
func SpreadAffinity(policy ugcv1.Spread, selector map[string]string) *corev1.Affinity {
	term := corev1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: selector}, TopologyKey: hostnameKey}
	switch policy {
	case ugcv1.SpreadNone:
		return nil
	case ugcv1.SpreadRequired:
		return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term},
		}}
	default:
		return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: term}},
		}}
	}
}
