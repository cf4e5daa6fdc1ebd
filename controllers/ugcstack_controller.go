// Package controllers holds the UGCStack reconciler and the pure builders of
// its children.
package controllers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// ReplicaSetClientFactory connects to a stack's managed replica set. hosts
// are the members to reach, uri the admin URI from the generated Secret.
type ReplicaSetClientFactory func(ctx context.Context, stack *ugcv1.UGCStack, hosts []string, user, password string) (ReplicaSetClient, func(), error)

// UGCStackReconciler turns a UGCStack into its children and reports their state.
type UGCStackReconciler struct {
	client.Client
	Scheme     *runtime.Scheme
	Recorder   events.EventRecorder
	ReplicaSet ReplicaSetClientFactory

	controller controller.Controller
	cache      cache.Cache
	eckMu      sync.Mutex
	eckWatched bool
}

// result of one component's reconcile: its condition and an optional requeue.
type result struct {
	cond    metav1.Condition
	requeue time.Duration
}

func ok(reason, msg string) result {
	return result{cond: metav1.Condition{Status: metav1.ConditionTrue, Reason: reason, Message: msg}}
}

// notReady also requeues: for failures and for state nothing watched reports.
func notReady(reason, msg string) result {
	return result{cond: metav1.Condition{Status: metav1.ConditionFalse, Reason: reason, Message: msg}, requeue: 15 * time.Second}
}

// waiting is notReady for state a watched child reports: its change
// triggers the next reconcile.
func waiting(reason, msg string) result {
	return result{cond: metav1.Condition{Status: metav1.ConditionFalse, Reason: reason, Message: msg}}
}

// +kubebuilder:rbac:groups=ugc.ugcstack.io,resources=ugcstacks,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ugc.ugcstack.io,resources=ugcstacks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ugc.ugcstack.io,resources=ugcstacks/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=services;configmaps;secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=deletecollection
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=elasticsearch.k8s.elastic.co,resources=elasticsearches,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=kibana.k8s.elastic.co,resources=kibanas,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=logstash.k8s.elastic.co,resources=logstashes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=beat.k8s.elastic.co,resources=beats,verbs=get;list;watch;create;update;patch;delete

