package ugcstack

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/mongodb/members"
)

var _ = Describe("A component's condition", func() {
	It("names the stuck pod and the kubelet's reason, and drops it once the pod recovers", func() {
		ctx := context.Background()
		s := newStack(namespace(ctx), "stuck")
		Expect(k8s.Create(ctx, s)).To(Succeed())
		mongoPod(ctx, s, 0, false)
		var pod corev1.Pod
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: members.Name(s) + "-0"}, &pod)).To(Succeed())
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "mongod", State: corev1.ContainerState{
			Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "mongo:99"`},
		}}}
		Expect(k8s.Status().Update(ctx, &pod)).To(Succeed())
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(And(
			haveStatus(metav1.ConditionFalse, ugcv1.ReasonPodsStuck),
			HaveField("Message", ContainSubstring(`pod stuck-mongodb-0: container mongod: ImagePullBackOff: Back-off pulling image "mongo:99"`))))

		pod.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		Expect(k8s.Status().Update(ctx, &pod)).To(Succeed())
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(HaveField("Message", Not(ContainSubstring("ImagePullBackOff"))))
	})
})
