package controllers

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// ownerLabels select the children of one component of one stack, the labels
// every builder sets through objectMeta.
func ownerLabels(s *ugcv1.UGCStack, component string) client.MatchingLabels {
	l := selector(s, component)
	l["app.kubernetes.io/managed-by"] = "ugcstack-operator"
	return l
}

// childLists are the built-in kinds a component can own.
func childLists() []client.ObjectList {
	return []client.ObjectList{
		&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &corev1.ServiceList{}, &corev1.ConfigMapList{},
		&corev1.SecretList{}, &autoscalingv2.HorizontalPodAutoscalerList{}, &policyv1.PodDisruptionBudgetList{},
		&batchv1.JobList{},
	}
}

// prune deletes what the stack controls in component but keep does not name:
// the children of a disabled component, of a shard or Keeper no longer asked
// for, or a setup Job for an older configuration. Children are found by
// label, so a child whose name the current spec no longer produces is found
// too; the controller reference guards against deleting what someone else
// labelled alike.
func (r *UGCStackReconciler) prune(ctx context.Context, s *ugcv1.UGCStack, component string, keep ...client.Object) error {
	kept := map[string]bool{}
	for _, o := range keep {
		k, err := r.childKey(o)
		if err != nil {
			return err
		}
		kept[k] = true
	}
	lists := childLists()
	if component == componentLogging {
		if missing, err := r.eckMissing(); err != nil {
			return err
		} else if missing == nil {
			for _, k := range eckKinds {
				l := &unstructured.UnstructuredList{}
				l.SetGroupVersionKind(k.GroupVersionKind().GroupVersion().WithKind(k.kind + "List"))
				lists = append(lists, l)
			}
		}
	}
	var errs []error
	for _, l := range lists {
		if err := r.List(ctx, l, client.InNamespace(s.Namespace), ownerLabels(s, component)); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, meta.EachListItem(l, func(o runtime.Object) error {
			obj, ok := o.(client.Object)
			if !ok || !metav1.IsControlledBy(obj, s) || !obj.GetDeletionTimestamp().IsZero() {
				return nil
			}
			k, err := r.childKey(obj)
			if err != nil || kept[k] {
				return err
			}
			// Background: the object goes now and the garbage collector
			// takes its pods, instead of the object lingering until they do.
			err = r.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground))
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete %s: %w", k, err)
			}
			r.event(s, corev1.EventTypeNormal, "Pruned", "deleted %s: no longer part of the spec", k)
			return nil
		}))
	}
	return errors.Join(errs...)
}

func (r *UGCStackReconciler) childKey(o client.Object) (string, error) {
	gvk, err := apiutil.GVKForObject(o, r.Scheme)
	if err != nil {
		return "", err
	}
	return gvk.GroupKind().String() + "/" + o.GetName(), nil
}