// Reconcile reads the stack, applies every component, and writes status.
// One failing component does not stop the others.
func (r *UGCStackReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var stack ugcv1.UGCStack
	if err := r.Get(ctx, req.NamespacedName, &stack); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !stack.DeletionTimestamp.IsZero() {
		// Owner references garbage-collect the children; only the volumes
		// need the operator.
		return ctrl.Result{}, r.finalize(ctx, &stack)
	}
	if err := r.syncFinalizer(ctx, &stack); err != nil {
		return ctrl.Result{}, err
	}
	before := stack.DeepCopy()

	steps := []struct {
		condType string
		run      func(context.Context, *ugcv1.UGCStack) result
	}{
		{ugcv1.ConditionMongoDBReady, r.reconcileMongoDB},
		{ugcv1.ConditionAPIReady, r.reconcileAPI},
		{ugcv1.ConditionClickHouseReady, r.reconcileClickHouse},
		{ugcv1.ConditionLoggingReady, r.reconcileLogging},
		{ugcv1.ConditionGatewayReady, r.reconcileGateway},
	}
	var requeue time.Duration
	allReady := true
	var notReadyTypes []string
	for _, st := range steps {
		res := st.run(ctx, &stack)
		res.cond.Type = st.condType
		res.cond.ObservedGeneration = stack.Generation
		meta.SetStatusCondition(&stack.Status.Conditions, res.cond)
		if res.cond.Status != metav1.ConditionTrue {
			allReady = false
			notReadyTypes = append(notReadyTypes, st.condType)
		}
		if res.requeue > 0 && (requeue == 0 || res.requeue < requeue) {
			requeue = res.requeue
		}
	}
	ready := metav1.Condition{
		Type: ugcv1.ConditionReady, Status: metav1.ConditionTrue, Reason: ugcv1.ReasonAvailable,
		Message: "every component is ready", ObservedGeneration: stack.Generation,
	}
	if !allReady {
		ready.Status, ready.Reason = metav1.ConditionFalse, ugcv1.ReasonComponentsNotReady
		ready.Message = fmt.Sprintf("not ready: %v", notReadyTypes)
	}
	meta.SetStatusCondition(&stack.Status.Conditions, ready)
	stack.Status.ObservedGeneration = stack.Generation
	stack.Status.Endpoints.API = fmt.Sprintf("http://%s.%s.svc", apiName(&stack), stack.Namespace)
	if stack.Spec.Gateway.Enabled {
		stack.Status.Endpoints.API = fmt.Sprintf("http://%s.%s.svc", gatewayName(&stack), stack.Namespace)
	}
	stack.Status.Endpoints.Kibana = ""
	if stack.Spec.Logging.Enabled && stack.Spec.Logging.Kibana {
		stack.Status.Endpoints.Kibana = kibanaURL(&stack)
	}
	if err := r.Status().Patch(ctx, &stack, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

func (r *UGCStackReconciler) event(s *ugcv1.UGCStack, typ, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(s, nil, typ, reason, reason, format, args...)
	}
}

func deploymentReady(d *appsv1.Deployment) (bool, string) {
	want := ptr.Deref(d.Spec.Replicas, 1)
	if d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas < want || d.Status.AvailableReplicas < want {
		return false, fmt.Sprintf("%d/%d replicas available and updated", min(d.Status.AvailableReplicas, d.Status.UpdatedReplicas), want)
	}
	return true, fmt.Sprintf("%d/%d replicas available", d.Status.AvailableReplicas, want)
}

func (r *UGCStackReconciler) reconcileAPI(ctx context.Context, s *ugcv1.UGCStack) result {
	cm := BuildAPIConfigMap(s)
	objs := []client.Object{cm, BuildAPIDeployment(s, hashData(cm.Data)), BuildAPIService(s)}
	if hpa := BuildAPIHPA(s); hpa != nil {
		objs = append(objs, hpa)
	}
	if pdb := BuildAPIPDB(s); pdb != nil {
		objs = append(objs, pdb)
	}
	if res, failed := r.applyAndPrune(ctx, s, componentAPI, objs...); failed {
		return res
	}
	var d appsv1.Deployment
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: apiName(s)}, &d); err != nil {
		return notReady(ugcv1.ReasonProgressing, err.Error())
	}
	return deploymentResult(&d, "API Deployment")
}

// applyAndPrune applies objs, then deletes what else component has: the
// children a disabled part or a smaller spec leaves behind.
func (r *UGCStackReconciler) applyAndPrune(ctx context.Context, s *ugcv1.UGCStack, component string, objs ...client.Object) (result, bool) {
	for _, o := range objs {
		if err := r.apply(ctx, s, o); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error()), true
		}
	}
	if err := r.prune(ctx, s, component, objs...); err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error()), true
	}
	return result{}, false
}

func (r *UGCStackReconciler) reconcileGateway(ctx context.Context, s *ugcv1.UGCStack) result {
	if !s.Spec.Gateway.Enabled {
		if res, failed := r.applyAndPrune(ctx, s, componentGateway); failed {
			return res
		}
		return ok(ugcv1.ReasonDisabled, "gateway disabled")
	}
	cm, err := BuildGatewayConfigMap(s)
	if err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error())
	}
	if res, failed := r.applyAndPrune(ctx, s, componentGateway, cm, BuildGatewayDeployment(s, hashData(cm.Data)), BuildGatewayService(s)); failed {
		return res
	}
	var d appsv1.Deployment
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: gatewayName(s)}, &d); err != nil {
		return notReady(ugcv1.ReasonProgressing, err.Error())
	}
	return deploymentResult(&d, "gateway Deployment")
}

