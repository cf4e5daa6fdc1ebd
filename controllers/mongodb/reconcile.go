// Package mongodb is the managed MongoDB component: it generates the
// keyfile and credentials once, runs the members (package members), moves
// the replica set one step at a time towards the desired member count
// (package replset), keeps the application user, and lets the volumes go
// by deletePolicy when the managed database goes (Volumes says what goes
// when the stack does).
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/mongodb/members"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
)

// The replica set's own state is not watched: how soon to look again while
// a change is under way, and while Plan waits for the set to settle.
const (
	afterCommand = 2 * time.Second
	whileWaiting = 15 * time.Second
)

// Component reconciles the managed MongoDB. Connect opens the replica-set
// client; nil leaves the set uninitiated (the members still run).
type Component struct {
	Connect replset.Connect
}

func kinds() []client.ObjectList {
	return []client.ObjectList{&corev1.SecretList{}, &corev1.ServiceList{}, &appsv1.StatefulSetList{}, &policyv1.PodDisruptionBudgetList{}}
}

// Reconcile runs the members, then moves the replica set one step towards
// the desired member count. An external MongoDB removes the managed one.
func (c Component) Reconcile(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) common.Result {
	if ext := s.Spec.MongoDB.External; ext != nil {
		return external(ctx, d, s, ext.URISecretRef.Name)
	}
	cr, err := ensureSecrets(ctx, d, s)
	if errors.Is(err, errCredentialsLost) {
		return common.Failed(ugcv1.ReasonCredentialsLost, err)
	}
	if err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	m, err := applyMembers(ctx, d, s, cr.objects())
	if err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if m.growing != "" {
		return common.Polling(ugcv1.ReasonProgressing, m.growing, afterCommand)
	}
	sts, refused := m.sts, m.refused
	res := common.Waiting(ugcv1.ReasonProgressing, fmt.Sprintf("StatefulSet %s: %d/%d members ready", sts.Name, sts.Status.ReadyReplicas, members.Desired(s)))
	if sts.Status.ReadyReplicas > 0 && c.Connect != nil {
		res = c.replicaSet(ctx, d, s, sts, cr)
	}
	if refused != nil {
		// The members keep running the image they have; the condition
		// says why the new one is not rolled out.
		return common.Waiting(ugcv1.ReasonUpgradeRefused, refused.Error()).And(res)
	}
	return res
}

// applyMembers applies the Service and the StatefulSet, growing at once and
// never shrinking here: that waits until the replica set has let the
// members go (shrink). The current StatefulSet is read from the API server,
// since a cache that has not seen the last growth would shrink it, and a
// larger storage size is taken to the claims first (GrowVolumes). An image
// the set cannot start on (CheckUpgrade) is not rolled out: refused says
// why, and the members keep their image.
func applyMembers(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, secrets []client.Object) (applied, error) {
	var cur appsv1.StatefulSet
	if err := d.APIReader.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: members.Name(s)}, &cur); client.IgnoreNotFound(err) != nil {
		return applied{}, fmt.Errorf("read StatefulSet %s: %w", members.Name(s), err)
	}
	var m applied
	m.sts = members.StatefulSet(s, max(members.Desired(s), ptr.Deref(cur.Spec.Replicas, 0)))
	if target, ok := replset.ImageRelease(s.Spec.MongoDB.Image); ok {
		m.refused = replset.CheckUpgrade(s.Status.MongoDBFeatureCompatibilityVersion, target)
	}
	if m.refused != nil && len(cur.Spec.Template.Spec.Containers) > 0 {
		setImage(m.sts, cur.Spec.Template.Spec.Containers[0].Image)
	}
	var err error
	if m.growing, err = common.GrowVolumes(ctx, d, s, common.ComponentMongoDB, &cur, m.sts); err != nil || m.growing != "" {
		return m, err
	}
	objs := []client.Object{members.Service(s), m.sts, members.PDB(s)}
	// The apply leaves the server's object, status included, in sts.
	if err := common.ApplyAll(ctx, d, s, objs...); err != nil {
		return applied{}, err
	}
	return m, common.Prune(ctx, d, s, common.ComponentMongoDB, kinds(), append(objs, secrets...)...)
}

// applied is what applyMembers did: the StatefulSet as the server has it,
// why the spec's image was refused, and what growing volumes waits for
// (when it is not "", nothing was applied).
type applied struct {
	sts     *appsv1.StatefulSet
	refused error
	growing string
}

