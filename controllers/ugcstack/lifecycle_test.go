package ugcstack

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
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/common/commontest"
	"github.com/ugcstack/ugcstack/controllers/mongodb"
	"github.com/ugcstack/ugcstack/controllers/mongodb/members"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset/replsettest"
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
	Eventually(commontest.UpdateStack(ctx, k8s, s, mutate)).Should(Succeed())
}

// mongoPod makes member i's pod as the StatefulSet controller would, and
// when ready marks it Ready as the kubelet would.
func mongoPod(ctx context.Context, s *ugcv1.UGCStack, i int32, ready bool) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", members.Name(s), i), Namespace: s.Namespace, Labels: common.Labels(s, common.ComponentMongoDB)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "mongod", Image: "mongo"}}},
	}
	if err := k8s.Create(ctx, pod); !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
	if !ready {
		return
	}
	Expect(k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	Expect(k8s.Status().Update(ctx, pod)).To(Succeed())
}

// readyMongoPods does what the StatefulSet controller and kubelet would:
// pods 0..n-1 exist and are ready, and the StatefulSet counts them.
func readyMongoPods(ctx context.Context, s *ugcv1.UGCStack, n int32) {
	for i := range n {
		mongoPod(ctx, s, i, true)
	}
	setStatefulSetReady(ctx, s.Namespace, members.Name(s), n)
}

// setStatefulSetReady reports n ready replicas, as the StatefulSet
// controller would.
func setStatefulSetReady(ctx context.Context, ns, name string, n int32) {
	Eventually(func() error {
		var st appsv1.StatefulSet
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &st); err != nil {
			return err
		}
		st.Status = appsv1.StatefulSetStatus{ObservedGeneration: st.Generation, Replicas: n, ReadyReplicas: n, AvailableReplicas: n}
		return k8s.Status().Update(ctx, &st)
	}).Should(Succeed())
}

// setDeploymentReady reports every desired replica updated and available,
// as the Deployment controller would.
func setDeploymentReady(ctx context.Context, ns, name string) {
	Eventually(func() error {
		var d appsv1.Deployment
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			return err
		}
		n := ptr.Deref(d.Spec.Replicas, 1)
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
		return k8s.Status().Update(ctx, &d)
	}).Should(Succeed())
}

func deleteStack(ctx context.Context, s *ugcv1.UGCStack) {
	Expect(k8s.Delete(ctx, s)).To(Succeed())
	Eventually(exists(ctx, s.Namespace, s.Name, &ugcv1.UGCStack{})).Should(BeFalse(), "the stack is deleted either way")
}

// switchToExternal points the stack at an external MongoDB: the managed
// one's StatefulSet and Service go.
func switchToExternal(ctx context.Context, s *ugcv1.UGCStack) {
	updateStack(ctx, s, func(s *ugcv1.UGCStack) {
		s.Spec.MongoDB.Members = nil
		s.Spec.MongoDB.External = &ugcv1.ExternalMongoDB{URISecretRef: ugcv1.SecretKeyRef{Name: "mongo", Key: "uri"}}
	})
	Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonExternal))
	Eventually(exists(ctx, s.Namespace, members.Name(s), &appsv1.StatefulSet{})).Should(BeFalse())
	Eventually(exists(ctx, s.Namespace, members.Name(s), &corev1.Service{})).Should(BeFalse())
	var d appsv1.Deployment
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: common.APIName(s)}, &d)).To(Succeed())
	Eventually(func() string {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(&d), &d)
		return ptr.Deref(commontest.SecretRef(d.Spec.Template.Spec, d.Spec.Template.Spec.Containers[0], "UGC_MONGO_URI"), ugcv1.SecretKeyRef{}).Name
	}).Should(Equal("mongo"), "the API reads the external URI")
}

// retainedSecrets names the Secrets a managed MongoDB's data needs.
func retainedSecrets(s *ugcv1.UGCStack) []string {
	return []string{members.KeyfileSecretName(s), members.AdminSecretName(s), common.MongoAppSecretName(s)}
}

func mongoReplicas(ctx context.Context, s *ugcv1.UGCStack) func() int32 {
	return func() int32 {
		var st appsv1.StatefulSet
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: members.Name(s)}, &st); err != nil {
			return -1
		}
		return ptr.Deref(st.Spec.Replicas, -1)
	}
}

