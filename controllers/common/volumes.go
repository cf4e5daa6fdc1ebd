package common

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// Volumes are one component's data: its claims, and its Retained Secrets.
type Volumes struct {
	Component string
	// Delete says they go with the stack (deletePolicy: Delete).
	Delete bool
}

// Claims lists a component's claims that are not being deleted. It reads
// the API server: the operator does not watch claims, and a claim the
// cache has not seen yet must still count.
func Claims(ctx context.Context, d Deps, s *ugcv1.UGCStack, component string) ([]corev1.PersistentVolumeClaim, error) {
	var list corev1.PersistentVolumeClaimList
	if err := d.APIReader.List(ctx, &list, client.InNamespace(s.Namespace), client.MatchingLabels(Selector(s, component))); err != nil {
		return nil, fmt.Errorf("list the %s claims: %w", component, err)
	}
	live := list.Items[:0]
	for _, c := range list.Items {
		if c.DeletionTimestamp == nil {
			live = append(live, c)
		}
	}
	return live, nil
}

// DeleteVolumes deletes a component's claims and its Retained Secrets:
// what deletePolicy Delete removes when the stack or the component goes.
// Each claim's protection keeps it until its pod is gone. It reports
// whether there was anything to delete.
func DeleteVolumes(ctx context.Context, d Deps, s *ugcv1.UGCStack, component string) (bool, error) {
	claims, err := Claims(ctx, d, s, component)
	if err != nil {
		return false, err
	}
	for i := range claims {
		if err := d.Client.Delete(ctx, &claims[i]); client.IgnoreNotFound(err) != nil {
			return false, fmt.Errorf("delete claim %s: %w", claims[i].Name, err)
		}
	}
	var secrets corev1.SecretList
	if err := d.Client.List(ctx, &secrets, client.InNamespace(s.Namespace), client.MatchingLabels(Selector(s, component))); err != nil {
		return false, fmt.Errorf("list the %s Secrets: %w", component, err)
	}
	deleted := len(claims) > 0
	for i := range secrets.Items {
		sec := &secrets.Items[i]
		if metav1.GetControllerOf(sec) != nil || sec.DeletionTimestamp != nil {
			continue // the stack's child: it goes with the stack
		}
		if err := d.Client.Delete(ctx, sec); client.IgnoreNotFound(err) != nil {
			return false, fmt.Errorf("delete Secret %s with the volumes: %w", sec.Name, err)
		}
		deleted = true
	}
	return deleted, nil
}
