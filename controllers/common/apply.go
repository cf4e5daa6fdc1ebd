package common

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// FieldOwner is the one server-side-apply field manager of the operator.
const FieldOwner = client.FieldOwner("ugcstack-operator")

// Apply makes obj controlled by the stack and server-side-applies it: the
// API server changes only what differs, and drift in fields we own is
// repaired.
func Apply(ctx context.Context, d Deps, s *ugcv1.UGCStack, obj client.Object) error {
	if err := controllerutil.SetControllerReference(s, obj, d.Scheme); err != nil {
		return err
	}
	return ApplyRetained(ctx, d, obj)
}

// ApplyRetained server-side-applies obj without making it the stack's
// child: a Retained Secret.
func ApplyRetained(ctx context.Context, d Deps, obj client.Object) error {
	obj.SetManagedFields(nil)
	obj.SetResourceVersion("")
	//nolint:staticcheck // typed objects with TypeMeta set; one helper for typed and unstructured.
	if err := d.Client.Patch(ctx, obj, client.Apply, FieldOwner, client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
	}
	return nil
}

// ApplyAndPrune applies objs, then deletes the component's other children of
// the given kinds: what a disabled part or a smaller spec leaves behind. An
// empty objs prunes the whole component.
func ApplyAndPrune(ctx context.Context, d Deps, s *ugcv1.UGCStack, component string, kinds []client.ObjectList, objs ...client.Object) error {
	if err := ApplyAll(ctx, d, s, objs...); err != nil {
		return err
	}
	return Prune(ctx, d, s, component, kinds, objs...)
}

// ApplyAll applies objs in order, stopping at the first failure.
func ApplyAll(ctx context.Context, d Deps, s *ugcv1.UGCStack, objs ...client.Object) error {
	for _, o := range objs {
		if err := Apply(ctx, d, s, o); err != nil {
			return err
		}
	}
	return nil
}
