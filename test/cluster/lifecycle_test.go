package cluster

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
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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

// stack is a small UGCStack of the API and MongoDB in a fresh namespace.
func stack(ctx context.Context, name string) *ugcv1.UGCStack {
	return &ugcv1.UGCStack{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace(ctx), Name: name},
		Spec: ugcv1.UGCStackSpec{API: ugcv1.APISpec{
			Image: "ghcr.io/ugcstack/ugc:1", JWT: ugcv1.JWTSpec{SecretRef: &ugcv1.SecretKeyRef{Name: "jwt", Key: "secret"}},
		}},
	}
}

func deployment(ctx context.Context, s *ugcv1.UGCStack, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, d)).To(Succeed())
	return d
}

var _ = Describe("A stack on a simulated cluster", func() {
	It("keeps every member's data through kubectl scale --replicas=0, and restores the count", func(ctx SpecContext) {
		s := stack(ctx, "zero")
		fakes.Of(members.Hosts(s, 3))
		s.Spec.MongoDB.Members = ptr.To(int32(3))
		Expect(k8s.Create(ctx, s)).To(Succeed())
		waitReady(ctx, s)
		Eventually(func() []string { return claims(ctx, s) }).WithContext(ctx).Should(HaveLen(3))
		uids := map[string]types.UID{}
		var list corev1.PersistentVolumeClaimList
		Expect(k8s.List(ctx, &list, client.InNamespace(s.Namespace))).To(Succeed())
		for _, c := range list.Items {
			uids[c.Name] = c.UID
		}

		By("a person scales the StatefulSet to 0")
		Eventually(func() error {
			var sts appsv1.StatefulSet
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: members.Name(s)}, &sts); err != nil {
				return err
			}
			sts.Spec.Replicas = ptr.To(int32(0))
			return k8s.Update(ctx, &sts)
		}).WithContext(ctx).Should(Succeed())
		Eventually(func() int { return len(pods(ctx, s, "mongodb")) }).WithContext(ctx).Should(Equal(3), "the operator restores the members' pods")
		Expect(k8s.List(ctx, &list, client.InNamespace(s.Namespace))).To(Succeed())
		kept := 0
		for _, c := range list.Items {
			if uid, ok := uids[c.Name]; ok {
				Expect(c.UID).To(Equal(uid), "claim %s was deleted and made anew", c.Name)
				Expect(c.DeletionTimestamp).To(BeNil(), "claim %s is being deleted", c.Name)
				kept++
			}
		}
		Expect(kept).To(Equal(3))
	}, SpecTimeout(4*time.Minute))

	It("scales MongoDB 1 → 3 → 5 → 3 → 1: members change through the replica set before their pods go, and removed members' claims go", func(ctx SpecContext) {
		s := stack(ctx, "rs")
		rs := fakes.Of(members.Hosts(s, 1))
		// Every command is held against the pods running when it is sent:
		// each member the configuration keeps has its pod.
		var mu sync.Mutex
		var violations []string
		rs.OnCommand(func(c replsettest.Command) {
			if c.Kind != replset.Reconfig {
				return
			}
			need := mongodb.ConfiguredOrdinals(s, rs.Config(), 5)
			if got := int32(len(pods(ctx, s, "mongodb"))); got < need {
				mu.Lock()
				violations = append(violations, fmt.Sprintf("%s with %d running pods for %d configured ordinals", c.Kind, got, need))
				mu.Unlock()
			}
		})
		Expect(k8s.Create(ctx, s)).To(Succeed())
		for _, n := range []int32{1, 3, 5, 3, 1} {
			update(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.MongoDB.Members = ptr.To(n) })
			got := waitReady(ctx, s)
			Expect(got.Status.MongoDBMembers).To(Equal(n))
			Expect(rs.Members()).To(Equal(int(n)))
			Eventually(func() int { return len(pods(ctx, s, "mongodb")) }).WithContext(ctx).Should(Equal(int(n)), "pods for %d members", n)
			want := make([]string, n)
			for i := range want {
				want[i] = fmt.Sprintf("data-rs-mongodb-%d", i)
			}
			Eventually(func() []string { return claims(ctx, s) }).WithContext(ctx).Should(Equal(want),
				"the operator deletes the claims of the members it removed from the set")
		}
		mu.Lock()
		defer mu.Unlock()
		Expect(violations).To(BeEmpty())
	}, SpecTimeout(8*time.Minute))

	It("rolls the API to a new image through a new ReplicaSet, within the Deployment's surge", func(ctx SpecContext) {
		s := stack(ctx, "roll")
		s.Spec.API.Replicas = ptr.To(int32(4))
		s.Spec.API.PodDisruptionBudget = &ugcv1.PodDisruptionBudgetSpec{MaxUnavailable: 1}
		Expect(k8s.Create(ctx, s)).To(Succeed())
		waitReady(ctx, s)
		update(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.API.Image = "ghcr.io/ugcstack/ugc:2" })
		// Available pods must not fall below replicas - maxUnavailable
		// (25% of 4 rounds down to 1) while the rollout runs.
		Eventually(func(g Gomega) {
			d := deployment(ctx, s, "roll-api")
			g.Expect(d.Status.AvailableReplicas).To(BeNumerically(">=", 3), "rollout took too many pods down")
			running := pods(ctx, s, "api")
			g.Expect(running).To(HaveLen(4))
			for _, p := range running {
				g.Expect(p.Spec.Containers[0].Image).To(Equal("ghcr.io/ugcstack/ugc:2"), p.Name)
			}
		}).WithContext(ctx).Should(Succeed())
		var sets appsv1.ReplicaSetList
		Expect(k8s.List(ctx, &sets, client.InNamespace(s.Namespace))).To(Succeed())
		Expect(sets.Items).To(HaveLen(2), "one ReplicaSet per image")
		for _, rs := range sets.Items {
			want := int32(0)
			if rs.Spec.Template.Spec.Containers[0].Image == "ghcr.io/ugcstack/ugc:2" {
				want = 4
			}
			Expect(ptr.Deref(rs.Spec.Replicas, -1)).To(Equal(want), rs.Name)
		}
		waitReady(ctx, s)
	}, SpecTimeout(5*time.Minute))

	It("keeps the API's replica count when autoscaling is turned on, until the autoscaler changes it", func(ctx SpecContext) {
		s := stack(ctx, "hpa")
		s.Spec.API.Replicas = ptr.To(int32(3))
		Expect(k8s.Create(ctx, s)).To(Succeed())
		waitReady(ctx, s)
		update(ctx, s, func(s *ugcv1.UGCStack) {
			s.Spec.API.Autoscaling = &ugcv1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 6, TargetCPUUtilizationPercentage: 70}
		})
		// The autoscaler has looked at the Deployment once it reports
		// conditions; with no metrics server it leaves 3 (within 2..6).
		Eventually(func() int {
			var h autoscalingv2.HorizontalPodAutoscaler
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: "hpa-api"}, &h); err != nil {
				return 0
			}
			return len(h.Status.Conditions)
		}).WithContext(ctx).ShouldNot(BeZero())
		waitReady(ctx, s)
		Expect(ptr.Deref(deployment(ctx, s, "hpa-api").Spec.Replicas, -1)).To(Equal(int32(3)))
		Expect(pods(ctx, s, "api")).To(HaveLen(3))
	}, SpecTimeout(5*time.Minute))

	DescribeTable("grows a component's volumes: each claim expanded, the StatefulSet created again around the same pods; refuses a shrink",
		func(ctx SpecContext, c growCase) {
			class := expandableVolumes(ctx, c.name, len(c.claims)+c.others)
			s := stack(ctx, "grow-"+c.name)
			c.setup(s, ugcv1.StorageSpec{Size: resource.MustParse("10Gi"), StorageClassName: ptr.To(class)})
			Expect(k8s.Create(ctx, s)).To(Succeed())
			waitReady(ctx, s)
			podUIDs := map[string]types.UID{}
			for _, p := range pods(ctx, s, c.component) {
				podUIDs[p.Name] = p.UID
			}
			Expect(podUIDs).To(HaveLen(len(c.claims)))
			var old appsv1.StatefulSet
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: c.statefulSet(s)}, &old)).To(Succeed())

			update(ctx, s, func(s *ugcv1.UGCStack) { c.storage(s).Size = resource.MustParse("20Gi") })
			Eventually(func(g Gomega) {
				for _, name := range c.claims {
					var pvc corev1.PersistentVolumeClaim
					g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: fmt.Sprintf(name, s.Name)}, &pvc)).To(Succeed())
					g.Expect(pvc.Spec.Resources.Requests.Storage().String()).To(Equal("20Gi"), pvc.Name)
				}
			}).WithContext(ctx).Should(Succeed(), "each claim asks for the new size")
			Eventually(func(g Gomega) {
				var sts appsv1.StatefulSet
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(&old), &sts)).To(Succeed())
				g.Expect(sts.UID).NotTo(Equal(old.UID), "created again")
				g.Expect(sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String()).To(Equal("20Gi"))
			}).WithContext(ctx).Should(Succeed())
			waitReady(ctx, s)
			for _, p := range pods(ctx, s, c.component) {
				Expect(p.UID).To(Equal(podUIDs[p.Name]), "pod %s was adopted, not replaced", p.Name)
			}

			err := commontest.RefusedUpdate(ctx, k8s, s, func(s *ugcv1.UGCStack) { c.storage(s).Size = resource.MustParse("15Gi") })
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring(c.component + ".storage may only grow"))
		},
		Entry("MongoDB, three members", growCase{
			name: "mongodb", component: "mongodb", claims: []string{"data-%s-mongodb-0", "data-%s-mongodb-1", "data-%s-mongodb-2"},
			setup: func(s *ugcv1.UGCStack, st ugcv1.StorageSpec) {
				fakes.Of(members.Hosts(s, 3))
				s.Spec.MongoDB.Members, s.Spec.MongoDB.Storage = ptr.To(int32(3)), st
			},
			storage:     func(s *ugcv1.UGCStack) *ugcv1.StorageSpec { return &s.Spec.MongoDB.Storage },
			statefulSet: members.Name,
		}, SpecTimeout(4*time.Minute)),
		Entry("ClickHouse, one shard of two replicas", growCase{
			name: "clickhouse", component: "clickhouse", claims: []string{"data-%s-clickhouse-s0-0", "data-%s-clickhouse-s0-1"}, others: 3,
			setup: func(s *ugcv1.UGCStack, st ugcv1.StorageSpec) {
				s.Spec.ClickHouse = ugcv1.ClickHouseSpec{Enabled: true, Shards: 1, Replicas: 2, Storage: st}
			},
			storage:     func(s *ugcv1.UGCStack) *ugcv1.StorageSpec { return &s.Spec.ClickHouse.Storage },
			statefulSet: func(s *ugcv1.UGCStack) string { return common.ClickHouseShardName(s, 0) },
		}, SpecTimeout(4*time.Minute)),
	)

	It("names the stuck pod and the scheduler's reason for a claim no volume can bind", func(ctx SpecContext) {
		s := stack(ctx, "stuck")
		s.Spec.MongoDB.Storage = ugcv1.StorageSpec{Size: resource.MustParse("1Gi"), StorageClassName: ptr.To("no-such-class")}
		Expect(k8s.Create(ctx, s)).To(Succeed())
		cond := func() string {
			var got ugcv1.UGCStack
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), &got); err != nil {
				return err.Error()
			}
			c := meta.FindStatusCondition(got.Status.Conditions, ugcv1.ConditionMongoDBReady)
			if c == nil {
				return ""
			}
			return c.Reason + ": " + c.Message
		}
		// The real scheduler and volume binder decide; the operator only
		// reads what they wrote on the pod and the claim.
		Eventually(cond).WithContext(ctx).Should(And(
			HavePrefix(ugcv1.ReasonPodsStuck+": "),
			ContainSubstring("pod stuck-mongodb-0: claim data-stuck-mongodb-0 is Pending"),
			ContainSubstring("Unschedulable: ")))
	}, SpecTimeout(2*time.Minute))

	DescribeTable("is deleted: the garbage collector takes every child and pod, the volumes and the Secrets their data needs follow deletePolicy",
		func(ctx SpecContext, policy string) {
			s := stack(ctx, "gone")
			s.Spec.MongoDB.Members = ptr.To(int32(3))
			s.Spec.MongoDB.DeletePolicy = policy
			s.Spec.ClickHouse = ugcv1.ClickHouseSpec{Enabled: true, Shards: 1, Replicas: 2, DeletePolicy: policy}
			s.Spec.Gateway.Enabled = true
			Expect(k8s.Create(ctx, s)).To(Succeed())
			waitReady(ctx, s)
			Expect(claims(ctx, s)).To(HaveLen(3))
			Eventually(func() int { return len(allClaims(ctx, s)) }).WithContext(ctx).Should(Equal(3+2+3), "MongoDB's, the servers' and Keeper's")
			admin := secretData(ctx, s, members.AdminSecretName(s))
			Expect(k8s.Delete(ctx, s)).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(s), &ugcv1.UGCStack{}))
			}).WithContext(ctx).Should(BeTrue(), "the finalizer let the deletion through")
			// Retained: the keyfile and both users' credentials, unowned.
			kept := 0
			if policy == "Retain" {
				kept = 3
			}
			Eventually(func(g Gomega) {
				for _, l := range []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &corev1.ServiceList{}, &corev1.ConfigMapList{}, &corev1.PodList{}} {
					g.Expect(k8s.List(ctx, l, client.InNamespace(s.Namespace), client.MatchingLabels{"app.kubernetes.io/instance": s.Name})).To(Succeed())
					g.Expect(meta.LenList(l)).To(BeZero(), "%T", l)
				}
				var secrets corev1.SecretList
				g.Expect(k8s.List(ctx, &secrets, client.InNamespace(s.Namespace), client.MatchingLabels{"app.kubernetes.io/instance": s.Name})).To(Succeed())
				g.Expect(secrets.Items).To(HaveLen(kept))
				for _, sec := range secrets.Items {
					g.Expect(sec.OwnerReferences).To(BeEmpty(), sec.Name)
				}
			}).WithContext(ctx).Should(Succeed())
			if policy == "Delete" {
				Eventually(func() []string { return allClaims(ctx, s) }).WithContext(ctx).Should(BeEmpty())
				return
			}
			Consistently(func() []string { return allClaims(ctx, s) }).WithContext(ctx).WithTimeout(5 * time.Second).Should(HaveLen(8))

			// Re-created on the retained volumes, the stack adopts the
			// Secrets and logs in as the root user the first start made:
			// the simulated set refuses any other password.
			again := stack(ctx, s.Name)
			again.Namespace = s.Namespace
			again.Spec = s.Spec
			Expect(k8s.Create(ctx, again)).To(Succeed())
			waitReady(ctx, again)
			Expect(secretData(ctx, again, members.AdminSecretName(again))).To(Equal(admin))
		},
		Entry("deletePolicy Delete", "Delete", SpecTimeout(5*time.Minute)),
		Entry("deletePolicy Retain, then re-created on the volumes", "Retain", SpecTimeout(6*time.Minute)),
	)
})

