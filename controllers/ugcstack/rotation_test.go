package ugcstack

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/mongodb/members"
	"github.com/ugcstack/ugcstack/controllers/relay"
)

// secretsHash reads a workload's pod-template digest of its Secrets.
func secretsHash(ctx context.Context, ns, name string, obj client.Object) func() string {
	return func() string {
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return ""
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			return o.Spec.Template.Annotations[common.SecretsHashAnnotation]
		case *appsv1.StatefulSet:
			return o.Spec.Template.Annotations[common.SecretsHashAnnotation]
		}
		return ""
	}
}

var _ = Describe("A rotated Secret", func() {
	It("rolls the pods that read it, and only those", func() {
		ctx := context.Background()
		ns := namespace(ctx)
		jwt := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "jwt"}, StringData: map[string]string{"secret": "a-thirty-two-byte-long-hs256-secret"}}
		Expect(k8s.Create(ctx, jwt)).To(Succeed())
		s := newStack(ns, "rot")
		s.Spec.ClickHouse = ugcv1.ClickHouseSpec{Enabled: true, Shards: 1, Replicas: 1}
		Expect(k8s.Create(ctx, s)).To(Succeed())
		apiHash := secretsHash(ctx, ns, common.APIName(s), &appsv1.Deployment{})
		relayHash := secretsHash(ctx, ns, relay.Name(s), &appsv1.Deployment{})
		serverHash := secretsHash(ctx, ns, common.ClickHouseShardName(s, 0), &appsv1.StatefulSet{})
		for _, h := range []func() string{apiHash, relayHash, serverHash} {
			Eventually(h).ShouldNot(BeEmpty())
		}
		api, rel, server := apiHash(), relayHash(), serverHash()

		By("the operator's ClickHouse password: the servers and the relay roll, the API does not")
		var auth corev1.Secret
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: common.ClickHouseAuthSecretName(s)}, &auth)).To(Succeed())
		auth.Data["password"] = []byte("rotated-by-a-person-0123456789")
		Expect(k8s.Update(ctx, &auth)).To(Succeed())
		Eventually(serverHash).ShouldNot(Equal(server))
		Eventually(relayHash).ShouldNot(Equal(rel))
		Consistently(apiHash, "1s").Should(Equal(api))
		rel = relayHash()

		By("a person's JWT secret, then the stack touched: the API rolls, the relay does not")
		jwt.StringData = map[string]string{"secret": "another-thirty-two-byte-hs256-secret"}
		Expect(k8s.Update(ctx, jwt)).To(Succeed())
		updateStack(ctx, s, func(s *ugcv1.UGCStack) {
			s.Annotations = map[string]string{"ugc.ugcstack.io/rotated": "1"}
		})
		Eventually(apiHash).ShouldNot(Equal(api))
		Consistently(relayHash, "1s").Should(Equal(rel))
		api = apiHash()

		By("the MongoDB app password: given to the other user, the URI turned to it, and both clients roll")
		readyMongoPods(ctx, s, 1)
		rs := fakeRSs.Of(members.Hosts(s, 1))
		password := func(user string) func() string {
			return func() string { u, _ := rs.User(user); return u.Password }
		}
		Eventually(password(members.AppUser)).ShouldNot(BeEmpty())
		first := password(members.AppUser)()
		var app corev1.Secret
		appKey := client.ObjectKey{Namespace: ns, Name: common.MongoAppSecretName(s)}
		Expect(k8s.Get(ctx, appKey, &app)).To(Succeed())
		// A pod of the API made before the rotation, still running: it
		// opens new connections as ugc with the first password.
		old := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api-before", Labels: common.Labels(s, common.ComponentAPI)},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "ugc", Image: "ugc"}},
				Volumes:    []corev1.Volume{{Name: "app", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: app.Name}}}},
			},
		}
		Expect(k8s.Create(ctx, old)).To(Succeed())
		app.Data["password"] = []byte("rotated-app-password-0123456789")
		Expect(k8s.Update(ctx, &app)).To(Succeed())
		Eventually(password(members.AppUserAlt)).Should(Equal("rotated-app-password-0123456789"))
		Eventually(func() string {
			_ = k8s.Get(ctx, appKey, &app)
			return string(app.Data["uri"])
		}).Should(ContainSubstring("://" + members.AppUserAlt + ":rotated-app-password-0123456789@"))
		Expect(string(app.Data["username"])).To(Equal(members.AppUserAlt))
		Eventually(apiHash).ShouldNot(Equal(api))
		Eventually(relayHash).ShouldNot(Equal(rel))
		Consistently(password(members.AppUser), "2s").Should(Equal(first), "a pod made before the rotation may still log in")

		By("a second rotation waits while that pod runs")
		app.Data["password"] = []byte("rotated-again-password-0123456789")
		Expect(k8s.Update(ctx, &app)).To(Succeed())
		Consistently(password(members.AppUser), "2s").Should(Equal(first))

		By("once it is gone, the first user's password is one nobody knows, then the second rotation turns back to it")
		Expect(k8s.Delete(ctx, old)).To(Succeed())
		Eventually(password(members.AppUser), "30s").Should(Equal("rotated-again-password-0123456789"))
		Eventually(func() string {
			_ = k8s.Get(ctx, appKey, &app)
			return string(app.Data["username"])
		}).Should(Equal(members.AppUser))
		Eventually(password(members.AppUserAlt), "30s").ShouldNot(Equal("rotated-app-password-0123456789"),
			"no pod reads the Secret as it was, so the user it turned away from is retired")
	})

	It("rolls no pod when the operator is upgraded from one that set no digest, and rolls on the first rotation after", func() {
		ctx := context.Background()
		ns := namespace(ctx)
		jwt := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "jwt"}, StringData: map[string]string{"secret": "a-thirty-two-byte-long-hs256-secret"}}
		Expect(k8s.Create(ctx, jwt)).To(Succeed())
		s := newStack(ns, "older")
		Expect(k8s.Create(ctx, s)).To(Succeed())
		apiHash := secretsHash(ctx, ns, common.APIName(s), &appsv1.Deployment{})
		Eventually(apiHash).ShouldNot(BeEmpty())

		By("the Deployment as an older operator left it: no digest recorded, none on the template")
		// A reconcile already running from a cache that has not seen the
		// strip puts both back, as it should for a workload it made: strip
		// again until the operator has seen the older operator's state.
		Eventually(func() string {
			Eventually(func() error {
				var d appsv1.Deployment
				if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: common.APIName(s)}, &d); err != nil {
					return err
				}
				delete(d.Annotations, common.SecretsHashAnnotation)
				delete(d.Spec.Template.Annotations, common.SecretsHashAnnotation)
				return k8s.Update(ctx, &d)
			}).Should(Succeed())
			time.Sleep(time.Second)
			return apiHash()
		}, "20s").Should(BeEmpty())
		recorded := func() string {
			var d appsv1.Deployment
			_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: common.APIName(s)}, &d)
			return d.Annotations[common.SecretsHashAnnotation]
		}
		Eventually(recorded).ShouldNot(BeEmpty(), "the new operator records the digest")
		Consistently(apiHash, "1s").Should(BeEmpty(), "and leaves the pods as they run")

		By("the first rotation rolls them")
		jwt.StringData = map[string]string{"secret": "another-thirty-two-byte-hs256-secret"}
		Expect(k8s.Update(ctx, jwt)).To(Succeed())
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Annotations = map[string]string{"ugc.ugcstack.io/rotated": "1"} })
		Eventually(apiHash).ShouldNot(BeEmpty())
	})
})
