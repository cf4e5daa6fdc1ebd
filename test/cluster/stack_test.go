package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common/commontest"
	"github.com/ugcstack/ugcstack/controllers/logging"
)

// sample reads one of config/samples into a fresh namespace.
func sample(ctx context.Context, file string) *ugcv1.UGCStack {
	b, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", file))
	Expect(err).NotTo(HaveOccurred())
	s := &ugcv1.UGCStack{}
	Expect(yaml.UnmarshalStrict(b, s)).To(Succeed())
	s.Namespace = namespace(ctx)
	return s
}

func namespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "sim-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// waitReady waits until the stack is Ready for its current generation.
func waitReady(ctx context.Context, s *ugcv1.UGCStack) *ugcv1.UGCStack {
	got := &ugcv1.UGCStack{}
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), got)).To(Succeed())
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, ugcv1.ConditionReady)).To(BeTrue(), "%v", got.Status.Conditions)
	}).WithContext(ctx).Should(Succeed())
	return got
}

// update applies mutate to the current stack, retrying on conflicts.
func update(ctx context.Context, s *ugcv1.UGCStack, mutate func(*ugcv1.UGCStack)) {
	Eventually(commontest.UpdateStack(ctx, k8s, s, mutate)).WithContext(ctx).Should(Succeed())
}

// pods lists the running, not terminating pods of one component.
func pods(ctx context.Context, s *ugcv1.UGCStack, component string) []corev1.Pod {
	var list corev1.PodList
	Expect(k8s.List(ctx, &list, client.InNamespace(s.Namespace), client.MatchingLabels{
		"app.kubernetes.io/instance": s.Name, "app.kubernetes.io/component": component,
	})).To(Succeed())
	return slices.DeleteFunc(list.Items, func(p corev1.Pod) bool {
		return p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning
	})
}

func claims(ctx context.Context, s *ugcv1.UGCStack) []string {
	var list corev1.PersistentVolumeClaimList
	Expect(k8s.List(ctx, &list, client.InNamespace(s.Namespace))).To(Succeed())
	var names []string
	for _, c := range list.Items {
		if c.DeletionTimestamp == nil && strings.HasPrefix(c.Name, "data-"+s.Name+"-mongodb-") {
			names = append(names, c.Name)
		}
	}
	slices.Sort(names)
	return names
}

var _ = Describe("The samples on a simulated cluster", func() {
	It("take every workload to Running pods and Ready, the logging setup Job included", func(ctx SpecContext) {
		minimal := sample(ctx, "ugc_v1alpha1_ugcstack_minimal.yaml")
		prod := sample(ctx, "ugc_v1alpha1_ugcstack_production.yaml")
		Expect(k8s.Create(ctx, minimal)).To(Succeed())
		Expect(k8s.Create(ctx, prod)).To(Succeed())

		By("ECK runs the logging stack; the Elasticsearch health only a running Elasticsearch gives is the test's")
		elasticsearchServes(ctx, prod)

		for _, s := range []*ugcv1.UGCStack{minimal, prod} {
			got := waitReady(ctx, s)
			Expect(got.Status.MongoDBMembers).To(Equal(ptr.Deref(s.Spec.MongoDB.Members, 1)))
		}
		By("what the cluster did: pods Running for every workload, the setup Job complete")
		for _, c := range []struct {
			component string
			want      int
		}{{"api", 3}, {"mongodb", 3}, {"clickhouse", 4}, {"clickhouse-keeper", 3}, {"relay", 1}, {"gateway", 2}} {
			Expect(pods(ctx, prod, c.component)).To(HaveLen(c.want), c.component)
		}
		Expect(pods(ctx, minimal, "api")).To(HaveLen(2))
		Expect(pods(ctx, minimal, "mongodb")).To(HaveLen(1))
		var jobs batchv1.JobList
		Expect(k8s.List(ctx, &jobs, client.InNamespace(prod.Namespace))).To(Succeed())
		Expect(jobs.Items).To(HaveLen(1))
		Expect(jobs.Items[0].Status.Succeeded).To(Equal(int32(1)), "kwok completed the setup Job's pod")
		Expect(claims(ctx, prod)).To(HaveLen(3))
		for s, want := range map[*ugcv1.UGCStack]int{prod: 4, minimal: 3} {
			var policies networkingv1.NetworkPolicyList
			Expect(k8s.List(ctx, &policies, client.InNamespace(s.Namespace))).To(Succeed())
			Expect(policies.Items).To(HaveLen(want), "NetworkPolicies of %s, accepted by the API server", s.Name)
		}

		By("Filebeat's account reads the pods of its stack's namespace, and nothing else")
		account := "system:serviceaccount:" + prod.Namespace + ":" + logging.FilebeatName(prod)
		for _, c := range []struct {
			namespace, verb, resource string
			allowed                   bool
		}{
			{prod.Namespace, "list", "pods", true},
			{prod.Namespace, "watch", "pods", true},
			{minimal.Namespace, "list", "pods", false},
			{"", "get", "nodes", false},
			{"", "get", "namespaces", false},
		} {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: account, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + prod.Namespace, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: c.namespace, Verb: c.verb, Resource: c.resource},
			}}
			Expect(k8s.Create(ctx, sar)).To(Succeed())
			Expect(sar.Status.Allowed).To(Equal(c.allowed), "%s %s in %q", c.verb, c.resource, c.namespace)
		}
	}, SpecTimeout(6*time.Minute))
})

var _ = Describe("The chart on a cluster", func() {
	It("refuses an upgrade over CRDs older than its own, saying how to apply them", func(ctx SpecContext) {
		render := func() (string, error) {
			cmd := exec.CommandContext(ctx, os.Getenv("UGC_HELM"), "template", release, "../../charts/ugcstack",
				"--namespace", releaseNamespace, "--dry-run=server", "--kubeconfig", kubeconfig)
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		out, err := render()
		Expect(err).NotTo(HaveOccurred(), "the chart's own CRDs are installed: %s", out)

		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "ugcstacks.ugc.ugcstack.io"}, crd)).To(Succeed())
		current := crd.Annotations["ugc.ugcstack.io/schema-digest"]
		Expect(current).NotTo(BeEmpty())
		setDigest := func(ctx context.Context, d string) {
			Eventually(func() error {
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(crd), crd); err != nil {
					return err
				}
				crd.Annotations["ugc.ugcstack.io/schema-digest"] = d
				return k8s.Update(ctx, crd)
			}).WithContext(ctx).Should(Succeed())
		}
		setDigest(ctx, "0123456789abcdef") // as an older release left it
		DeferCleanup(func(ctx SpecContext) { setDigest(ctx, current) })
		out, err = render()
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("kubectl apply --server-side -f charts/ugcstack/crds/"))
	}, SpecTimeout(time.Minute))
})
