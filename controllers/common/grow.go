package common

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// GrowVolumes takes a StatefulSet whose claim templates want more storage
// than cur (the StatefulSet as the API server has it) to the larger size,
// as ECK does for Elasticsearch: a StatefulSet's volumeClaimTemplates are
// immutable, so each existing claim of the component is expanded, then cur
// is deleted with its pods orphaned, and the next apply creates it again
// with the new template and adopts them. It returns "" when want may be
// applied, or what it waits for. The API server refuses to expand a claim
// whose StorageClass does not allow it, and that refusal is returned.
// A StatefulSet changing its replicas too waits until they settle: the
// one created again must adopt every pod the old one ran.
func GrowVolumes(ctx context.Context, d Deps, s *ugcv1.UGCStack, component string, cur, want *appsv1.StatefulSet) (string, error) {
	if cur.UID == "" {
		return "", nil
	}
	if cur.DeletionTimestamp != nil {
		return fmt.Sprintf("StatefulSet %s is being created again with larger volumes", cur.Name), nil
	}
	grow := grownTemplates(cur, want)
	if len(grow) == 0 {
		return "", nil
	}
	if ptr.Deref(cur.Spec.Replicas, 0) != ptr.Deref(want.Spec.Replicas, 0) {
		return fmt.Sprintf("StatefulSet %s: the volumes grow once its replicas settle", cur.Name), nil
	}
	claims, err := Claims(ctx, d, s, component)
	if err != nil {
		return "", err
	}
	for i := range claims {
		c := &claims[i]
		size, ok := grow[claimTemplate(c.Name, cur.Name)]
		if !ok || c.Spec.Resources.Requests.Storage().Cmp(size) >= 0 {
			continue
		}
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Resources.Requests[corev1.ResourceStorage] = size
		if err := d.Client.Patch(ctx, c, patch); err != nil {
			return "", fmt.Errorf("expand claim %s to %s: %w", c.Name, size.String(), err)
		}
		d.Event(s, corev1.EventTypeNormal, "VolumeExpanding", "claim %s asked for %s", c.Name, size.String())
	}
	if err := d.Client.Delete(ctx, cur, client.PropagationPolicy(metav1.DeletePropagationOrphan), client.Preconditions{UID: &cur.UID}); client.IgnoreNotFound(err) != nil {
		return "", fmt.Errorf("delete StatefulSet %s, orphaning its pods, for its new claim template: %w", cur.Name, err)
	}
	d.Event(s, corev1.EventTypeNormal, "StatefulSetRecreated", "StatefulSet %s deleted with its pods kept, to be created again with larger volumes", cur.Name)
	return fmt.Sprintf("StatefulSet %s is being created again with larger volumes", cur.Name), nil
}

// MayGrow reports whether GrowVolumes could have anything to do for want,
// judged from a cached cur: one the cache does not hold, one being deleted,
// or one whose claim templates are smaller. A cache that lags can only
// show an older StatefulSet, never a grown one, so when it shows none of
// these the API server need not be asked.
func MayGrow(cur, want *appsv1.StatefulSet) bool {
	return cur.UID == "" || cur.DeletionTimestamp != nil || len(grownTemplates(cur, want)) > 0
}

// grownTemplates maps each claim template of want that asks for more than
// the same template of cur to its new size.
func grownTemplates(cur, want *appsv1.StatefulSet) map[string]resource.Quantity {
	grow := map[string]resource.Quantity{}
	for _, w := range want.Spec.VolumeClaimTemplates {
		for _, c := range cur.Spec.VolumeClaimTemplates {
			if c.Name == w.Name && w.Spec.Resources.Requests.Storage().Cmp(*c.Spec.Resources.Requests.Storage()) > 0 {
				grow[w.Name] = *w.Spec.Resources.Requests.Storage()
			}
		}
	}
	return grow
}

// claimTemplate is the template a StatefulSet's claim was made from: its
// name is <template>-<set>-<ordinal>.
func claimTemplate(claim, set string) string {
	i := strings.LastIndex(claim, "-"+set+"-")
	if i < 0 {
		return ""
	}
	return claim[:i]
}
