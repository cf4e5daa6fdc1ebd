package logging

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

const loadedMsg = "Elasticsearch and Kibana are healthy; index template, ILM policy and saved objects loaded"

// Component reconciles the logging stack. WatchECK starts watching the ECK
// kinds; it is called by every reconcile that finds them served, and must
// make the later calls cheap.
type Component struct {
	WatchECK func() error
}

// Missing returns the first ECK kind the cluster does not serve, nil when
// the ECK operator's CRDs are all installed.
func Missing(mapper meta.RESTMapper) (*schema.GroupVersionKind, error) {
	for _, k := range ECKKinds {
		if _, err := mapper.RESTMapping(k.GroupKind(), k.Version); err != nil {
			if meta.IsNoMatchError(err) {
				return &k, nil
			}
			return nil, fmt.Errorf("discover %s: %w", k.Kind, err)
		}
	}
	return nil, nil
}

// kinds are what logging children can be: Jobs, and the ECK kinds when
// the cluster serves them.
func kinds(served bool) []client.ObjectList {
	lists := []client.ObjectList{&batchv1.JobList{}, &corev1.ServiceAccountList{}, &rbacv1.RoleList{}, &rbacv1.RoleBindingList{}}
	if served {
		for _, k := range ECKKinds {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(k.GroupVersion().WithKind(k.Kind + "List"))
			lists = append(lists, l)
		}
	}
	return lists
}

// Reconcile applies the ECK objects, runs the setup Job once they are
// green, and prunes what the spec no longer asks for.
func (c Component) Reconcile(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) common.Result {
	missing, err := Missing(d.Client.RESTMapper())
	if err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if !s.Spec.Logging.Enabled {
		if err := common.Prune(ctx, d, s, common.ComponentLogging, kinds(missing == nil)); err != nil {
			return common.Failed(ugcv1.ReasonApplyFailed, err)
		}
		return common.Ready(ugcv1.ReasonDisabled, "logging disabled")
	}
	if missing != nil {
		d.Event(s, corev1.EventTypeWarning, ugcv1.ReasonECKNotInstalled, "%s is not served: install the ECK operator", *missing)
		// Nothing to watch until the CRDs exist: poll for them.
		return common.Polling(ugcv1.ReasonECKNotInstalled, fmt.Sprintf("%s/%s %s is not served by the cluster: install the ECK operator (https://www.elastic.co/guide/en/cloud-on-k8s/current/k8s-deploy-eck.html)", missing.Group, missing.Version, missing.Kind), time.Minute)
	}
	if err := c.WatchECK(); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	keep := FilebeatRBAC(s)
	if err := common.ApplyAll(ctx, d, s, keep...); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	eck := ECKObjects(s)
	for _, o := range eck {
		if err := common.Apply(ctx, d, s, o); err != nil {
			return common.Failed(ugcv1.ReasonApplyFailed, err)
		}
		keep = append(keep, o)
	}
	res := health(ctx, d, s, eck)
	if res.IsReady() {
		var job client.Object
		res, job = setup(ctx, d, s)
		if job != nil {
			keep = append(keep, job)
		}
	}
	if err := common.Prune(ctx, d, s, common.ComponentLogging, kinds(true), keep...); err != nil {
		return res.And(common.Failed(ugcv1.ReasonApplyFailed, err))
	}
	return res
}

// health waits for Elasticsearch and Kibana to report green, or yellow
// for a one-node Elasticsearch, which can hold no replica of any index.
// The ECK objects are watched, so no periodic requeue is needed.
func health(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, eck []*unstructured.Unstructured) common.Result {
	for _, want := range eck {
		if k := want.GetKind(); k != Elasticsearch.Kind && k != Kibana.Kind {
			continue
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(want.GroupVersionKind())
		if err := d.Client.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
			return common.Failed(ugcv1.ReasonProgressing, err)
		}
		h, _, _ := unstructured.NestedString(got.Object, "status", "health")
		oneNode := want.GetKind() == Elasticsearch.Kind && s.Spec.Logging.ElasticsearchNodes == 1
		if h != "green" && (h != "yellow" || !oneNode) {
			return common.Waiting(ugcv1.ReasonProgressing, fmt.Sprintf("%s %s health is %q, waiting for green", want.GetKind(), want.GetName(), h))
		}
	}
	return common.Ready(ugcv1.ReasonAvailable, "Elasticsearch and Kibana are healthy")
}

// setup runs the Job that loads the ILM policy, index template and Kibana
// saved objects, once per configuration: status.loggingSetupHash remembers
// the configuration loaded, so a Job removed by its TTL is not run again.
// It returns the Job to keep, if one exists.
func setup(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) (common.Result, client.Object) {
	want := SetupJob(s)
	hash := SetupHash(s)
	var job batchv1.Job
	err := d.Client.Get(ctx, client.ObjectKeyFromObject(want), &job)
	switch {
	case err == nil:
		return jobResult(d, s, &job, hash), want
	case !apierrors.IsNotFound(err):
		return common.Failed(ugcv1.ReasonProgressing, err), nil
	}
	loaded, err := loadedHash(ctx, d, s)
	if err != nil {
		return common.Failed(ugcv1.ReasonProgressing, err), nil
	}
	if loaded == hash {
		return common.Ready(ugcv1.ReasonAvailable, loadedMsg), nil
	}
	if err := common.Apply(ctx, d, s, want); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err), nil
	}
	d.Event(s, corev1.EventTypeNormal, "LoggingSetupStarted", "started Job %s to load the index template, ILM policy and saved objects", want.Name)
	return common.Waiting(ugcv1.ReasonLoggingSetupPending, "Job "+want.Name+" created"), want
}

// loadedHash is the configuration the setup last loaded. The stack at hand
// comes from the cache, which can still hold it from before the status
// patch that recorded a completed Job; creating a Job on that stale view
// would load everything again, so an unrecorded hash is read again from the
// API server.
func loadedHash(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) (string, error) {
	if s.Status.LoggingSetupHash == SetupHash(s) {
		return s.Status.LoggingSetupHash, nil
	}
	var fresh ugcv1.UGCStack
	if err := d.APIReader.Get(ctx, client.ObjectKeyFromObject(s), &fresh); err != nil {
		return "", fmt.Errorf("read the stack's setup status: %w", err)
	}
	return fresh.Status.LoggingSetupHash, nil
}

// jobResult reports the setup Job's state; a completed Job records its
// configuration in the stack's status.
func jobResult(d common.Deps, s *ugcv1.UGCStack, job *batchv1.Job, hash string) common.Result {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			if s.Status.LoggingSetupHash != hash {
				s.Status.LoggingSetupHash = hash
				d.Event(s, corev1.EventTypeNormal, "LoggingSetupComplete", "Job %s loaded the logging configuration", job.Name)
			}
			return common.Ready(ugcv1.ReasonAvailable, loadedMsg)
		case batchv1.JobFailed:
			return common.Waiting(ugcv1.ReasonLoggingSetupFailed, fmt.Sprintf("Job %s failed (%s): see kubectl logs job/%s; it runs again when its TTL removes it", job.Name, c.Message, job.Name))
		}
	}
	return common.Waiting(ugcv1.ReasonLoggingSetupPending, fmt.Sprintf("Job %s: %d active, %d failed attempt(s)", job.Name, job.Status.Active, job.Status.Failed))
}