func setImage(sts *appsv1.StatefulSet, image string) {
	pod := &sts.Spec.Template.Spec
	for i := range pod.InitContainers {
		pod.InitContainers[i].Image = image
	}
	for i := range pod.Containers {
		pod.Containers[i].Image = image
	}
}

// replicaSet reads the set's state, shrinks the StatefulSet to the members
// the configuration still has, and sends Plan's next step.
func (c Component) replicaSet(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, sts *appsv1.StatefulSet, cr creds) common.Result {
	replicas := ptr.Deref(sts.Spec.Replicas, 0)
	ready, err := readyHosts(ctx, d, s, replicas)
	if err != nil {
		return common.Failed(ugcv1.ReasonProgressing, err)
	}
	rs, closeRS, err := c.Connect(ctx, members.Hosts(s, replicas), string(cr.admin.Data["username"]), string(cr.admin.Data["password"]))
	if err != nil {
		return common.Failed(ugcv1.ReasonReplicaSetPending, fmt.Errorf("connecting to the replica set: %w", err))
	}
	defer closeRS()
	state, err := rs.GetState(ctx)
	if err != nil {
		return common.Failed(ugcv1.ReasonReplicaSetPending, fmt.Errorf("replSetGetStatus: %w", err))
	}
	state.Recorded = s.Status.MongoDBMembers > 0
	if state.FCV != "" {
		s.Status.MongoDBFeatureCompatibilityVersion = state.FCV
	}
	if state.Initialized {
		s.Status.MongoDBMembers = int32(len(state.Config.Members))
		if err := shrink(ctx, d, s, state.Config, sts); err != nil {
			return common.Failed(ugcv1.ReasonApplyFailed, err)
		}
	}
	action := replset.Plan(members.ReplicaSetName(s), state, members.Hosts(s, members.Desired(s)), ready)
	retiring := false
	if action.Kind == replset.Noop {
		if retiring, err = ensureAppUser(ctx, d, s, rs, state.Primary(), cr.app); err != nil {
			return common.Failed(ugcv1.ReasonReplicaSetPending, err)
		}
		if fcv := replset.PlanFCV(state); fcv.Kind == replset.SetFCV && sts.Status.ReadyReplicas >= members.Desired(s) {
			action = fcv
		}
	}
	res := send(ctx, d, s, rs, action, sts)
	if retiring && (res.RequeueAfter == 0 || res.RequeueAfter > retireRecheck) {
		// The last old pod's disappearance is no event the operator
		// watches.
		res.RequeueAfter = retireRecheck
	}
	return res
}

// retireRecheck is how often a retired user's pods are looked for again.
const retireRecheck = 10 * time.Second

// shrink scales applied, the StatefulSet as applyMembers left it, down to
// the desired members once the configuration no longer has the members
// whose pods would go, and deletes the claims of members out of the
// configuration. It keeps the image applyMembers chose, which is not the
// spec's while an upgrade is refused.
func shrink(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, cfg replset.Config, applied *appsv1.StatefulSet) error {
	replicas := ptr.Deref(applied.Spec.Replicas, 0)
	need := max(members.Desired(s), ConfiguredOrdinals(s, cfg, replicas))
	if need < replicas {
		want := members.StatefulSet(s, need)
		setImage(want, applied.Spec.Template.Spec.Containers[0].Image)
		if err := common.Apply(ctx, d, s, want); err != nil {
			return err
		}
		d.Event(s, corev1.EventTypeNormal, "MongoDBShrunk", "StatefulSet %s scaled to %d: the members above are out of the replica set", members.Name(s), need)
	}
	return deleteRemovedClaims(ctx, d, s, cfg, need)
}

// deleteRemovedClaims deletes the claim of every ordinal from need up whose
// member is not in cfg: the operator removed it from the replica set, and a
// later scale-up must start it empty (an initial sync), not on data past
// the oplog window. A claim whose member is still configured (a StatefulSet
// scaled down by hand) is kept, for its pod to come back to. Each claim's
// protection keeps it until its pod is gone.
func deleteRemovedClaims(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, cfg replset.Config, need int32) error {
	claims, err := common.Claims(ctx, d, s, common.ComponentMongoDB)
	if err != nil {
		return err
	}
	for i := range claims {
		c := &claims[i]
		ordinal, ok := members.ClaimOrdinal(s, c.Name)
		if !ok || ordinal < need || cfg.Has(members.Host(s, ordinal)) {
			continue
		}
		if err := d.Client.Delete(ctx, c); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete claim %s of a removed member: %w", c.Name, err)
		}
		d.Event(s, corev1.EventTypeNormal, "MongoDBClaimDeleted", "deleted claim %s: member %d is out of the replica set", c.Name, ordinal)
	}
	return nil
}

