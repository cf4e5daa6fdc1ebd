package logging

import (
	"context"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

const loadedMsg = "Elasticsearch, Kibana, Logstash and Filebeat are healthy; index template, ILM policy and saved objects loaded"

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
	res, esUID := health(ctx, d, s, eck)
	if res.IsReady() {
		var job client.Object
		res, job = setup(ctx, d, s, esUID)
		if job != nil {
			keep = append(keep, job)
		}
	}
	if err := common.Prune(ctx, d, s, common.ComponentLogging, kinds(true), keep...); err != nil {
		return res.And(common.Failed(ugcv1.ReasonApplyFailed, err))
	}
	return res
}

// eckStatus is what ECK writes in the status of the kinds the stack
// renders, by the JSON names of its API types (cloud-on-k8s v3.5.0
// pkg/apis: ElasticsearchStatus, KibanaStatus, LogstashStatus,
// BeatStatus). A field a kind lacks stays zero.
type eckStatus struct {
	Health             string `json:"health"`
	AvailableNodes     int32  `json:"availableNodes"`
	ExpectedNodes      int32  `json:"expectedNodes"` // Logstash, Beat
	ObservedGeneration int64  `json:"observedGeneration"`
	// Kibana's association with its elasticsearchRef.
	ElasticsearchAssociationStatus string `json:"elasticsearchAssociationStatus"`
	// Logstash's, one per elasticsearchRefs entry.
	ElasticsearchAssociationsStatus map[string]string `json:"elasticsearchAssociationsStatus"`
}

// associationEstablished is ECK's AssociationEstablished.
const associationEstablished = "Established"

// health reads what ECK reports of every object it runs for the stack and
// names each one that is not serving, with why. Elasticsearch may be
// yellow when it has one node, which can hold no replica of any index;
// everything else must be green, at the generation applied, with every
// node available and its association to Elasticsearch established. The
// ECK objects are watched, so no periodic requeue is needed. It also
// returns the Elasticsearch's UID, which the setup is tied to.
func health(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, eck []*unstructured.Unstructured) (common.Result, types.UID) {
	var problems []string
	var esUID types.UID
	for _, want := range eck {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(want.GroupVersionKind())
		if err := d.Client.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
			return common.Failed(ugcv1.ReasonProgressing, err), ""
		}
		if got.GetKind() == Elasticsearch.Kind {
			esUID = got.GetUID()
		}
		if p := unhealthy(s, got); p != "" {
			problems = append(problems, fmt.Sprintf("%s %s %s", got.GetKind(), got.GetName(), p))
		}
	}
	if len(problems) > 0 {
		return common.Waiting(ugcv1.ReasonProgressing, strings.Join(problems, "; ")), esUID
	}
	return common.Ready(ugcv1.ReasonAvailable, "Elasticsearch, Kibana, Logstash and Filebeat are healthy"), esUID
}

// unhealthy says what keeps one ECK object from serving, "" when nothing.
func unhealthy(s *ugcv1.UGCStack, o *unstructured.Unstructured) string {
	raw, _, _ := unstructured.NestedMap(o.Object, "status")
	var st eckStatus
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &st); err != nil {
		return fmt.Sprintf("has a status ECK would not write: %v", err)
	}
	if st.ObservedGeneration < o.GetGeneration() {
		return fmt.Sprintf("generation %d is not yet observed by ECK (status is of %d)", o.GetGeneration(), st.ObservedGeneration)
	}
	if p := nodesProblem(s, o.GetKind(), st); p != "" {
		return p
	}
	return associationProblem(o.GetKind(), st)
}

// nodesProblem checks the health and the nodes available. Elasticsearch
// and Kibana report no expected count: it is the spec's.
func nodesProblem(s *ugcv1.UGCStack, kind string, st eckStatus) string {
	l := s.Spec.Logging
	expected := st.ExpectedNodes
	switch kind {
	case Elasticsearch.Kind:
		expected = l.ElasticsearchNodes
	case Kibana.Kind:
		expected = 1
	}
	healthy := st.Health == "green" || (st.Health == "yellow" && kind == Elasticsearch.Kind && l.ElasticsearchNodes == 1)
	switch {
	case !healthy:
		return fmt.Sprintf("health is %q with %d/%d nodes available, waiting for green", st.Health, st.AvailableNodes, expected)
	case st.AvailableNodes < expected:
		return fmt.Sprintf("has %d/%d nodes available", st.AvailableNodes, expected)
	}
	return ""
}

// associationProblem checks Kibana's and Logstash's associations to
// Elasticsearch.
func associationProblem(kind string, st eckStatus) string {
	switch kind {
	case Kibana.Kind:
		if st.ElasticsearchAssociationStatus != associationEstablished {
			return fmt.Sprintf("association to Elasticsearch is %q, not %s", st.ElasticsearchAssociationStatus, associationEstablished)
		}
	case Logstash.Kind:
		if len(st.ElasticsearchAssociationsStatus) == 0 {
			return "has no association to Elasticsearch yet"
		}
		for ref, a := range st.ElasticsearchAssociationsStatus {
			if a != associationEstablished {
				return fmt.Sprintf("association to Elasticsearch %s is %q, not %s", ref, a, associationEstablished)
			}
		}
	}
	return ""
}

// setup runs the Job that loads the ILM policy, index template and Kibana
// saved objects into the Elasticsearch whose UID is esUID, once per
// configuration and Elasticsearch: status.loggingSetupHash remembers what
// was loaded where, so a Job removed by its TTL is not run again, and an
// Elasticsearch created anew is set up again. It returns the Job to keep,
// if one exists.
func setup(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, esUID types.UID) (common.Result, client.Object) {
	want := SetupJob(s, esUID)
	hash := SetupHash(s, esUID)
	var job batchv1.Job
	err := d.Client.Get(ctx, client.ObjectKeyFromObject(want), &job)
	switch {
	case err == nil:
		return jobResult(d, s, &job, hash), want
	case !apierrors.IsNotFound(err):
		return common.Failed(ugcv1.ReasonProgressing, err), nil
	}
	loaded, err := loadedHash(ctx, d, s, hash)
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
func loadedHash(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, hash string) (string, error) {
	if s.Status.LoggingSetupHash == hash {
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