func (r *UGCStackReconciler) reconcileClickHouse(ctx context.Context, s *ugcv1.UGCStack) result {
	c := s.Spec.ClickHouse
	var sets []*appsv1.StatefulSet
	var objs, keeper []client.Object
	if c.Enabled && c.External == nil {
		auth, err := r.ensureSecret(ctx, s, BuildClickHouseAuthSecret(s, randomString(24)))
		if err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
		sets = BuildClickHouseStatefulSets(s)
		// Applied again as it is, so that pruning sees it as wanted.
		objs = []client.Object{BuildClickHouseAuthSecret(s, string(auth["password"])), BuildClickHouseConfigMap(s), BuildClickHouseService(s)}
		for _, st := range sets {
			objs = append(objs, st)
		}
		if k := BuildKeeperStatefulSet(s); k != nil {
			sets = append(sets, k)
			keeper = []client.Object{BuildKeeperConfigMap(s), BuildKeeperService(s), k}
		}
	}
	if res, failed := r.applyAndPrune(ctx, s, componentKeeper, keeper...); failed {
		return res
	}
	if res, failed := r.applyAndPrune(ctx, s, componentClickHouse, objs...); failed {
		return res
	}
	relay := BuildRelayDeployment(s)
	var relayObjs []client.Object
	if relay != nil {
		relayObjs = append(relayObjs, relay)
	}
	if res, failed := r.applyAndPrune(ctx, s, componentRelay, relayObjs...); failed {
		return res
	}
	if relay == nil {
		return ok(ugcv1.ReasonDisabled, "ClickHouse disabled")
	}
	for _, want := range sets {
		var st appsv1.StatefulSet
		if err := r.Get(ctx, client.ObjectKeyFromObject(want), &st); err != nil {
			return notReady(ugcv1.ReasonProgressing, err.Error())
		}
		if n := ptr.Deref(want.Spec.Replicas, 1); st.Status.ReadyReplicas < n {
			return waiting(ugcv1.ReasonProgressing, fmt.Sprintf("StatefulSet %s: %d/%d replicas ready", st.Name, st.Status.ReadyReplicas, n))
		}
	}
	var rd appsv1.Deployment
	if err := r.Get(ctx, client.ObjectKeyFromObject(relay), &rd); err != nil {
		return notReady(ugcv1.ReasonProgressing, err.Error())
	}
	if ready, msg := deploymentReady(&rd); !ready {
		return waiting(ugcv1.ReasonProgressing, "relay Deployment: "+msg)
	}
	if c.External != nil {
		return ok(ugcv1.ReasonExternal, "using the external ClickHouse; relay running")
	}
	msg := fmt.Sprintf("%d shard(s) × %d replica(s) ready, relay running", c.Shards, c.Replicas)
	if len(keeper) > 0 {
		msg += fmt.Sprintf(", Keeper %d/%d", keeperNodes, keeperNodes)
	}
	return ok(ugcv1.ReasonAvailable, msg)
}

// eckKinds must all be served for the logging stack to be rendered.
var eckKinds = []gvk{ECKElasticsearch, ECKKibana, ECKLogstash, ECKBeat}

// eckMissing returns the first ECK kind the cluster does not serve, nil when
// the ECK operator's CRDs are all installed.
func (r *UGCStackReconciler) eckMissing() (*schema.GroupVersionKind, error) {
	for _, k := range eckKinds {
		g := k.GroupVersionKind()
		if _, err := r.RESTMapper().RESTMapping(g.GroupKind(), g.Version); err != nil {
			if meta.IsNoMatchError(err) {
				return &g, nil
			}
			return nil, err
		}
	}
	return nil, nil
}

