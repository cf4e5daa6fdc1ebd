package common

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// Result is one component's outcome: its condition (the reconciler sets the
// type), when to look again, and the error that stopped it. A non-nil Err
// reaches controller-runtime, which retries with exponential backoff and
// counts it in controller_runtime_reconcile_errors_total.
type Result struct {
	Condition    metav1.Condition
	RequeueAfter time.Duration
	Err          error
}

// Ready is a component that needs nothing more.
func Ready(reason, msg string) Result {
	return Result{Condition: cond(metav1.ConditionTrue, reason, msg)}
}

// Waiting is a component whose progress a watched child reports: its next
// change triggers the next reconcile.
func Waiting(reason, msg string) Result {
	return Result{Condition: cond(metav1.ConditionFalse, reason, msg)}
}

// Polling is a component waiting on state no watch reports (the replica
// set's own view, CRDs still to be installed): look again after d.
func Polling(reason, msg string, d time.Duration) Result {
	return Result{Condition: cond(metav1.ConditionFalse, reason, msg), RequeueAfter: d}
}

// Failed is a component stopped by err; the condition carries its message.
func Failed(reason string, err error) Result {
	return Result{Condition: cond(metav1.ConditionFalse, reason, err.Error()), Err: err}
}

// IsReady reports whether the condition is True.
func (r Result) IsReady() bool { return r.Condition.Status == metav1.ConditionTrue }

// And combines the results of two parts that report one condition: the
// first part not ready speaks for both, errors add up, the sooner requeue
// wins; when both are ready, r's reason stands and the messages join.
func (r Result) And(o Result) Result {
	out := r
	switch {
	case !r.IsReady():
	case !o.IsReady():
		out.Condition = o.Condition
	default:
		out.Condition.Message = r.Condition.Message + "; " + o.Condition.Message
	}
	out.Err = errors.Join(r.Err, o.Err)
	if o.RequeueAfter > 0 && (out.RequeueAfter == 0 || o.RequeueAfter < out.RequeueAfter) {
		out.RequeueAfter = o.RequeueAfter
	}
	return out
}

func cond(status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Status: status, Reason: reason, Message: msg}
}

// DeploymentResult reads the Deployment key and reports its rollout: ready
// once every desired replica is updated and available at the current
// generation.
func DeploymentResult(ctx context.Context, c client.Reader, key client.ObjectKey, what string) Result {
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, key, d); err != nil {
		return Failed(ugcv1.ReasonProgressing, err)
	}
	want := ptr.Deref(d.Spec.Replicas, 1)
	if d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas < want || d.Status.AvailableReplicas < want {
		return Waiting(ugcv1.ReasonProgressing, fmt.Sprintf("%s: %d/%d replicas available and updated", what, min(d.Status.AvailableReplicas, d.Status.UpdatedReplicas), want))
	}
	return Ready(ugcv1.ReasonAvailable, fmt.Sprintf("%s: %d/%d replicas available", what, d.Status.AvailableReplicas, want))
}
