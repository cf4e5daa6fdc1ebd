package common

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pod(name string, mutate func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-" + name},
		}}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "mongod", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
	}
	mutate(&p)
	return p
}

func unscheduled(msg string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = nil
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg}}
	}
}

func waiting(reason, msg string, last *corev1.ContainerStateTerminated) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
		if last != nil {
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = last
			p.Status.ContainerStatuses[0].RestartCount = 4
		}
	}
}

// The statuses below are as the scheduler and kubelet write them.
func TestPodProblemNamesThePodAndTheReason(t *testing.T) {
	pending := corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-m-1"}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}
	bound := corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-m-1"}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}}
	fine := pod("m-0", func(*corev1.Pod) {})
	for _, c := range []struct {
		name   string
		pods   []corev1.Pod
		claims []corev1.PersistentVolumeClaim
		want   []string // substrings; none means no problem
	}{
		{"running pods are only slow", []corev1.Pod{fine, pod("m-1", func(p *corev1.Pod) { p.Status.ContainerStatuses[0].Ready = false })}, nil, nil},
		{"a pod being created is only slow", []corev1.Pod{pod("m-1", waiting("ContainerCreating", "", nil))}, nil, nil},
		{
			"unschedulable",
			[]corev1.Pod{fine, pod("m-1", unscheduled("0/3 nodes are available: 3 Insufficient memory."))},
			[]corev1.PersistentVolumeClaim{bound},
			[]string{"pod m-1: Unschedulable: 0/3 nodes are available: 3 Insufficient memory."},
		},
		{
			"its claim is Pending",
			[]corev1.Pod{pod("m-1", unscheduled(`0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.`))},
			[]corev1.PersistentVolumeClaim{pending},
			[]string{"pod m-1: claim data-m-1 is Pending", "unbound immediate PersistentVolumeClaims"},
		},
		{
			"an image that cannot be pulled",
			[]corev1.Pod{pod("m-1", waiting("ImagePullBackOff", `Back-off pulling image "mongo:99"`, nil))},
			nil,
			[]string{`pod m-1: container mongod: ImagePullBackOff: Back-off pulling image "mongo:99"`},
		},
		{
			"a crash loop, with the last exit",
			[]corev1.Pod{pod("m-1", waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container", &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 14}))},
			nil,
			[]string{"container mongod: CrashLoopBackOff", "last exit: Error, code 14; 4 restarts"},
		},
		{"killed for memory", []corev1.Pod{pod("m-1", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}
			p.Status.ContainerStatuses[0].RestartCount = 1
		})}, nil, []string{"container mongod: OOMKilled (1 restarts)"}},
		{"an init container stuck", []corev1.Pod{pod("m-1", func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "keyfile", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: `secret "m-keyfile" not found`}}}}
		})}, nil, []string{`container keyfile: CreateContainerConfigError: secret "m-keyfile" not found`}},
		{
			"the first pod by name speaks",
			[]corev1.Pod{pod("m-2", waiting("ErrImagePull", "", nil)), pod("m-1", waiting("ImagePullBackOff", "", nil))},
			nil,
			[]string{"pod m-1: container mongod: ImagePullBackOff"},
		},
		{"a pod being deleted is left out", []corev1.Pod{pod("m-1", func(p *corev1.Pod) {
			waiting("CrashLoopBackOff", "", nil)(p)
			p.DeletionTimestamp = &metav1.Time{}
		})}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := PodProblem(c.pods, c.claims)
			if len(c.want) == 0 && got != "" {
				t.Fatalf("got %q, want no problem", got)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func TestPodProblemClipsALongSchedulerMessage(t *testing.T) {
	got := PodProblem([]corev1.Pod{pod("m-0", unscheduled(strings.Repeat("node x: didn't match; ", 100)))}, nil)
	if len(got) > 400 || !strings.HasSuffix(got, "…") {
		t.Errorf("%d bytes: %q", len(got), got)
	}
}