// watchECK starts watching the ECK kinds the stack owns, once: their status
// (health) then triggers a reconcile instead of a periodic poll. It is
// called at start-up when ECK is installed, and by the first reconcile that
// finds it installed later.
func (r *UGCStackReconciler) watchECK() error {
	r.eckMu.Lock()
	defer r.eckMu.Unlock()
	if r.eckWatched || r.controller == nil {
		return nil
	}
	for _, k := range eckKinds {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(k.GroupVersionKind())
		h := handler.EnqueueRequestForOwner(r.Scheme, r.RESTMapper(), &ugcv1.UGCStack{}, handler.OnlyControllerOwner())
		if err := r.controller.Watch(source.Kind(r.cache, client.Object(u), h)); err != nil {
			return fmt.Errorf("watch %s: %w", k.kind, err)
		}
	}
	r.eckWatched = true
	return nil
}

func (r *UGCStackReconciler) reconcileLogging(ctx context.Context, s *ugcv1.UGCStack) result {
	if !s.Spec.Logging.Enabled {
		if res, failed := r.applyAndPrune(ctx, s, componentLogging); failed {
			return res
		}
		return ok(ugcv1.ReasonDisabled, "logging disabled")
	}
	missing, err := r.eckMissing()
	if err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error())
	}
	if missing != nil {
		g := *missing
		r.event(s, corev1.EventTypeWarning, ugcv1.ReasonECKNotInstalled, "%s is not served: install the ECK operator", g)
		res := notReady(ugcv1.ReasonECKNotInstalled, fmt.Sprintf("%s/%s %s is not served by the cluster: install the ECK operator (https://www.elastic.co/guide/en/cloud-on-k8s/current/k8s-deploy-eck.html)", g.Group, g.Version, g.Kind))
		// Nothing to watch until the CRDs exist: poll for them.
		res.requeue = time.Minute
		return res
	}
	if err := r.watchECK(); err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error())
	}
	eck := BuildECKObjects(s)
	keep := make([]client.Object, 0, len(eck)+1)
	for _, o := range eck {
		if err := r.apply(ctx, s, o); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
		keep = append(keep, o)
	}
	res := r.eckHealth(ctx, eck)
	if res.cond.Status == metav1.ConditionTrue {
		var job client.Object
		res, job = r.loggingSetup(ctx, s)
		if job != nil {
			keep = append(keep, job)
		}
	}
	if err := r.prune(ctx, s, componentLogging, keep...); err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error())
	}
	return res
}

// eckHealth waits for Elasticsearch and Kibana to report green. The ECK
// objects are watched, so no periodic requeue is needed.
func (r *UGCStackReconciler) eckHealth(ctx context.Context, eck []*unstructured.Unstructured) result {
	for _, want := range eck {
		if want.GetKind() != ECKElasticsearch.kind && want.GetKind() != ECKKibana.kind {
			continue
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(want.GroupVersionKind())
		if err := r.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
			return notReady(ugcv1.ReasonProgressing, err.Error())
		}
		if h, _, _ := unstructured.NestedString(got.Object, "status", "health"); h != "green" {
			return waiting(ugcv1.ReasonProgressing, fmt.Sprintf("%s %s health is %q, waiting for green", want.GetKind(), want.GetName(), h))
		}
	}
	return ok(ugcv1.ReasonAvailable, "Elasticsearch and Kibana are green")
}