var _ = Describe("UGCStack lifecycle", func() {
	ctx := context.Background()

	It("deletes the children of a component once the spec drops it", func() {
		ns := namespace(ctx)
		s := withOptionalParts(newStack(ns, "prune"))
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
		Eventually(relayEnv).Should(ContainElement(HaveField("Name", "UGC_CLICKHOUSE_DSN_FILE")), "the relay feeds the external ClickHouse")
		Eventually(condition(ctx, s, ugcv1.ConditionClickHouseReady)).Should(haveStatus(metav1.ConditionFalse, ugcv1.ReasonProgressing),
			"not ready until the relay runs")
		setDeploymentReady(ctx, ns, "prune-relay")
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
		rs := fakeRSs.Of(members.Hosts(s, 1))
		host := func(i int) string { return members.Hosts(s, 5)[i] }

		// Every command is checked against the StatefulSet as it is when
		// the command is sent: each configured member still has its pod.
		var mu sync.Mutex
		var violations []string
		rs.OnCommand(func(c replsettest.Command) {
			need := mongodb.ConfiguredOrdinals(s, rs.Config(), 5)
			if got := mongoReplicas(ctx, s)(); got < need {
				mu.Lock()
				violations = append(violations, fmt.Sprintf("%s sent while the StatefulSet had %d pods for %d configured ordinals", c.Kind, got, need))
				mu.Unlock()
			}
		})
		Expect(k8s.Create(ctx, s)).To(Succeed())

		Eventually(mongoReplicas(ctx, s)).Should(Equal(int32(3)))
		readyMongoPods(ctx, s, 3)
		Eventually(rs.Members, 10*time.Second).Should(Equal(3))
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonAvailable))
		Expect(rs.Commands()).To(Equal([]replsettest.Command{
			{Kind: replset.Initiate, Target: host(0), Members: 1},
			{Kind: replset.Reconfig, Target: host(0), Members: 2},
			{Kind: replset.Reconfig, Target: host(0), Members: 3},
		}))

		By("an election makes the last member primary; scaling to one member must remove it too")
		rs.Elect(host(2))
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.MongoDB.Members = ptr.To(int32(1)) })
		Eventually(mongoReplicas(ctx, s), 10*time.Second).Should(Equal(int32(1)))
		Expect(rs.Commands()[3:]).To(Equal([]replsettest.Command{
			{Kind: replset.Reconfig, Target: host(2), Members: 2},
			{Kind: replset.StepDown, Target: host(2)},
			{Kind: replset.Reconfig, Target: host(0), Members: 1},
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
		mongoPod(ctx, s, 0, false)
		setStatefulSetReady(ctx, ns, "podwatch-mongodb", 1)
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
		mongoPod(ctx, s, 0, true)
		Eventually(fakeRSs.Of(members.Hosts(s, 1)).Commands, "10s").Should(ContainElement(HaveField("Kind", replset.Initiate)))
	})

	DescribeTable("keeps or deletes the MongoDB volumes, and the Secrets their data needs, when the managed MongoDB goes",
		func(policy string, deleted bool, leave func(context.Context, *ugcv1.UGCStack)) {
			ns := namespace(ctx)
			s := newStack(ns, "vol")
			s.Spec.MongoDB.DeletePolicy = policy
			Expect(k8s.Create(ctx, s)).To(Succeed())
			// The claims come after the credentials, as the StatefulSet's
			// do: before them, they would hold a database whose root
			// password is lost.
			Eventually(exists(ctx, ns, members.AdminSecretName(s), &corev1.Secret{})).Should(BeTrue())
			claims := []string{"data-vol-mongodb-0", "data-vol-mongodb-1"}
			for _, name := range claims {
				claim(ctx, s, common.ComponentMongoDB, name)
			}
			Eventually(exists(ctx, ns, "vol-mongodb", &appsv1.StatefulSet{})).Should(BeTrue())
			Eventually(func() []string {
				var got ugcv1.UGCStack
				_ = k8s.Get(ctx, client.ObjectKeyFromObject(s), &got)
				return got.Finalizers
			}).Should(HaveLen(map[bool]int{true: 1, false: 0}[deleted]))

			leave(ctx, s)
			expectClaimsDeleted(ctx, ns, claims, deleted)
			// Retained, they belong to no stack: no garbage collector runs
			// here, so an owner reference would go unnoticed otherwise.
			for _, name := range retainedSecrets(s) {
				var sec corev1.Secret
				err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sec)
				if deleted {
					Eventually(func() bool {
						return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sec))
					}).Should(BeTrue(), name)
					continue
				}
				Expect(err).NotTo(HaveOccurred(), name)
				Expect(sec.OwnerReferences).To(BeEmpty(), name)
			}
		},
		Entry("stack deleted, deletePolicy: Delete removes them", "Delete", true, deleteStack),
		Entry("stack deleted, deletePolicy: Retain (the default) keeps them", "Retain", false, deleteStack),
		Entry("switched to an external MongoDB, deletePolicy: Delete removes them", "Delete", true, switchToExternal),
		Entry("switched to an external MongoDB, deletePolicy: Retain keeps them", "Retain", false, switchToExternal),
	)
})

