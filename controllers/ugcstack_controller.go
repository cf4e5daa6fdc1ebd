// Package controllers holds the UGCStack reconciler and the pure builders of
// its children.
package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

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
}

// result of one component's reconcile: its condition and an optional requeue.
type result struct {
	cond    metav1.Condition
	requeue time.Duration
}

func ok(reason, msg string) result {
	return result{cond: metav1.Condition{Status: metav1.ConditionTrue, Reason: reason, Message: msg}}
}

func notReady(reason, msg string) result {
	return result{cond: metav1.Condition{Status: metav1.ConditionFalse, Reason: reason, Message: msg}, requeue: 15 * time.Second}
}

// +kubebuilder:rbac:groups=ugc.ugcstack.io,resources=ugcstacks,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=ugc.ugcstack.io,resources=ugcstacks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=ugc.ugcstack.io,resources=ugcstacks/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=services;configmaps;secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
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
		return ctrl.Result{}, nil // owner references garbage-collect the children
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
		stack.Status.Endpoints.Kibana = fmt.Sprintf("https://%s-kb-http.%s.svc:5601", esName(&stack), stack.Namespace)
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
	} else if err := r.deleteIfExists(ctx, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: apiName(s), Namespace: s.Namespace}}); err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error())
	}
	if pdb := BuildAPIPDB(s); pdb != nil {
		objs = append(objs, pdb)
	} else if err := r.deleteIfExists(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: apiName(s), Namespace: s.Namespace}}); err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error())
	}
	for _, o := range objs {
		if err := r.apply(ctx, s, o); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
	}
	var d appsv1.Deployment
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: apiName(s)}, &d); err != nil {
		return notReady(ugcv1.ReasonProgressing, err.Error())
	}
	return deploymentResult(&d, "API Deployment")
}

func (r *UGCStackReconciler) reconcileGateway(ctx context.Context, s *ugcv1.UGCStack) result {
	key := metav1.ObjectMeta{Name: gatewayName(s), Namespace: s.Namespace}
	if !s.Spec.Gateway.Enabled {
		for _, o := range []client.Object{&appsv1.Deployment{ObjectMeta: key}, &corev1.Service{ObjectMeta: key}, &corev1.ConfigMap{ObjectMeta: key}} {
			if err := r.deleteIfExists(ctx, o); err != nil {
				return notReady(ugcv1.ReasonApplyFailed, err.Error())
			}
		}
		return ok(ugcv1.ReasonDisabled, "gateway disabled")
	}
	cm, err := BuildGatewayConfigMap(s)
	if err != nil {
		return notReady(ugcv1.ReasonApplyFailed, err.Error())
	}
	for _, o := range []client.Object{cm, BuildGatewayDeployment(s, hashData(cm.Data)), BuildGatewayService(s)} {
		if err := r.apply(ctx, s, o); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
	}
	var d appsv1.Deployment
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: gatewayName(s)}, &d); err != nil {
		return notReady(ugcv1.ReasonProgressing, err.Error())
	}
	return deploymentResult(&d, "gateway Deployment")
}

func (r *UGCStackReconciler) reconcileClickHouse(ctx context.Context, s *ugcv1.UGCStack) result {
	c := s.Spec.ClickHouse
	if c.External != nil {
		return ok(ugcv1.ReasonExternal, "using the external ClickHouse")
	}
	if !c.Enabled {
		return ok(ugcv1.ReasonDisabled, "ClickHouse disabled")
	}
	sets := BuildClickHouseStatefulSets(s)
	objs := []client.Object{BuildClickHouseConfigMap(s), BuildClickHouseService(s)}
	for _, st := range sets {
		objs = append(objs, st)
	}
	for _, o := range objs {
		if err := r.apply(ctx, s, o); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
	}
	for _, want := range sets {
		var st appsv1.StatefulSet
		if err := r.Get(ctx, client.ObjectKeyFromObject(want), &st); err != nil {
			return notReady(ugcv1.ReasonProgressing, err.Error())
		}
		if st.Status.ReadyReplicas < c.Replicas {
			return notReady(ugcv1.ReasonProgressing, fmt.Sprintf("StatefulSet %s: %d/%d replicas ready", st.Name, st.Status.ReadyReplicas, c.Replicas))
		}
	}
	return ok(ugcv1.ReasonAvailable, fmt.Sprintf("%d shard(s) × %d replica(s) ready", c.Shards, c.Replicas))
}

// eckKinds must all be served for the logging stack to be rendered.
var eckKinds = []gvk{ECKElasticsearch, ECKKibana, ECKLogstash, ECKBeat}

