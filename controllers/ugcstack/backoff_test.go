package ugcstack

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// reconcileErrors reads controller_runtime_reconcile_errors_total of the
// ugcstack controller from the registry the manager's /metrics serves.
func reconcileErrors() float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_errors_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "ugcstack" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

var _ = Describe("A failing component", func() {
	ctx := context.Background()

	It("returns its error to controller-runtime, which retries with backoff while the rest is reconciled", func() {
		ns := namespace(ctx)
		// A ConfigMap by the gateway's name that another object controls:
		// the API server refuses a second controller reference, so every
		// apply of the gateway's ConfigMap fails.
		owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "someone-else", Namespace: ns}}
		Expect(k8s.Create(ctx, owner)).To(Succeed())
		blocker := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "fail-gateway", Namespace: ns, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, Controller: ptr.To(true),
		}}}}
		Expect(k8s.Create(ctx, blocker)).To(Succeed())
		before := reconcileErrors()

		s := newStack(ns, "fail")
		s.Spec.Gateway.Enabled = true
		Expect(k8s.Create(ctx, s)).To(Succeed())
		Eventually(condition(ctx, s, ugcv1.ConditionGatewayReady)).Should(And(
			haveStatus(metav1.ConditionFalse, ugcv1.ReasonApplyFailed),
			WithTransform(func(c *metav1.Condition) string { return c.Message }, ContainSubstring("fail-gateway")),
		))
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "fail-api"}, &appsv1.Deployment{})).To(Succeed(), "the other components are reconciled")

		By("nothing else changes, yet the reconcile runs again and again, each error counted")
		Eventually(reconcileErrors).Should(BeNumerically(">=", before+3))

		By("once the obstacle goes, a retry (no watched change) creates the gateway")
		// The blocker is not the stack's: deleting it triggers nothing.
		Expect(k8s.Delete(ctx, blocker)).To(Succeed())
		Eventually(exists(ctx, ns, "fail-gateway", &appsv1.Deployment{}), "30s").Should(BeTrue())
	})
})
