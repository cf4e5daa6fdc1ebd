// Package ugcstack is the UGCStack reconciler: it reads a stack, runs each
// component's reconcile step, and writes one status with a condition per
// component. Errors from the steps are returned together, so
// controller-runtime backs off and counts them.
package ugcstack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/api"
	"github.com/ugcstack/ugcstack/controllers/clickhouse"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/gateway"
	"github.com/ugcstack/ugcstack/controllers/logging"
	"github.com/ugcstack/ugcstack/controllers/mongodb"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
	"github.com/ugcstack/ugcstack/controllers/networkpolicy"
	"github.com/ugcstack/ugcstack/controllers/relay"
)

// Reconciler turns a UGCStack into its children and reports their state.
type Reconciler struct {
	Deps common.Deps
	// ConnectReplicaSet opens the managed MongoDB's replica-set client.
	ConnectReplicaSet replset.Connect

	controller controller.Controller
	cache      cache.Cache
	eckMu      sync.Mutex
	eckWatched bool
}

// step is one component's reconcile function.
type step func(context.Context, common.Deps, *ugcv1.UGCStack) common.Result

// both runs two parts that report one condition together.
func both(a, b step) step {
	return func(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) common.Result {
		return a(ctx, d, s).And(b(ctx, d, s))
	}
}

type component struct {
	condition string
	run       step
	// pods are the components whose stuck pods explain the condition.
	pods []string
}

// components lists each condition with the step that reports it, in order:
// MongoDB first, whose Secret the API reads.
func (r *Reconciler) components() []component {
	return []component{
		{ugcv1.ConditionMongoDBReady, mongodb.Component{Connect: r.ConnectReplicaSet}.Reconcile, []string{common.ComponentMongoDB}},
		{ugcv1.ConditionAPIReady, both(api.Reconcile, networkpolicy.Reconcile), []string{common.ComponentAPI}},
		{ugcv1.ConditionClickHouseReady, both(clickhouse.Reconcile, relay.Reconcile), []string{common.ComponentClickHouse, common.ComponentKeeper, common.ComponentRelay}},
		// ECK's pods are ECK's to explain, in the objects' own status.
		{ugcv1.ConditionLoggingReady, logging.Component{WatchECK: r.watchECK}.Reconcile, []string{common.ComponentLogging}},
		{ugcv1.ConditionGatewayReady, gateway.Reconcile, []string{common.ComponentGateway}},
	}
}

// +kubebuilder:rbac:groups=ugc.ugcstack.io,resources=ugcstacks,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ugc.ugcstack.io,resources=ugcstacks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ugc.ugcstack.io,resources=ugcstacks/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=services;configmaps;secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=list;patch;delete;deletecollection
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=elasticsearch.k8s.elastic.co,resources=elasticsearches,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=kibana.k8s.elastic.co,resources=kibanas,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=logstash.k8s.elastic.co,resources=logstashes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=beat.k8s.elastic.co,resources=beats,verbs=get;list;watch;create;update;patch;delete

// Reconcile reads the stack, runs every component, and writes status. One
// failing component does not stop the others; their errors are returned
// together after the status is written.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var stack ugcv1.UGCStack
	if err := r.Deps.Client.Get(ctx, req.NamespacedName, &stack); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !stack.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, finalize(ctx, r.Deps, &stack)
	}
	if err := syncFinalizer(ctx, r.Deps, &stack); err != nil {
		return ctrl.Result{}, err
	}
	before := stack.DeepCopy()
	var errs []error
	var requeue time.Duration
	var notReady []string
	for _, c := range r.components() {
		res := common.ExplainPods(ctx, r.Deps, &stack, c.run(ctx, r.Deps, &stack), c.pods...)
		res.Condition.Type, res.Condition.ObservedGeneration = c.condition, stack.Generation
		meta.SetStatusCondition(&stack.Status.Conditions, res.Condition)
		if !res.IsReady() {
			notReady = append(notReady, c.condition)
		}
		if res.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.condition, res.Err))
		}
		if res.RequeueAfter > 0 && (requeue == 0 || res.RequeueAfter < requeue) {
			requeue = res.RequeueAfter
		}
	}
	setStatus(&stack, notReady)
	if err := r.Deps.Client.Status().Patch(ctx, &stack, client.MergeFrom(before)); err != nil {
		errs = append(errs, fmt.Errorf("patch status: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return ctrl.Result{}, err
	}
	if requeue == 0 {
		requeue = Resync
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// Resync is how often a settled stack is reconciled anyway: the Secrets a
// person made (a JWT secret, a Sentry DSN, an external URI) are outside the
// operator's cache and send no event, so this is how soon their rotation
// rolls the pods that read them (common.RollOnSecrets), unless the stack
// is touched first.
const Resync = 5 * time.Minute

// setStatus writes the Ready condition and the endpoints a client uses.
func setStatus(s *ugcv1.UGCStack, notReady []string) {
	ready := metav1.Condition{
		Type: ugcv1.ConditionReady, Status: metav1.ConditionTrue, Reason: ugcv1.ReasonAvailable,
		Message: "every component is ready", ObservedGeneration: s.Generation,
	}
	if len(notReady) > 0 {
		ready.Status, ready.Reason = metav1.ConditionFalse, ugcv1.ReasonComponentsNotReady
		ready.Message = fmt.Sprintf("not ready: %v", notReady)
	}
	meta.SetStatusCondition(&s.Status.Conditions, ready)
	s.Status.ObservedGeneration = s.Generation
	s.Status.Endpoints.API = fmt.Sprintf("http://%s.%s.svc", common.APIName(s), s.Namespace)
	if s.Spec.Gateway.Enabled {
		s.Status.Endpoints.API = fmt.Sprintf("http://%s.%s.svc", gateway.Name(s), s.Namespace)
	}
	s.Status.Endpoints.Kibana = ""
	if s.Spec.Logging.Enabled && s.Spec.Logging.Kibana {
		s.Status.Endpoints.Kibana = logging.KibanaURL(s)
	}
}
