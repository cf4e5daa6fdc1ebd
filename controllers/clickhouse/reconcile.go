package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

// Objects are the managed ClickHouse's servers, ConfigMap and Service; none
// when ClickHouse is off or external. The auth Secret is not among them:
// EnsureSecret makes it once.
func Objects(s *ugcv1.UGCStack) []client.Object {
	if !common.ManagedClickHouse(s) {
		return nil
	}
	cm := ConfigMap(s)
	objs := []client.Object{cm, Service(s)}
	for _, st := range StatefulSets(s, common.HashData(cm.Data)) {
		objs = append(objs, st)
	}
	// A shard of several replicas keeps all but one through drains, so
	// two drains cannot take every copy of its events away at once.
	if s.Spec.ClickHouse.Replicas > 1 {
		for sh := range s.Spec.ClickHouse.Shards {
			objs = append(objs, common.PDB(s, common.ClickHouseShardName(s, sh), common.ComponentClickHouse, shardSelector(s, sh), 1))
		}
	}
	return objs
}

func kinds() []client.ObjectList {
	return []client.ObjectList{&corev1.SecretList{}, &corev1.ConfigMapList{}, &corev1.ServiceList{}, &appsv1.StatefulSetList{}, &policyv1.PodDisruptionBudgetList{}}
}

// Reconcile applies the managed ClickHouse and its Keeper, or prunes them
// (and deletes their volumes by deletePolicy), and reports whether every server and Keeper node is ready.
func Reconcile(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) common.Result {
	keeper := KeeperObjects(s)
	if err := common.ApplyAndPrune(ctx, d, s, common.ComponentKeeper, kinds(), keeper...); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	objs := Objects(s)
	keep := slices.Clone(objs)
	if len(objs) > 0 {
		auth, err := common.EnsureSecret(ctx, d, s, AuthSecret(s), common.Owned, generateAuth)
		if err != nil {
			return common.Failed(ugcv1.ReasonApplyFailed, err)
		}
		keep = append(keep, auth)
		// The servers read the password at start: a rotated one rolls them.
		if err := common.RollOnSecrets(ctx, d, objs...); err != nil {
			return common.Failed(ugcv1.ReasonApplyFailed, err)
		}
	}
	if growing, err := growVolumes(ctx, d, s, objs); err != nil || growing != "" {
		if err != nil {
			return common.Failed(ugcv1.ReasonApplyFailed, err)
		}
		return common.Polling(ugcv1.ReasonProgressing, growing, 2*time.Second)
	}
	if err := common.ApplyAll(ctx, d, s, objs...); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if err := common.Prune(ctx, d, s, common.ComponentClickHouse, kinds(), keep...); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if err := deleteUnused(ctx, d, s); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	switch {
	case s.Spec.ClickHouse.External != nil:
		return common.Ready(ugcv1.ReasonExternal, "using the external ClickHouse")
	case len(objs) == 0:
		return common.Ready(ugcv1.ReasonDisabled, "ClickHouse disabled")
	}
	return serversReady(ctx, d, s, append(objs, keeper...))
}

// serversReady waits for every StatefulSet among objs to have all its
// replicas ready; their status changes are watched.
func serversReady(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, objs []client.Object) common.Result {
	for _, o := range objs {
		want, ok := o.(*appsv1.StatefulSet)
		if !ok {
			continue
		}
		var st appsv1.StatefulSet
		if err := d.Client.Get(ctx, client.ObjectKeyFromObject(want), &st); err != nil {
			return common.Failed(ugcv1.ReasonProgressing, err)
		}
		if n := ptr.Deref(want.Spec.Replicas, 1); st.Status.ReadyReplicas < n {
			return common.Waiting(ugcv1.ReasonProgressing, fmt.Sprintf("StatefulSet %s: %d/%d replicas ready", st.Name, st.Status.ReadyReplicas, n))
		}
	}
	c := s.Spec.ClickHouse
	msg := fmt.Sprintf("%d shard(s) × %d replica(s) ready", c.Shards, c.Replicas)
	if keeperEnabled(s) {
		msg += fmt.Sprintf(", Keeper %d/%d", KeeperNodes, KeeperNodes)
	}
	return common.Ready(ugcv1.ReasonAvailable, msg)
}