// loggingSetup runs the Job that loads the ILM policy, index template and
// Kibana saved objects, once per configuration: status.loggingSetupHash
// remembers the configuration loaded, so a Job removed by its TTL is not
// run again. It returns the Job to keep, if one exists.
func (r *UGCStackReconciler) loggingSetup(ctx context.Context, s *ugcv1.UGCStack) (result, client.Object) {
	want := BuildLoggingSetupJob(s)
	hash := LoggingSetupHash(s)
	var job batchv1.Job
	err := r.Get(ctx, client.ObjectKeyFromObject(want), &job)
	switch {
	case err != nil && !apierrors.IsNotFound(err):
		return notReady(ugcv1.ReasonProgressing, err.Error()), nil
	case s.Status.LoggingSetupHash == hash:
		var kept client.Object
		if err == nil {
			kept = want
		}
		return ok(ugcv1.ReasonAvailable, "Elasticsearch and Kibana are green; index template, ILM policy and saved objects loaded"), kept
	case apierrors.IsNotFound(err):
		if err := r.apply(ctx, s, want); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error()), nil
		}
		r.event(s, corev1.EventTypeNormal, "LoggingSetupStarted", "started Job %s to load the index template, ILM policy and saved objects", want.Name)
		return waiting(ugcv1.ReasonLoggingSetupPending, "Job "+want.Name+" created"), want
	}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			s.Status.LoggingSetupHash = hash
			r.event(s, corev1.EventTypeNormal, "LoggingSetupComplete", "Job %s loaded the logging configuration", job.Name)
			return ok(ugcv1.ReasonAvailable, "Elasticsearch and Kibana are green; index template, ILM policy and saved objects loaded"), want
		case batchv1.JobFailed:
			return waiting(ugcv1.ReasonLoggingSetupFailed, fmt.Sprintf("Job %s failed (%s): see kubectl logs job/%s; it runs again when its TTL removes it", job.Name, c.Message, job.Name)), want
		}
	}
	return waiting(ugcv1.ReasonLoggingSetupPending, fmt.Sprintf("Job %s: %d active, %d failed attempt(s)", job.Name, job.Status.Active, job.Status.Failed)), want
}

// volumesFinalizer holds a stack whose MongoDB volumes must go with it until
// the operator has deleted them: the StatefulSet's own retention policy
// leaves behind the claims of members removed by an earlier scale-down, and
// needs a cluster where that policy is enforced.
const volumesFinalizer = "ugc.ugcstack.io/mongodb-volumes"

func deletesVolumes(s *ugcv1.UGCStack) bool {
	return s.Spec.MongoDB.External == nil && s.Spec.MongoDB.DeletePolicy == "Delete"
}

