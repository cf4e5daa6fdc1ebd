package mongodb

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

// VolumesFinalizer holds a stack whose MongoDB volumes must go with it until
// the operator has deleted them: the StatefulSet's own retention policy
// leaves behind the claims of members removed by an earlier scale-down, and
// needs a cluster where that policy is enforced.
const VolumesFinalizer = "ugc.ugcstack.io/mongodb-volumes"

func deletesVolumes(s *ugcv1.UGCStack) bool {
	return s.Spec.MongoDB.External == nil && s.Spec.MongoDB.DeletePolicy == "Delete"
}

// SyncFinalizer adds the finalizer when the spec asks for volumes to be
// deleted and removes it when it no longer does.
func SyncFinalizer(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) error {
	orig := s.DeepCopy()
	var changed bool
	if deletesVolumes(s) {
		changed = controllerutil.AddFinalizer(s, VolumesFinalizer)
	} else {
		changed = controllerutil.RemoveFinalizer(s, VolumesFinalizer)
	}
	if !changed {
		return nil
	}
	if err := d.Client.Patch(ctx, s, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("update the finalizer: %w", err)
	}
	return nil
}

// Finalize deletes the MongoDB volumes of a stack being deleted with
// deletePolicy Delete, then lets the deletion proceed. The claims' own
// protection finalizer keeps each until its pod is gone.
func Finalize(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) error {
	if !controllerutil.ContainsFinalizer(s, VolumesFinalizer) {
		return nil
	}
	if deletesVolumes(s) {
		if err := deleteVolumes(ctx, d, s); err != nil {
			return err
		}
		d.Event(s, corev1.EventTypeNormal, "VolumesDeleted", "deleted the MongoDB volumes (deletePolicy: Delete)")
	}
	orig := s.DeepCopy()
	controllerutil.RemoveFinalizer(s, VolumesFinalizer)
	if err := d.Client.Patch(ctx, s, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("remove the finalizer: %w", err)
	}
	return nil
}

func deleteVolumes(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) error {
	if err := d.Client.DeleteAllOf(ctx, &corev1.PersistentVolumeClaim{}, client.InNamespace(s.Namespace), client.MatchingLabels(common.Selector(s, common.ComponentMongoDB))); err != nil {
		return fmt.Errorf("delete MongoDB volumes: %w", err)
	}
	return nil
}
