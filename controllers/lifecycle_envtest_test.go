package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// exists reports whether the named object of obj's kind is in ns.
func exists(ctx context.Context, ns, name string, obj client.Object) func() bool {
	return func() bool {
		return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj) == nil
	}
}

// updateStack applies mutate to the current stack, retrying on conflicts
// with the controller's own writes.
func updateStack(ctx context.Context, s *ugcv1.UGCStack, mutate func(*ugcv1.UGCStack)) {
	Eventually(func() error {
		var cur ugcv1.UGCStack
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), &cur); err != nil {
			return err
		}
		mutate(&cur)
		return k8s.Update(ctx, &cur)
	}).Should(Succeed())
}

// readyMongoPods does what the StatefulSet controller and kubelet would:
// pods 0..n-1 exist and are ready, and the StatefulSet counts them.
func readyMongoPods(ctx context.Context, s *ugcv1.UGCStack, n int32) {
	for i := range n {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", mongoName(s), i), Namespace: s.Namespace, Labels: labels(s, componentMongoDB)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "mongod", Image: "mongo"}}},
		}
		if err := k8s.Create(ctx, pod); !apierrors.IsAlreadyExists(err) {
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		Expect(k8s.Status().Update(ctx, pod)).To(Succeed())
	}
	Eventually(func() error {
		var st appsv1.StatefulSet
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: mongoName(s)}, &st); err != nil {
			return err
		}
		st.Status = appsv1.StatefulSetStatus{ObservedGeneration: st.Generation, Replicas: n, ReadyReplicas: n, AvailableReplicas: n}
		return k8s.Status().Update(ctx, &st)
	}).Should(Succeed())
}

func mongoReplicas(ctx context.Context, s *ugcv1.UGCStack) func() int32 {
	return func() int32 {
		var st appsv1.StatefulSet
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: mongoName(s)}, &st); err != nil {
			return -1
		}
		return ptr.Deref(st.Spec.Replicas, -1)
	}
}

