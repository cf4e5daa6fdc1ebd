package common

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// HeadlessService gives every pod of a StatefulSet a stable DNS name.
// publishNotReady serves peers that must find each other before any is
// ready (replica-set members, Raft nodes).
func HeadlessService(s *ugcv1.UGCStack, name, component string, publishNotReady bool, ports ...corev1.ServicePort) *corev1.Service {
	for i := range ports {
		ports[i].TargetPort = intstr.FromInt32(ports[i].Port)
		ports[i].Protocol = corev1.ProtocolTCP
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: ObjectMeta(s, name, component),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: publishNotReady,
			Selector:                 Selector(s, component),
			Ports:                    ports,
		},
	}
}

// HTTPService exposes a component's "http" container port on port 80.
func HTTPService(s *ugcv1.UGCStack, name, component string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: ObjectMeta(s, name, component),
		Spec: corev1.ServiceSpec{
			Selector: Selector(s, component),
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
}

// ConfigMap holds data for one component.
func ConfigMap(s *ugcv1.UGCStack, name, component string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: ObjectMeta(s, name, component),
		Data:       data,
	}
}

// Secret is an Opaque Secret of one component, with data when given.
func Secret(s *ugcv1.UGCStack, name, component string, data map[string]string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: ObjectMeta(s, name, component),
		Type:       corev1.SecretTypeOpaque,
		StringData: data,
	}
}

// ConfigHashAnnotation on a pod template carries HashData of its
// configuration, so a change rolls the pods.
const ConfigHashAnnotation = "ugc.ugcstack.io/config-hash"

// HashData is a short stable digest of a ConfigMap's data.
func HashData(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\x00", k, data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
