package ugcstack

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/logging"
)

// SetupWithManager watches the stack, every kind of child it owns, the
// MongoDB pods (whose readiness gates replica-set changes) and, when the ECK
// CRDs are installed, the ECK objects. Deps left empty are filled from the
// manager.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Deps.Client == nil {
		r.Deps.Client = mgr.GetClient()
	}
	if r.Deps.APIReader == nil {
		r.Deps.APIReader = mgr.GetAPIReader()
	}
	if r.Deps.Scheme == nil {
		r.Deps.Scheme = mgr.GetScheme()
	}
	if r.Deps.Recorder == nil {
		r.Deps.Recorder = mgr.GetEventRecorder(common.ManagedBy)
	}
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&ugcv1.UGCStack{}).
		Owns(&appsv1.Deployment{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		// Not Owns: the Secrets retained data needs have no owner, and a
		// rotated one must roll the pods that read it (RollOnSecrets).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(labelledStack(""))).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&batchv1.Job{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(labelledStack(common.ComponentMongoDB))).
		Named("ugcstack").
		Build(r)
	if err != nil {
		return err
	}
	r.controller, r.cache = c, mgr.GetCache()
	missing, err := logging.Missing(mgr.GetRESTMapper())
	if err != nil || missing != nil {
		return err // watched later, by the reconcile that finds ECK installed
	}
	return r.watchECK()
}

// watchECK starts watching the ECK kinds the stack owns, once: their status
// (health) then triggers a reconcile instead of a periodic poll. It is
// called at start-up when ECK is installed, and by every reconcile that
// finds it installed later.
func (r *Reconciler) watchECK() error {
	r.eckMu.Lock()
	defer r.eckMu.Unlock()
	if r.eckWatched || r.controller == nil {
		return nil
	}
	for _, k := range logging.ECKKinds {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(k)
		h := handler.EnqueueRequestForOwner(r.Deps.Scheme, r.Deps.Client.RESTMapper(), &ugcv1.UGCStack{}, handler.OnlyControllerOwner())
		if err := r.controller.Watch(source.Kind(r.cache, client.Object(u), h)); err != nil {
			return fmt.Errorf("watch %s: %w", k.Kind, err)
		}
	}
	r.eckWatched = true
	return nil
}

// labelledStack maps an object the operator labelled, of component (any,
// when empty), to its stack by the instance label: MongoDB's pods belong to
// the StatefulSet and Retained Secrets to no one, so Owns cannot see them;
// the manager's cache holds only what the operator labelled (CacheOptions).
func labelledStack(component string) handler.MapFunc {
	return func(_ context.Context, o client.Object) []reconcile.Request {
		l := o.GetLabels()
		if l["app.kubernetes.io/managed-by"] != common.ManagedBy || (component != "" && l["app.kubernetes.io/component"] != component) || l["app.kubernetes.io/instance"] == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: l["app.kubernetes.io/instance"]}}}
	}
}

// CacheOptions limits the manager's caches of the kinds the operator owns
// to the objects it labels: it reads only its own children, and caching
// every Secret, ConfigMap or pod of the cluster (Helm keeps a Secret per
// release revision) would cost memory for nothing. A Get of anything else
// from the cache answers NotFound; what must be read regardless
// (EnsureSecret's existing Secret) goes through the API reader. With
// namespaces (empty names ignored), the manager watches only those, as a
// namespace-scoped install's Roles allow.
func CacheOptions(namespaces ...string) cache.Options {
	mine := cache.ByObject{Label: k8slabels.SelectorFromSet(k8slabels.Set{"app.kubernetes.io/managed-by": common.ManagedBy})}
	byObject := map[client.Object]cache.ByObject{}
	for _, o := range []client.Object{
		&corev1.Pod{}, &corev1.Secret{}, &corev1.ConfigMap{}, &corev1.Service{},
		&appsv1.Deployment{}, &appsv1.StatefulSet{}, &batchv1.Job{},
		&autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{},
		&corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &networkingv1.NetworkPolicy{},
	} {
		byObject[o] = mine
	}
	opts := cache.Options{ByObject: byObject}
	for _, ns := range namespaces {
		if ns == "" {
			continue
		}
		if opts.DefaultNamespaces == nil {
			opts.DefaultNamespaces = map[string]cache.Config{}
		}
		opts.DefaultNamespaces[ns] = cache.Config{}
	}
	return opts
}