func (r *UGCStackReconciler) reconcileLogging(ctx context.Context, s *ugcv1.UGCStack) result {
	if !s.Spec.Logging.Enabled {
		return ok(ugcv1.ReasonDisabled, "logging disabled")
	}
	for _, k := range eckKinds {
		g := k.GroupVersionKind()
		if _, err := r.RESTMapper().RESTMapping(g.GroupKind(), g.Version); err != nil {
			if meta.IsNoMatchError(err) {
				r.event(s, corev1.EventTypeWarning, ugcv1.ReasonECKNotInstalled, "%s is not served: install the ECK operator", g)
				res := notReady(ugcv1.ReasonECKNotInstalled, fmt.Sprintf("%s/%s %s is not served by the cluster: install the ECK operator (https://www.elastic.co/guide/en/cloud-on-k8s/current/k8s-deploy-eck.html)", g.Group, g.Version, g.Kind))
				res.requeue = time.Minute
				return res
			}
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
	}
	objs := BuildECKObjects(s)
	for _, o := range objs {
		if err := r.apply(ctx, s, o); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
	}
	for _, want := range objs {
		if want.GetKind() != "Elasticsearch" && want.GetKind() != "Kibana" {
			continue
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(want.GroupVersionKind())
		if err := r.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
			return notReady(ugcv1.ReasonProgressing, err.Error())
		}
		if h, _, _ := unstructured.NestedString(got.Object, "status", "health"); h != "green" {
			return notReady(ugcv1.ReasonProgressing, fmt.Sprintf("%s %s health is %q, waiting for green", want.GetKind(), want.GetName(), h))
		}
	}
	return ok(ugcv1.ReasonAvailable, "Elasticsearch and Kibana are green")
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
	// Never shrink the StatefulSet below the members still configured.
	replicas := max(members, s.Status.MongoDBMembers)
	for _, o := range []client.Object{BuildMongoService(s), BuildMongoStatefulSet(s, replicas)} {
		if err := r.apply(ctx, s, o); err != nil {
			return notReady(ugcv1.ReasonApplyFailed, err.Error())
		}
	}
	var sts appsv1.StatefulSet
	if err := r.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: mongoName(s)}, &sts); err != nil {
		return notReady(ugcv1.ReasonProgressing, err.Error())
	}
	if sts.Status.ReadyReplicas == 0 || r.ReplicaSet == nil {
		return notReady(ugcv1.ReasonProgressing, fmt.Sprintf("StatefulSet %s: %d/%d members ready", sts.Name, sts.Status.ReadyReplicas, members))
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
	action := Plan(MongoReplicaSetName(s), state, MongoHosts(s, members), ready)
	log := logf.FromContext(ctx)
	switch action.Kind {
	case RSInitiate:
		err = rs.Initiate(ctx, action.Config)
	case RSReconfig:
		err = rs.Reconfig(ctx, action.Config)
	}
	if err != nil {
		return notReady(ugcv1.ReasonReplicaSetPending, fmt.Sprintf("%s: %v", action.Reason, err))
	}
	if action.Kind == RSInitiate || action.Kind == RSReconfig {
		log.Info("replica set changed", "action", action.Kind, "reason", action.Reason)
		r.event(s, corev1.EventTypeNormal, "ReplicaSet"+string(action.Kind), "%s", action.Reason)
		s.Status.MongoDBMembers = int32(len(action.Config.Members))
		res := notReady(ugcv1.ReasonReplicaSetPending, action.Reason)
		res.requeue = 5 * time.Second
		return res
	}
	if state.Initialized {
		s.Status.MongoDBMembers = int32(len(state.Config.Members))
	}
	if action.Kind == RSWait {
		return notReady(ugcv1.ReasonReplicaSetPending, action.Reason)
	}
	if sts.Status.ReadyReplicas < members {
		return notReady(ugcv1.ReasonProgressing, fmt.Sprintf("%d/%d members ready", sts.Status.ReadyReplicas, members))
	}
	return ok(ugcv1.ReasonAvailable, fmt.Sprintf("replica set %s: %d members configured and ready", MongoReplicaSetName(s), members))
}

// readyMongoHosts reports which members' pods pass their readiness probe.
func (r *UGCStackReconciler) readyMongoHosts(ctx context.Context, s *ugcv1.UGCStack, replicas int32) (map[string]bool, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(s.Namespace), client.MatchingLabels(selector(s, "mongodb"))); err != nil {
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

// SetupWithManager watches the stack and every kind of child it owns.
func (r *UGCStackReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("ugcstack-operator")
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&ugcv1.UGCStack{}).
		Owns(&appsv1.Deployment{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Secret{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Named("ugcstack").
		Complete(r)
}

// deploymentResult reports a Deployment's availability as a component result.
func deploymentResult(d *appsv1.Deployment, what string) result {
	ready, msg := deploymentReady(d)
	if !ready {
		return notReady(ugcv1.ReasonProgressing, what+": "+msg)
	}
	return ok(ugcv1.ReasonAvailable, what+": "+msg)
}