// ConfiguredOrdinals is the StatefulSet size that keeps a pod for every
// member of cfg: one more than the highest ordinal among the first n.
func ConfiguredOrdinals(s *ugcv1.UGCStack, cfg replset.Config, n int32) int32 {
	var need int32
	for i, h := range members.Hosts(s, n) {
		if cfg.Has(h) {
			need = int32(i) + 1
		}
	}
	return need
}

// readyHosts reports which members' pods pass their readiness probe.
func readyHosts(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, replicas int32) (map[string]bool, error) {
	var pods corev1.PodList
	if err := d.Client.List(ctx, &pods, client.InNamespace(s.Namespace), client.MatchingLabels(common.Selector(s, common.ComponentMongoDB))); err != nil {
		return nil, fmt.Errorf("list MongoDB pods: %w", err)
	}
	byName := map[string]corev1.Pod{}
	for _, p := range pods.Items {
		byName[p.Name] = p
	}
	ready := map[string]bool{}
	for i, h := range members.Hosts(s, replicas) {
		for _, c := range byName[fmt.Sprintf("%s-%d", members.Name(s), i)].Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready[h] = true
			}
		}
	}
	return ready, nil
}

// send carries out a, or reports why nothing is sent.
func send(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, rs replset.Client, a replset.Action, sts *appsv1.StatefulSet) common.Result {
	var err error
	switch a.Kind {
	case replset.Wait:
		return common.Polling(ugcv1.ReasonReplicaSetPending, a.Reason, whileWaiting)
	case replset.Noop:
		if members := members.Desired(s); sts.Status.ReadyReplicas < members {
			return common.Waiting(ugcv1.ReasonProgressing, fmt.Sprintf("%d/%d members ready", sts.Status.ReadyReplicas, members))
		}
		return common.Ready(ugcv1.ReasonAvailable, fmt.Sprintf("replica set %s: %d members configured and ready", members.ReplicaSetName(s), members.Desired(s)))
	case replset.Initiate:
		err = rs.Initiate(ctx, a.Target, a.Config)
	case replset.Reconfig:
		err = rs.Reconfig(ctx, a.Target, a.Config)
	case replset.StepDown:
		err = rs.StepDown(ctx, a.Target)
	case replset.SetFCV:
		err = rs.SetFCV(ctx, a.Target, a.FCV)
	}
	if err != nil {
		return common.Failed(ugcv1.ReasonReplicaSetPending, fmt.Errorf("%s on %s: %w", a.Reason, a.Target, err))
	}
	d.Event(s, corev1.EventTypeNormal, "ReplicaSet"+string(a.Kind), "%s (sent to %s)", a.Reason, a.Target)
	switch a.Kind {
	case replset.Initiate, replset.Reconfig:
		s.Status.MongoDBMembers = int32(len(a.Config.Members))
	case replset.SetFCV:
		s.Status.MongoDBFeatureCompatibilityVersion = a.FCV
	}
	return common.Polling(ugcv1.ReasonReplicaSetPending, a.Reason, afterCommand)
}

// external removes the managed MongoDB a stack no longer uses: its
// StatefulSet and Service go, and its volumes, with the Secrets their data
// needs, follow deletePolicy as they would when the stack is deleted.
func external(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, secret string) common.Result {
	if err := common.Prune(ctx, d, s, common.ComponentMongoDB, kinds()); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if s.Spec.MongoDB.DeletePolicy == ugcv1.DeletePolicyDelete {
		deleted, err := common.DeleteVolumes(ctx, d, s, common.ComponentMongoDB)
		if err != nil {
			return common.Failed(ugcv1.ReasonApplyFailed, err)
		}
		if deleted {
			d.Event(s, corev1.EventTypeNormal, "VolumesDeleted", "deleted the managed MongoDB's volumes and Secrets (deletePolicy: Delete)")
		}
	}
	s.Status.MongoDBMembers = 0
	return common.Ready(ugcv1.ReasonExternal, "using the external MongoDB from Secret "+secret)
}