var _ = Describe("MongoDB upgrades", func() {
	ctx := context.Background()

	It("refuses an image that skips a major release, keeping the members' image", func() {
		ns := namespace(ctx)
		s := newStack(ns, "upgrade")
		s.Spec.MongoDB.Image = "mongo:6.0"
		Expect(k8s.Create(ctx, s)).To(Succeed())
		image := func() string {
			var st appsv1.StatefulSet
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "upgrade-mongodb"}, &st); err != nil {
				return ""
			}
			return st.Spec.Template.Spec.Containers[0].Image
		}
		Eventually(image).Should(Equal("mongo:6.0"))
		// What the operator records from the set's getParameter.
		Eventually(func() error {
			var cur ugcv1.UGCStack
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), &cur); err != nil {
				return err
			}
			cur.Status.MongoDBFeatureCompatibilityVersion = "6.0"
			return k8s.Status().Update(ctx, &cur)
		}).Should(Succeed())

		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.MongoDB.Image = "mongo:8.0" })
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(And(
			haveStatus(metav1.ConditionFalse, ugcv1.ReasonUpgradeRefused),
			WithTransform(func(c *metav1.Condition) string { return c.Message }, ContainSubstring("upgrade to 7.x first")),
		))
		Expect(image()).To(Equal("mongo:6.0"), "the reconcile that refused applied the running image")

		By("one major release at a time is rolled out")
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.MongoDB.Image = "mongo:7.0" })
		Eventually(image).Should(Equal("mongo:7.0"))
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).ShouldNot(haveStatus(metav1.ConditionFalse, ugcv1.ReasonUpgradeRefused))
	})

	It("keeps the refused image when the same change also scales the replica set down", func() {
		ns := namespace(ctx)
		s := newStack(ns, "shrink")
		s.Spec.MongoDB.Image = "mongo:6.0"
		s.Spec.MongoDB.Members = ptr.To(int32(3))
		Expect(k8s.Create(ctx, s)).To(Succeed())
		Eventually(mongoReplicas(ctx, s)).Should(Equal(int32(3)))
		readyMongoPods(ctx, s, 3)
		Eventually(fakeRSs.Of(members.Hosts(s, 1)).Members).Should(Equal(3))
		Eventually(func() error {
			var cur ugcv1.UGCStack
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), &cur); err != nil {
				return err
			}
			cur.Status.MongoDBFeatureCompatibilityVersion = "6.0"
			return k8s.Status().Update(ctx, &cur)
		}).Should(Succeed())

		updateStack(ctx, s, func(s *ugcv1.UGCStack) {
			s.Spec.MongoDB.Image, s.Spec.MongoDB.Members = "mongo:8.0", ptr.To(int32(1))
		})
		// The shrink is its own apply, after the members left the set.
		Eventually(mongoReplicas(ctx, s)).Should(Equal(int32(1)))
		var st appsv1.StatefulSet
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shrink-mongodb"}, &st)).To(Succeed())
		Expect(st.Spec.Template.Spec.Containers[0].Image).To(Equal("mongo:6.0"), "the shrink rolled out the refused image")
	})
})

