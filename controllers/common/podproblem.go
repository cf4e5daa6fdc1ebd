package common

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// stuck are the waiting reasons the kubelet gives a container that will
// not start without someone's help: a wrong image, a crash loop, a missing
// Secret or ConfigMap key.
var stuck = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true,
	"CrashLoopBackOff": true, "CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
}

// PodProblem says, in the scheduler's and kubelet's words, why the first
// of pods (by name) that cannot get ready by itself does not: unschedulable
// (with the claim it waits for, when one is Pending), a container stuck
// waiting, or killed for memory. It is "" when no pod is stuck, only slow.
func PodProblem(pods []corev1.Pod, claims []corev1.PersistentVolumeClaim) string {
	pods = slices.Clone(pods)
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return cmp.Compare(a.Name, b.Name) })
	for i := range pods {
		if p := podProblem(&pods[i], claims); p != "" {
			return "pod " + pods[i].Name + ": " + p
		}
	}
	return ""
}

func podProblem(p *corev1.Pod, claims []corev1.PersistentVolumeClaim) string {
	if p.DeletionTimestamp != nil {
		return ""
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			if name := pendingClaim(p, claims); name != "" {
				return fmt.Sprintf("claim %s is Pending (no volume bound: see its StorageClass and events); Unschedulable: %s", name, clip(c.Message))
			}
			return "Unschedulable: " + clip(c.Message)
		}
	}
	for _, st := range append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...) {
		last := st.LastTerminationState.Terminated
		if w := st.State.Waiting; w != nil && stuck[w.Reason] {
			msg := fmt.Sprintf("container %s: %s", st.Name, w.Reason)
			if w.Message != "" {
				msg += ": " + clip(w.Message)
			}
			if last != nil {
				msg += fmt.Sprintf(" (last exit: %s, code %d; %d restarts)", last.Reason, last.ExitCode, st.RestartCount)
			}
			return msg
		}
		if last != nil && last.Reason == "OOMKilled" && !st.Ready {
			return fmt.Sprintf("container %s: OOMKilled (%d restarts): raise its memory limit", st.Name, st.RestartCount)
		}
	}
	return ""
}

// pendingClaim names a claim of p that is Pending.
func pendingClaim(p *corev1.Pod, claims []corev1.PersistentVolumeClaim) string {
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		for _, c := range claims {
			if c.Name == v.PersistentVolumeClaim.ClaimName && c.Status.Phase == corev1.ClaimPending {
				return c.Name
			}
		}
	}
	return ""
}

// clip keeps a condition readable when the scheduler lists every node.
func clip(s string) string {
	const limit = 300
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}

// ExplainPods adds to a component's not-ready result the first stuck pod
// of the given components (PodProblem), so the condition says what to fix
// instead of only a count; a rollout's Progressing becomes PodsStuck.
// Claims are read, from the API server, only when a pod is unscheduled.
func ExplainPods(ctx context.Context, d Deps, s *ugcv1.UGCStack, r Result, components ...string) Result {
	if r.IsReady() || r.Err != nil {
		return r
	}
	var all []corev1.Pod
	for _, c := range components {
		var pods corev1.PodList
		if err := d.Client.List(ctx, &pods, client.InNamespace(s.Namespace), client.MatchingLabels(Selector(s, c))); err != nil {
			r.Err = fmt.Errorf("list the %s pods: %w", c, err)
			return r
		}
		all = append(all, pods.Items...)
	}
	var claims []corev1.PersistentVolumeClaim
	if unschedulable(all) {
		for _, c := range components {
			cs, err := Claims(ctx, d, s, c)
			if err != nil {
				r.Err = err
				return r
			}
			claims = append(claims, cs...)
		}
	}
	problem := PodProblem(all, claims)
	if problem == "" {
		return r
	}
	if r.Condition.Reason == ugcv1.ReasonProgressing {
		r.Condition.Reason = ugcv1.ReasonPodsStuck
	}
	r.Condition.Message += "; " + problem
	return r
}

func unschedulable(pods []corev1.Pod) bool {
	for _, p := range pods {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				return true
			}
		}
	}
	return false
}
