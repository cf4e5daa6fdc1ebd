package ugcstack

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/clickhouse"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/mongodb/members"
)

// claim makes the claim a StatefulSet controller would for a component's
// template, labelled from the template and the selector: envtest runs no
// StatefulSet controller.
func claim(ctx context.Context, s *ugcv1.UGCStack, component, name string) {
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.Namespace, Labels: common.Labels(s, component)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	Expect(k8s.Create(ctx, pvc)).To(Succeed())
}

// expectClaimsDeleted expects the claims to be deleted, or to stay. Deleted
// means gone or marked: the pvc-protection finalizer, which no controller
// removes here, keeps a deleted claim.
func expectClaimsDeleted(ctx context.Context, ns string, names []string, deleted bool) {
	for _, name := range names {
		marked := func() bool {
			var got corev1.PersistentVolumeClaim
			err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &got)
			return apierrors.IsNotFound(err) || (err == nil && !got.DeletionTimestamp.IsZero())
		}
		if deleted {
			Eventually(marked).Should(BeTrue(), name)
		} else {
			Consistently(marked, "500ms").Should(BeFalse(), name)
		}
	}
}

func secretPassword(ctx context.Context, ns, name string) func() string {
	return func() string {
		var sec corev1.Secret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sec); err != nil {
			return ""
		}
		return string(sec.Data["password"])
	}
}

var _ = Describe("What retained data needs", func() {
	var ctx context.Context
	BeforeEach(func() { ctx = context.Background() })

	// The official image creates the root user from MONGO_INITDB_ROOT_*
	// only when the data directory holds no database yet
	// (docker-library/mongo docker-entrypoint.sh: user creation is skipped
	// once "$dbPath/WiredTiger" exists), so a new admin password over a
	// claim that holds data can never log in.
	It("makes a lost admin password again only while no claim holds a database", func() {
		ns := namespace(ctx)
		s := newStack(ns, "lost")
		Expect(k8s.Create(ctx, s)).To(Succeed())
		admin := members.AdminSecretName(s)
		Eventually(secretPassword(ctx, ns, admin)).ShouldNot(BeEmpty())
		first := secretPassword(ctx, ns, admin)()

		By("no claim: a new stack's Secret is made again")
		Expect(k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: admin}})).To(Succeed())
		Eventually(secretPassword(ctx, ns, admin)).ShouldNot(Or(BeEmpty(), Equal(first)))
		second := secretPassword(ctx, ns, admin)()

		By("a claim holds the database: the stack says what is lost and makes nothing")
		claim(ctx, s, common.ComponentMongoDB, "data-lost-mongodb-0")
		var orig corev1.Secret
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: admin}, &orig)).To(Succeed())
		Expect(k8s.Delete(ctx, &orig)).To(Succeed())
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(And(
			haveStatus(metav1.ConditionFalse, ugcv1.ReasonCredentialsLost),
			HaveField("Message", And(ContainSubstring(admin), ContainSubstring("data-lost-mongodb-0")))))
		Consistently(exists(ctx, ns, admin, &corev1.Secret{}), "1s").Should(BeFalse())

		By("restored from a backup, bare of the operator's labels: adopted as it is")
		Expect(k8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: admin},
			Data:       map[string][]byte{"username": orig.Data["username"], "password": orig.Data["password"]},
		})).To(Succeed())
		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).ShouldNot(HaveField("Reason", ugcv1.ReasonCredentialsLost))
		Expect(secretPassword(ctx, ns, admin)()).To(Equal(second))
		Eventually(func() string {
			var sec corev1.Secret
			_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: admin}, &sec)
			return string(sec.Data["uri"])
		}).Should(ContainSubstring(string(orig.Data["username"])+":"), "the URI is written back beside the restored password")
	})

	It("releases a Secret an earlier operator made the stack's child", func() {
		ns := namespace(ctx)
		s := newStack(ns, "older")
		Expect(k8s.Create(ctx, s)).To(Succeed())
		Eventually(exists(ctx, ns, members.KeyfileSecretName(s), &corev1.Secret{})).Should(BeTrue())
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
		for _, name := range retainedSecrets(s) {
			var sec corev1.Secret
			Eventually(exists(ctx, ns, name, &sec)).Should(BeTrue(), name)
			sec.OwnerReferences = []metav1.OwnerReference{{
				APIVersion: ugcv1.GroupVersion.String(), Kind: "UGCStack", Name: s.Name, UID: s.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}}
			Expect(k8s.Update(ctx, &sec)).To(Succeed(), name)
		}
		for _, name := range retainedSecrets(s) {
			Eventually(func() []metav1.OwnerReference {
				var sec corev1.Secret
				_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sec)
				return sec.OwnerReferences
			}).Should(BeEmpty(), name)
		}
	})

	DescribeTable("deletes ClickHouse's volumes with what no longer runs only under deletePolicy Delete",
		func(policy string) {
			ns := namespace(ctx)
			s := newStack(ns, "chv")
			s.Spec.ClickHouse = ugcv1.ClickHouseSpec{Enabled: true, Shards: 1, Replicas: 2, DeletePolicy: policy}
			Expect(k8s.Create(ctx, s)).To(Succeed())
			Eventually(exists(ctx, ns, clickhouse.KeeperName(s), &corev1.Service{})).Should(BeTrue())
			servers := []string{"data-chv-clickhouse-s0-0", "data-chv-clickhouse-s0-1"}
			var keeper []string
			for _, name := range servers {
				claim(ctx, s, common.ComponentClickHouse, name)
			}
			for i := range 3 {
				keeper = append(keeper, fmt.Sprintf("data-%s-%d", clickhouse.KeeperName(s), i))
				claim(ctx, s, common.ComponentKeeper, keeper[i])
			}
			del := policy == ugcv1.DeletePolicyDelete

			By("one server: Keeper no longer runs")
			updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.ClickHouse.Replicas = 1 })
			Eventually(exists(ctx, ns, clickhouse.KeeperName(s), &corev1.Service{})).Should(BeFalse())
			expectClaimsDeleted(ctx, ns, keeper, del)
			expectClaimsDeleted(ctx, ns, servers, false)

			By("external: the servers no longer run")
			updateStack(ctx, s, func(s *ugcv1.UGCStack) {
				s.Spec.ClickHouse.External = &ugcv1.ExternalClickHouse{DSNSecretRef: ugcv1.SecretKeyRef{Name: "ch", Key: "dsn"}}
			})
			expectClaimsDeleted(ctx, ns, servers, del)
		},
		Entry("Delete", ugcv1.DeletePolicyDelete),
		Entry("Retain, the default", ugcv1.DeletePolicyRetain),
	)
})