// syncFinalizer adds the finalizer when the spec asks for volumes to be
// deleted and removes it when it no longer does.
func (r *UGCStackReconciler) syncFinalizer(ctx context.Context, s *ugcv1.UGCStack) error {
	orig := s.DeepCopy()
	var changed bool
	if deletesVolumes(s) {
		changed = controllerutil.AddFinalizer(s, volumesFinalizer)
	} else {
		changed = controllerutil.RemoveFinalizer(s, volumesFinalizer)
	}
	if !changed {
		return nil
	}
	return r.Patch(ctx, s, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
}

// finalize deletes the MongoDB volumes of a stack being deleted with
// deletePolicy Delete, then lets the deletion proceed. The claims' own
// protection finalizer keeps each until its pod is gone.
func (r *UGCStackReconciler) finalize(ctx context.Context, s *ugcv1.UGCStack) error {
	if !controllerutil.ContainsFinalizer(s, volumesFinalizer) {
		return nil
	}
	if deletesVolumes(s) {
		if err := r.DeleteAllOf(ctx, &corev1.PersistentVolumeClaim{}, client.InNamespace(s.Namespace), client.MatchingLabels(selector(s, componentMongoDB))); err != nil {
			return fmt.Errorf("delete MongoDB volumes: %w", err)
		}
		r.event(s, corev1.EventTypeNormal, "VolumesDeleted", "deleted the MongoDB volumes (deletePolicy: Delete)")
	}
	orig := s.DeepCopy()
	controllerutil.RemoveFinalizer(s, volumesFinalizer)
	return r.Patch(ctx, s, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
}

// ensureSecret creates a generated Secret once; an existing one is never
// regenerated. It returns the Secret's current data.
func (r *UGCStackReconciler) ensureSecret(ctx context.Context, s *ugcv1.UGCStack, want *corev1.Secret) (map[string][]byte, error) {
	var got corev1.Secret
	err := r.Get(ctx, client.ObjectKeyFromObject(want), &got)
	if apierrors.IsNotFound(err) {
		if err := r.apply(ctx, s, want); err != nil {
			return nil, err
		}
		r.event(s, corev1.EventTypeNormal, "SecretGenerated", "generated Secret %s", want.Name)
		if err := r.Get(ctx, client.ObjectKeyFromObject(want), &got); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return got.Data, nil
}

func (r *UGCStackReconciler) reconcileMongoDB(ctx context.Context, s *ugcv1.UGCStack) result {
	if s.Spec.MongoDB.External != nil {
		return ok(ugcv1.ReasonExternal, "using the external MongoDB from Secret "+s.Spec.MongoDB.External.URISecretRef.Name)
	}
	members := mongoMembers(s)
	if _, err := r.ensureSecret(ctx, s, BuildMongoKeyfileSecret(s, randomString(512))); err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error())
	}
	auth, err := r.ensureSecret(ctx, s, BuildMongoAdminSecret(s, randomString(24)))
	if err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error())
	}
	user, password := string(auth["username"]), string(auth["password"])
	// The URI follows the member list; the password stays as generated.
	if uri := MongoURI(s, user, password); string(auth["uri"]) != uri {
		if err := r.apply(ctx, s, BuildMongoAdminSecret(s, password)); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
	}
	var sts appsv1.StatefulSet
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: mongoName(s)}, &sts); client.IgnoreNotFound(err) != nil {
		return notReady(ugcv1.ReasonProgressing, err.Error())
	}
	// Grow at once; shrink only below, once the replica set's configuration
	// no longer has the members whose pods would go.
	replicas := max(members, ptr.Deref(sts.Spec.Replicas, 0))
	for _, o := range []client.Object{BuildMongoService(s), BuildMongoStatefulSet(s, replicas)} {
		if err := r.apply(ctx, s, o); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
	}
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: mongoName(s)}, &sts); err != nil {
		return notReady(ugcv1.ReasonProgressing, err.Error())
	}
	if sts.Status.ReadyReplicas == 0 || r.ReplicaSet == nil {
		return waiting(ugcv1.ReasonProgressing, fmt.Sprintf("StatefulSet %s: %d/%d members ready", sts.Name, sts.Status.ReadyReplicas, members))
	}
	ready, err := r.readyMongoHosts(ctx, s, replicas)
	if err != nil {
		return notReady(ugcv1.ReasonProgressing, err.Error())
	}
	rs, closeRS, err := r.ReplicaSet(ctx, s, MongoHosts(s, replicas), user, password)
	if err != nil {
		return notReady(ugcv1.ReasonReplicaSetPending, "connecting to the replica set: "+err.Error())
	}
	defer closeRS()
	state, err := rs.GetState(ctx)
	if err != nil {
		return notReady(ugcv1.ReasonReplicaSetPending, "replSetGetStatus: "+err.Error())
	}
	if state.Initialized {
		s.Status.MongoDBMembers = int32(len(state.Config.Members))
		if need := max(members, configuredOrdinals(s, state.Config, replicas)); need < replicas {
			if err := r.apply(ctx, s, BuildMongoStatefulSet(s, need)); err != nil {
				return notReady(ugcv1.ReasonApplyFailed, err.Error())
			}
			r.event(s, corev1.EventTypeNormal, "MongoDBShrunk", "StatefulSet %s scaled to %d: the members above are out of the replica set", sts.Name, need)
		}
	}
	action := Plan(MongoReplicaSetName(s), state, MongoHosts(s, members), ready)
	switch action.Kind {
	case RSInitiate:
		err = rs.Initiate(ctx, action.Target, action.Config)
	case RSReconfig:
		err = rs.Reconfig(ctx, action.Target, action.Config)
	case RSStepDown:
		err = rs.StepDown(ctx, action.Target)
	case RSWait:
		return notReady(ugcv1.ReasonReplicaSetPending, action.Reason)
	case RSNoop:
		if sts.Status.ReadyReplicas < members {
			return waiting(ugcv1.ReasonProgressing, fmt.Sprintf("%d/%d members ready", sts.Status.ReadyReplicas, members))
		}
		return ok(ugcv1.ReasonAvailable, fmt.Sprintf("replica set %s: %d members configured and ready", MongoReplicaSetName(s), members))
	}
	if err != nil {
		return notReady(ugcv1.ReasonReplicaSetPending, fmt.Sprintf("%s on %s: %v", action.Reason, action.Target, err))
	}
	logf.FromContext(ctx).Info("replica set changed", "action", action.Kind, "target", action.Target, "reason", action.Reason)
	r.event(s, corev1.EventTypeNormal, "ReplicaSet"+string(action.Kind), "%s (sent to %s)", action.Reason, action.Target)
	if action.Kind != RSStepDown {
		s.Status.MongoDBMembers = int32(len(action.Config.Members))
	}
	// The replica set's own state is not watched: look again soon.
	res := notReady(ugcv1.ReasonReplicaSetPending, action.Reason)
	res.requeue = 2 * time.Second
	return res
}

