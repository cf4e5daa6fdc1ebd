package common

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// Prune deletes what the stack controls in component, among the given
// kinds, that keep does not name: the children of a disabled component, of a
// shard or Keeper no longer asked for, or a setup Job for an older
// configuration. Children are found by label, so a child whose name the
// current spec no longer produces is found too; the controller reference
// guards against deleting what someone else labelled alike. Reading the
// cache is safe here: a child it does not show yet is one this reconcile
// wanted, and one it still shows after deletion is deleted again harmlessly.
func Prune(ctx context.Context, d Deps, s *ugcv1.UGCStack, component string, kinds []client.ObjectList, keep ...client.Object) error {
	kept := map[string]bool{}
	for _, o := range keep {
		k, err := childKey(d.Scheme, o)
		if err != nil {
			return err
		}
		kept[k] = true
	}
	var errs []error
	for _, l := range kinds {
		if err := d.Client.List(ctx, l, client.InNamespace(s.Namespace), client.MatchingLabels(Labels(s, component))); err != nil {
			errs = append(errs, fmt.Errorf("list %T: %w", l, err))
			continue
		}
		errs = append(errs, meta.EachListItem(l, func(o runtime.Object) error {
			obj, ok := o.(client.Object)
			if !ok || !metav1.IsControlledBy(obj, s) || !obj.GetDeletionTimestamp().IsZero() {
				return nil
			}
			k, err := childKey(d.Scheme, obj)
			if err != nil || kept[k] {
				return err
			}
			// Background: the object goes now and the garbage collector
			// takes its pods, instead of the object lingering until they do.
			err = d.Client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground))
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete %s: %w", k, err)
			}
			d.Event(s, corev1.EventTypeNormal, "Pruned", "deleted %s: no longer part of the spec", k)
			return nil
		}))
	}
	return errors.Join(errs...)
}

func childKey(scheme *runtime.Scheme, o client.Object) (string, error) {
	gvk, err := apiutil.GVKForObject(o, scheme)
	if err != nil {
		return "", err
	}
	return gvk.GroupKind().String() + "/" + o.GetName(), nil
}