var _ = Describe("UGCStack lifecycle", func() {
	ctx := context.Background()

	It("deletes the children of a component once the spec drops it", func() {
		ns := namespace(ctx)
		s := newStack(ns, "prune")
		s.Spec.API.Autoscaling = &ugcv1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 4, TargetCPUUtilizationPercentage: 60}
		s.Spec.API.PodDisruptionBudget = &ugcv1.PodDisruptionBudgetSpec{MaxUnavailable: 1}
		s.Spec.Gateway.Enabled = true
		s.Spec.ClickHouse.Enabled = true
		s.Spec.ClickHouse.Shards, s.Spec.ClickHouse.Replicas = 2, 2
		Expect(k8s.Create(ctx, s)).To(Succeed())

		present := map[string]client.Object{
			"prune-api":               &autoscalingv2.HorizontalPodAutoscaler{},
			"prune-gateway":           &appsv1.Deployment{},
			"prune-clickhouse-s1":     &appsv1.StatefulSet{},
			"prune-clickhouse-keeper": &appsv1.StatefulSet{},
		}
		for name, obj := range present {
			Eventually(exists(ctx, ns, name, obj)).Should(BeTrue(), name)
		}
		Eventually(exists(ctx, ns, "prune-api", &policyv1.PodDisruptionBudget{})).Should(BeTrue())
		Eventually(exists(ctx, ns, "prune-clickhouse-keeper", &corev1.Service{})).Should(BeTrue())
		Eventually(exists(ctx, ns, "prune-clickhouse-keeper", &corev1.ConfigMap{})).Should(BeTrue())
		var chCM corev1.ConfigMap
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prune-clickhouse"}, &chCM)).To(Succeed())
		Expect(chCM.Data["cluster.xml"]).To(ContainSubstring("<host>prune-clickhouse-keeper-2.prune-clickhouse-keeper." + ns + ".svc</host>"))
		relayEnv := func() []corev1.EnvVar {
			var d appsv1.Deployment
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prune-relay"}, &d); err != nil {
				return nil
			}
			return d.Spec.Template.Spec.Containers[0].Env
		}
		Eventually(relayEnv).Should(ContainElement(corev1.EnvVar{Name: "UGC_CLICKHOUSE_CLUSTER", Value: "ugc"}),
			"the relay creates its tables on the cluster")

		By("one replica per shard, one shard: Keeper and the second shard go")
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.ClickHouse.Shards, s.Spec.ClickHouse.Replicas = 1, 1 })
		for _, obj := range []client.Object{&appsv1.StatefulSet{}, &corev1.Service{}, &corev1.ConfigMap{}} {
			Eventually(exists(ctx, ns, "prune-clickhouse-keeper", obj)).Should(BeFalse(), "%T", obj)
		}
		Eventually(exists(ctx, ns, "prune-clickhouse-s1", &appsv1.StatefulSet{})).Should(BeFalse())
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prune-clickhouse-s0"}, &appsv1.StatefulSet{})).To(Succeed())
		Eventually(func() string {
			_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prune-clickhouse"}, &chCM)
			return chCM.Data["cluster.xml"]
		}).ShouldNot(ContainSubstring("<zookeeper>"))
		Eventually(relayEnv).ShouldNot(ContainElement(HaveField("Name", "UGC_CLICKHOUSE_CLUSTER")), "one server is no cluster")

		By("gateway disabled, ClickHouse external, no autoscaling or PDB: their children go")
		updateStack(ctx, s, func(s *ugcv1.UGCStack) {
			s.Spec.Gateway.Enabled = false
			s.Spec.ClickHouse.External = &ugcv1.ExternalClickHouse{DSNSecretRef: ugcv1.SecretKeyRef{Name: "ch", Key: "dsn"}}
			s.Spec.API.Autoscaling, s.Spec.API.PodDisruptionBudget = nil, nil
		})
		gone := map[string][]client.Object{
			"prune-gateway":         {&appsv1.Deployment{}, &corev1.Service{}, &corev1.ConfigMap{}},
			"prune-clickhouse-s0":   {&appsv1.StatefulSet{}},
			"prune-clickhouse":      {&corev1.Service{}, &corev1.ConfigMap{}},
			"prune-clickhouse-auth": {&corev1.Secret{}},
			"prune-api":             {&autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}},
		}
		for name, objs := range gone {
			for _, obj := range objs {
				Eventually(exists(ctx, ns, name, obj)).Should(BeFalse(), "%s %T", name, obj)
			}
		}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prune-api"}, &appsv1.Deployment{})).To(Succeed(), "the API stays")
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prune-api"}, &corev1.Service{})).To(Succeed(), "the API stays")
		Eventually(condition(ctx, s, ugcv1.ConditionGatewayReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonDisabled))
		Eventually(relayEnv).Should(ContainElement(HaveField("Name", "UGC_CLICKHOUSE_DSN")), "the relay feeds the external ClickHouse")
		Eventually(condition(ctx, s, ugcv1.ConditionClickHouseReady)).Should(haveStatus(metav1.ConditionFalse, ugcv1.ReasonProgressing),
			"not ready until the relay runs")
		var relay appsv1.Deployment
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "prune-relay"}, &relay)).To(Succeed())
		relay.Status = appsv1.DeploymentStatus{ObservedGeneration: relay.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
		Expect(k8s.Status().Update(ctx, &relay)).To(Succeed())
		Eventually(condition(ctx, s, ugcv1.ConditionClickHouseReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonExternal))

		By("no ClickHouse at all: the relay goes")
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.ClickHouse.External, s.Spec.ClickHouse.Enabled = nil, false })
		Eventually(exists(ctx, ns, "prune-relay", &appsv1.Deployment{})).Should(BeFalse())
		Eventually(condition(ctx, s, ugcv1.ConditionClickHouseReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonDisabled))
	})

	It("scales the replica set one member at a time through the primary, shrinking the StatefulSet last", func() {
		ns := namespace(ctx)
		s := newStack(ns, "rs")
		s.Spec.MongoDB.Members = ptr.To(int32(3))
		rs := fakeRSs.of(ns, "rs")
		host := func(i int) string { return MongoHosts(s, 5)[i] }

		// Every command is checked against the StatefulSet as it is when
		// the command is sent: each configured member still has its pod.
		var mu sync.Mutex
		var violations []string
		rs.onCommand(func(c rsCommand) {
			need := configuredOrdinals(s, rs.config(), 5)
			if got := mongoReplicas(ctx, s)(); got < need {
				mu.Lock()
				violations = append(violations, fmt.Sprintf("%s sent while the StatefulSet had %d pods for %d configured ordinals", c.Kind, got, need))
				mu.Unlock()
			}
		})
		Expect(k8s.Create(ctx, s)).To(Succeed())

		Eventually(mongoReplicas(ctx, s)).Should(Equal(int32(3)))
		readyMongoPods(ctx, s, 3)
		Eventually(rs.members, 10*time.Second).Should(Equal(3))
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonAvailable))
		Expect(rs.commands()).To(Equal([]rsCommand{
			{Kind: RSInitiate, Target: host(0), Members: 1},
			{Kind: RSReconfig, Target: host(0), Members: 2},
			{Kind: RSReconfig, Target: host(0), Members: 3},
		}))

		By("an election makes the last member primary; scaling to one member must remove it too")
		rs.elect(host(2))
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.MongoDB.Members = ptr.To(int32(1)) })
		Eventually(mongoReplicas(ctx, s), 10*time.Second).Should(Equal(int32(1)))
		Expect(rs.commands()[3:]).To(Equal([]rsCommand{
			{Kind: RSReconfig, Target: host(2), Members: 2},
			{Kind: RSStepDown, Target: host(2)},
			{Kind: RSReconfig, Target: host(0), Members: 1},
		}))
		mu.Lock()
		Expect(violations).To(BeEmpty())
		mu.Unlock()
		Eventually(func() int32 {
			var got ugcv1.UGCStack
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(s), &got)
			return got.Status.MongoDBMembers
		}).Should(Equal(int32(1)))
	})

	It("initiates the replica set as soon as the first pod turns ready (pod watch, not a requeue)", func() {
		ns := namespace(ctx)
		s := newStack(ns, "podwatch")
		Expect(k8s.Create(ctx, s)).To(Succeed())
		Eventually(mongoReplicas(ctx, s)).Should(Equal(int32(1)))
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "podwatch-mongodb-0", Namespace: ns, Labels: labels(s, componentMongoDB)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "mongod", Image: "mongo"}}},
		}
		Expect(k8s.Create(ctx, pod)).To(Succeed())
		Eventually(func() error {
			var st appsv1.StatefulSet
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "podwatch-mongodb"}, &st); err != nil {
				return err
			}
			st.Status = appsv1.StatefulSetStatus{ObservedGeneration: st.Generation, Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
			return k8s.Status().Update(ctx, &st)
		}).Should(Succeed())
		waitingForPod := WithTransform(func(c *metav1.Condition) string {
			if c == nil {
				return ""
			}
			return c.Reason + ": " + c.Message
		}, ContainSubstring("first member's pod"))
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(waitingForPod)
		Consistently(condition(ctx, s, ugcv1.ConditionMongoDBReady), "1s").Should(waitingForPod)

		// The next periodic requeue is 15 s away: only the pod's own event
		// can start the initiation in time.
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		Expect(k8s.Status().Update(ctx, pod)).To(Succeed())
		Eventually(fakeRSs.of(ns, "podwatch").commands, "5s").Should(ContainElement(HaveField("Kind", RSInitiate)))
	})

	DescribeTable("keeps or deletes the MongoDB volumes with the stack",
		func(policy string, deleted bool) {
			ns := namespace(ctx)
			s := newStack(ns, "vol")
			s.Spec.MongoDB.DeletePolicy = policy
			Expect(k8s.Create(ctx, s)).To(Succeed())
			// envtest runs no StatefulSet controller: make the claims it
			// would, labelled from the claim template and the selector.
			var claims []*corev1.PersistentVolumeClaim
			for i := range 2 {
				pvc := &corev1.PersistentVolumeClaim{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("data-vol-mongodb-%d", i), Namespace: ns, Labels: labels(s, componentMongoDB)},
					Spec: corev1.PersistentVolumeClaimSpec{
						AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
					},
				}
				Expect(k8s.Create(ctx, pvc)).To(Succeed())
				claims = append(claims, pvc)
			}
			Eventually(exists(ctx, ns, "vol-mongodb", &appsv1.StatefulSet{})).Should(BeTrue())
			Eventually(func() []string {
				var got ugcv1.UGCStack
				_ = k8s.Get(ctx, client.ObjectKeyFromObject(s), &got)
				return got.Finalizers
			}).Should(HaveLen(map[bool]int{true: 1, false: 0}[deleted]))

			Expect(k8s.Delete(ctx, s)).To(Succeed())
			Eventually(exists(ctx, ns, "vol", &ugcv1.UGCStack{})).Should(BeFalse(), "the stack is deleted either way")
			for _, pvc := range claims {
				// Claims carry the pvc-protection finalizer, which no
				// controller removes here: deleted means marked for deletion.
				markedOrGone := func() bool {
					var got corev1.PersistentVolumeClaim
					err := k8s.Get(ctx, client.ObjectKeyFromObject(pvc), &got)
					return apierrors.IsNotFound(err) || (err == nil && !got.DeletionTimestamp.IsZero())
				}
				if deleted {
					Eventually(markedOrGone).Should(BeTrue(), pvc.Name)
				} else {
					Consistently(markedOrGone, "500ms").Should(BeFalse(), pvc.Name)
				}
			}
		},
		Entry("deletePolicy: Delete removes them", "Delete", true),
		Entry("deletePolicy: Retain (the default) keeps them", "Retain", false),
	)
})