// configuredOrdinals is the StatefulSet size that keeps a pod for every
// member of cfg: one more than the highest ordinal among the first n.
func configuredOrdinals(s *ugcv1.UGCStack, cfg RSConfig, n int32) int32 {
	var need int32
	for i, h := range MongoHosts(s, n) {
		if slices.ContainsFunc(cfg.Members, func(m RSMember) bool { return m.Host == h }) {
			need = int32(i) + 1
		}
	}
	return need
}

// readyMongoHosts reports which members' pods pass their readiness probe.
func (r *UGCStackReconciler) readyMongoHosts(ctx context.Context, s *ugcv1.UGCStack, replicas int32) (map[string]bool, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(s.Namespace), client.MatchingLabels(selector(s, componentMongoDB))); err != nil {
		return nil, err
	}
	hosts := MongoHosts(s, replicas)
	ready := map[string]bool{}
	for _, p := range pods.Items {
		for i, h := range hosts {
			if p.Name != fmt.Sprintf("%s-%d", mongoName(s), i) {
				continue
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					ready[h] = true
				}
			}
		}
	}
	return ready, nil
}

// SetupWithManager watches the stack, every kind of child it owns, the
// MongoDB pods (whose readiness gates replica-set changes) and, when the ECK
// CRDs are installed, the ECK objects.
func (r *UGCStackReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("ugcstack-operator")
	}
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&ugcv1.UGCStack{}).
		Owns(&appsv1.Deployment{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Secret{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&batchv1.Job{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(mongoPodStack)).
		Named("ugcstack").
		Build(r)
	if err != nil {
		return err
	}
	r.controller, r.cache = c, mgr.GetCache()
	missing, err := r.eckMissing()
	if err != nil || missing != nil {
		return err // watched later, by the reconcile that finds ECK installed
	}
	return r.watchECK()
}

// mongoPodStack maps a managed MongoDB pod to its stack. The pods belong to
// the StatefulSet, not the stack, so Owns cannot see them; the manager's
// cache holds only the operator's pods (CacheOptions).
func mongoPodStack(_ context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	if l["app.kubernetes.io/managed-by"] != "ugcstack-operator" || l["app.kubernetes.io/component"] != componentMongoDB || l["app.kubernetes.io/instance"] == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: l["app.kubernetes.io/instance"]}}}
}

// CacheOptions limits the manager's pod cache to the pods the operator's
// workloads run: it reads only MongoDB pods, and caching every pod of the
// cluster would cost memory for nothing.
func CacheOptions() cache.Options {
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&corev1.Pod{}: {Label: k8slabels.SelectorFromSet(k8slabels.Set{"app.kubernetes.io/managed-by": "ugcstack-operator"})},
	}}
}

// deploymentResult reports a Deployment's availability as a component result.
func deploymentResult(d *appsv1.Deployment, what string) result {
	ready, msg := deploymentReady(d)
	if !ready {
		return waiting(ugcv1.ReasonProgressing, what+": "+msg)
	}
	return ok(ugcv1.ReasonAvailable, what+": "+msg)
}