// allClaims names every live claim of the stack's components.
func allClaims(ctx context.Context, s *ugcv1.UGCStack) []string {
	var list corev1.PersistentVolumeClaimList
	Expect(k8s.List(ctx, &list, client.InNamespace(s.Namespace), client.MatchingLabels{"app.kubernetes.io/instance": s.Name})).To(Succeed())
	var names []string
	for _, c := range list.Items {
		if c.DeletionTimestamp == nil {
			names = append(names, c.Name)
		}
	}
	return names
}

func secretData(ctx context.Context, s *ugcv1.UGCStack, name string) map[string][]byte {
	var sec corev1.Secret
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, &sec)).To(Succeed())
	return sec.Data
}

// growCase is one component whose volumes grow.
type growCase struct {
	name, component string
	claims          []string // Sprintf patterns of the stack's name
	others          int      // more claims of the class that do not grow (Keeper's)
	setup           func(*ugcv1.UGCStack, ugcv1.StorageSpec)
	storage         func(*ugcv1.UGCStack) *ugcv1.StorageSpec
	statefulSet     func(*ugcv1.UGCStack) string
}

// expandableVolumes makes a StorageClass that allows expansion, and n
// volumes of it for the binder: the API server's resize admission refuses
// a claim of any other class.
func expandableVolumes(ctx context.Context, name string, n int) string {
	class := &storagev1.StorageClass{
		ObjectMeta:           metav1.ObjectMeta{Name: "expandable-" + name},
		Provisioner:          "kubernetes.io/no-provisioner",
		AllowVolumeExpansion: ptr.To(true),
	}
	Expect(k8s.Create(ctx, class)).To(Succeed())
	for i := range n {
		Expect(k8s.Create(ctx, &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pv-%s-%d", class.Name, i)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				StorageClassName:              class.Name,
				PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: fmt.Sprintf("/tmp/pv-%s-%d", class.Name, i)}},
			},
		})).To(Succeed())
	}
	return class.Name
}
