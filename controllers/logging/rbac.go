package logging

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

// FilebeatName names Filebeat's ServiceAccount, Role and RoleBinding.
func FilebeatName(s *ugcv1.UGCStack) string { return Name(s) + "-filebeat" }

// FilebeatRBAC lets Filebeat's add_kubernetes_metadata read the pods of the
// stack's namespace, which is all it looks up (namespace set, node and
// namespace metadata off): without an account it runs as the namespace's
// default one, finds no labels, and the drop_event rule discards every
// line. Namespaced, so the stack owns them and they go with it.
func FilebeatRBAC(s *ugcv1.UGCStack) []client.Object {
	meta := common.ObjectMeta(s, FilebeatName(s), common.ComponentLogging)
	return []client.Object{
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta},
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: meta,
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: meta,
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: FilebeatName(s)},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: FilebeatName(s), Namespace: s.Namespace}},
		},
	}
}
