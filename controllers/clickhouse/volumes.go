package clickhouse

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

// Volumes says whether the servers' and Keeper's claims go with the stack.
func Volumes(s *ugcv1.UGCStack) []common.Volumes {
	del := s.Spec.ClickHouse.DeletePolicy == ugcv1.DeletePolicyDelete
	return []common.Volumes{{Component: common.ComponentClickHouse, Delete: del}, {Component: common.ComponentKeeper, Delete: del}}
}

// deleteUnused deletes, under deletePolicy Delete, the claims of what no
// longer runs: the servers' when ClickHouse is off or external, Keeper's
// when there is one server or none. Each such reconcile costs one
// label-selected read of claims, which finds none once they are gone.
func deleteUnused(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) error {
	if s.Spec.ClickHouse.DeletePolicy != ugcv1.DeletePolicyDelete {
		return nil
	}
	for _, c := range []struct {
		component string
		runs      bool
	}{{common.ComponentClickHouse, common.ManagedClickHouse(s)}, {common.ComponentKeeper, keeperEnabled(s)}} {
		if c.runs {
			continue
		}
		deleted, err := common.DeleteVolumes(ctx, d, s, c.component)
		if err != nil {
			return err
		}
		if deleted {
			d.Event(s, corev1.EventTypeNormal, "VolumesDeleted", "deleted the %s volumes: no longer run (deletePolicy: Delete)", c.component)
		}
	}
	return nil
}

// growVolumes takes each server StatefulSet among objs whose storage grew
// to the larger claims (common.GrowVolumes). It asks the API server for
// the current one only when the cache shows it may grow: the cache may
// not have seen it deleted for re-creation.
func growVolumes(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, objs []client.Object) (string, error) {
	for _, o := range objs {
		want, ok := o.(*appsv1.StatefulSet)
		if !ok {
			continue
		}
		var cur appsv1.StatefulSet
		if err := d.Client.Get(ctx, client.ObjectKeyFromObject(want), &cur); client.IgnoreNotFound(err) != nil {
			return "", fmt.Errorf("read StatefulSet %s: %w", want.Name, err)
		}
		if !common.MayGrow(&cur, want) {
			continue
		}
		cur = appsv1.StatefulSet{}
		if err := d.APIReader.Get(ctx, client.ObjectKeyFromObject(want), &cur); client.IgnoreNotFound(err) != nil {
			return "", fmt.Errorf("read StatefulSet %s: %w", want.Name, err)
		}
		if growing, err := common.GrowVolumes(ctx, d, s, common.ComponentClickHouse, &cur, want); err != nil || growing != "" {
			return growing, err
		}
	}
	return "", nil
}
