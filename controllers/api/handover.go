package api

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

// handoverOwner holds spec.replicas between the operator letting it go and
// the HorizontalPodAutoscaler writing it.
const handoverOwner = client.FieldOwner("ugcstack-operator-handover")

// handOverReplicas prepares the apply that stops setting spec.replicas once
// autoscaling is on. Under server-side apply a field its only manager
// drops is reset to its default, here 1 replica; applied first with the
// current count under a second manager, it keeps its value, and the HPA's
// writes take it from there (kubernetes.io, Server-Side Apply,
// "Transferring ownership"). It does nothing once the operator no longer
// owns the field.
func handOverReplicas(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) error {
	if s.Spec.API.Autoscaling == nil {
		return nil
	}
	var cur appsv1.Deployment
	if err := d.APIReader.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: common.APIName(s)}, &cur); err != nil {
		return client.IgnoreNotFound(err)
	}
	if cur.Spec.Replicas == nil || !appliesReplicas(cur.ManagedFields, string(common.FieldOwner)) {
		return nil
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"replicas": int64(*cur.Spec.Replicas)}}}
	u.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	u.SetNamespace(cur.Namespace)
	u.SetName(cur.Name)
	//nolint:staticcheck // one partial object; the typed Deployment would carry a whole template.
	if err := d.Client.Patch(ctx, u, client.Apply, handoverOwner); err != nil {
		return fmt.Errorf("hand spec.replicas of Deployment %s over to the autoscaler: %w", cur.Name, err)
	}
	return nil
}

// appliesReplicas reports whether manager's apply owns spec.replicas.
func appliesReplicas(fields []metav1.ManagedFieldsEntry, manager string) bool {
	for _, f := range fields {
		if f.Manager != manager || f.Operation != metav1.ManagedFieldsOperationApply || f.FieldsV1 == nil {
			continue
		}
		var set struct {
			Spec map[string]json.RawMessage `json:"f:spec"`
		}
		if json.Unmarshal(f.FieldsV1.GetRawBytes(), &set) == nil {
			if _, ok := set.Spec["f:replicas"]; ok {
				return true
			}
		}
	}
	return false
}
