package common

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// Components: the app.kubernetes.io/component label of each part's children,
// which pods are selected and children pruned by.
const (
	ComponentAPI        = "api"
	ComponentMongoDB    = "mongodb"
	ComponentGateway    = "gateway"
	ComponentClickHouse = "clickhouse"
	ComponentKeeper     = "clickhouse-keeper"
	ComponentRelay      = "relay"
	ComponentLogging    = "logging"
	ComponentNetwork    = "network-policy"
)

// ManagedBy is the app.kubernetes.io/managed-by value of every child; the
// manager's caches select the pods and Secrets they hold by it.
const ManagedBy = "ugcstack-operator"

// Labels are the labels of every child of one component of one stack.
func Labels(s *ugcv1.UGCStack, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       "ugcstack",
		"app.kubernetes.io/instance":   s.Name,
		"app.kubernetes.io/component":  component,
		"app.kubernetes.io/managed-by": ManagedBy,
	}
}

// Selector picks the pods of one component of one stack.
func Selector(s *ugcv1.UGCStack, component string) map[string]string {
	return map[string]string{"app.kubernetes.io/instance": s.Name, "app.kubernetes.io/component": component}
}

// ObjectMeta names a child in the stack's namespace with its component's labels.
func ObjectMeta(s *ugcv1.UGCStack, name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: s.Namespace, Labels: Labels(s, component)}
}