var _ = Describe("Spec changes a real API server must take", func() {
	ctx := context.Background()

	It("keeps the API's replica count when autoscaling is turned on", func() {
		ns := namespace(ctx)
		s := newStack(ns, "hpa")
		s.Spec.API.Replicas = ptr.To(int32(3))
		Expect(k8s.Create(ctx, s)).To(Succeed())
		replicas := func() int32 {
			var d appsv1.Deployment
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hpa-api"}, &d); err != nil {
				return -1
			}
			return ptr.Deref(d.Spec.Replicas, -1)
		}
		Eventually(replicas).Should(Equal(int32(3)))
		updateStack(ctx, s, func(s *ugcv1.UGCStack) {
			s.Spec.API.Autoscaling = &ugcv1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 6, TargetCPUUtilizationPercentage: 70}
		})
		// The HPA comes from the same reconcile, after the Deployment's apply.
		Eventually(exists(ctx, ns, "hpa-api", &autoscalingv2.HorizontalPodAutoscaler{})).Should(BeTrue())
		Eventually(condition(ctx, s, ugcv1.ConditionAPIReady)).Should(WithTransform(func(c *metav1.Condition) int64 { return c.ObservedGeneration }, Equal(int64(2))))
		Expect(replicas()).To(Equal(int32(3)), "dropping spec.replicas from the apply reset it to the default")
	})

	It("takes a larger MongoDB storage, refuses a smaller one or another class, and reports a claim that cannot expand", func() {
		ns := namespace(ctx)
		s := newStack(ns, "grow")
		s.Spec.MongoDB.Storage = ugcv1.StorageSpec{Size: resource.MustParse("10Gi")}
		Expect(k8s.Create(ctx, s)).To(Succeed())
		Eventually(exists(ctx, ns, members.AdminSecretName(s), &corev1.Secret{})).Should(BeTrue())
		var sts appsv1.StatefulSet
		Eventually(exists(ctx, ns, members.Name(s), &sts)).Should(BeTrue())
		claim(ctx, s, common.ComponentMongoDB, "data-grow-mongodb-0")

		for _, c := range []struct {
			name   string
			mutate func(*ugcv1.StorageSpec)
		}{
			{"smaller", func(st *ugcv1.StorageSpec) { st.Size = resource.MustParse("5Gi") }},
			{"another class", func(st *ugcv1.StorageSpec) { st.StorageClassName = ptr.To("fast") }},
		} {
			err := commontest.RefusedUpdate(ctx, k8s, s, func(s *ugcv1.UGCStack) { c.mutate(&s.Spec.MongoDB.Storage) })
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%s: %v", c.name, err)
			Expect(err.Error()).To(ContainSubstring("mongodb.storage may only grow"), c.name)
		}

		// envtest binds no volume, and the API server expands only a bound
		// claim: its refusal is what a class without expansion gets too.
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.MongoDB.Storage.Size = resource.MustParse("20Gi") })
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(And(
			haveStatus(metav1.ConditionFalse, ugcv1.ReasonApplyFailed),
			HaveField("Message", ContainSubstring("expand claim data-grow-mongodb-0 to 20Gi"))))
		var after appsv1.StatefulSet
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(&sts), &after)).To(Succeed())
		Expect(after.UID).To(Equal(sts.UID), "kept while its claims cannot grow")
	})

	It("takes ClickHouse's storage with the update that turns it on, and then only a larger one", func() {
		ns := namespace(ctx)
		s := newStack(ns, "chgrow")
		Expect(k8s.Create(ctx, s)).To(Succeed()) // ClickHouse off, as the chart renders it
		// Storage set while no ClickHouse ran, then a larger size once it runs.
		updateStack(ctx, s, func(s *ugcv1.UGCStack) {
			s.Spec.ClickHouse.Enabled = true
			s.Spec.ClickHouse.Storage = ugcv1.StorageSpec{Size: resource.MustParse("50Gi")}
		})
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.ClickHouse.Storage.Size = resource.MustParse("100Gi") })
		err := commontest.RefusedUpdate(ctx, k8s, s, func(s *ugcv1.UGCStack) { s.Spec.ClickHouse.Storage.Size = resource.MustParse("60Gi") })
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("clickhouse.storage may only grow on a running ClickHouse"))
	})
})
