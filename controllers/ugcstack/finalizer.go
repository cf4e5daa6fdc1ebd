package ugcstack

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/clickhouse"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/mongodb"
)

// VolumesFinalizer holds a stack whose volumes must go with it until the
// operator has deleted them: a StatefulSet's own retention policy leaves
// behind the claims of members removed by an earlier scale-down, needs a
// cluster where that policy is enforced, and does not know the Secrets the
// data needs (common.Retained).
const VolumesFinalizer = "ugc.ugcstack.io/volumes"

// legacyFinalizer is what operators set before ClickHouse's volumes had a
// policy; it is finalized the same way, and replaced.
const legacyFinalizer = "ugc.ugcstack.io/mongodb-volumes"

// volumes lists every component's data.
func volumes(s *ugcv1.UGCStack) []common.Volumes {
	return append([]common.Volumes{mongodb.Volumes(s)}, clickhouse.Volumes(s)...)
}

func deletesVolumes(s *ugcv1.UGCStack) bool {
	for _, v := range volumes(s) {
		if v.Delete {
			return true
		}
	}
	return false
}

// syncFinalizer adds the finalizer when the spec asks for any volumes to be
// deleted, and removes it when it no longer does.
func syncFinalizer(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) error {
	orig := s.DeepCopy()
	changed := controllerutil.RemoveFinalizer(s, legacyFinalizer)
	if deletesVolumes(s) {
		changed = controllerutil.AddFinalizer(s, VolumesFinalizer) || changed
	} else {
		changed = controllerutil.RemoveFinalizer(s, VolumesFinalizer) || changed
	}
	if !changed {
		return nil
	}
	if err := d.Client.Patch(ctx, s, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("update the finalizer: %w", err)
	}
	return nil
}

// finalize deletes the volumes of a stack being deleted that deletePolicy
// Delete lets go, then lets the deletion proceed. Owner references
// garbage-collect every other child.
func finalize(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) error {
	if !controllerutil.ContainsFinalizer(s, VolumesFinalizer) && !controllerutil.ContainsFinalizer(s, legacyFinalizer) {
		return nil
	}
	for _, v := range volumes(s) {
		if !v.Delete {
			continue
		}
		deleted, err := common.DeleteVolumes(ctx, d, s, v.Component)
		if err != nil {
			return err
		}
		if deleted {
			d.Event(s, corev1.EventTypeNormal, "VolumesDeleted", "deleted the %s volumes (deletePolicy: Delete)", v.Component)
		}
	}
	orig := s.DeepCopy()
	controllerutil.RemoveFinalizer(s, VolumesFinalizer)
	controllerutil.RemoveFinalizer(s, legacyFinalizer)
	if err := d.Client.Patch(ctx, s, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("remove the finalizer: %w", err)
	}
	return nil
}
