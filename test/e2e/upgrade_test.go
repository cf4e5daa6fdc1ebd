package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// The upgrade specs run in two phases of one workflow job (e2e.yml,
// upgrade): "before" against the previous release's chart and operator,
// "after" once this tree's CRDs are applied and the chart upgraded, as the
// chart's README says. UGC_E2E_UPGRADE names the phase; the other specs
// skip them.
var (
	upgradePhase = os.Getenv("UGC_E2E_UPGRADE")
	// upgradeStarted is when the workflow began the upgrade (RFC 3339).
	upgradeStarted = os.Getenv("UGC_E2E_UPGRADE_STARTED")
	// operatorImage is the image the upgraded chart runs.
	operatorImage = os.Getenv("UGC_E2E_OPERATOR_IMAGE")
)

const (
	upgradeNamespace = "ugc-e2e-upgrade"
	upgradeWrites    = 20
)

// upgradeFilm is the i-th film the before phase rates, the same in both
// phases.
func upgradeFilm(i int) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "https://ugcstack.io/e2e/upgrade/%d", i)).String()
}

var _ = Describe("helm upgrade from the previous release", Label("upgrade"), func() {
	It("before: runs a stack with data on the previous chart and operator", Label("upgrade-before"), func(ctx SpecContext) {
		if upgradePhase != "before" {
			Skip("UGC_E2E_UPGRADE is not before: the upgrade job runs this phase")
		}
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: upgradeNamespace}})).To(Succeed())
		Expect(k8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: jwtSecretName, Namespace: upgradeNamespace},
			Data:       map[string][]byte{"secret": []byte(rand.String(48))},
		})).To(Succeed())
		s := newStack(upgradeNamespace, "up", "Retain", false, false)
		Expect(k8s.Create(ctx, s)).To(Succeed())
		waitReady(ctx, s)
		api, stop := upgradeAPI(s)
		defer stop()
		token := mint(jwtSecret(ctx, s), uuid.NameSpaceOID)
		for i := range upgradeWrites {
			api.expect(ctx, http.MethodPut, "/api/v1/films/"+upgradeFilm(i)+"/rating", token, map[string]any{"score": i % 11}, http.StatusOK, nil)
		}
	}, SpecTimeout(20*time.Minute))

	It("after: the stack stays Ready under the new operator, with every write", Label("upgrade-after"), func(ctx SpecContext) {
		if upgradePhase != "after" {
			Skip("UGC_E2E_UPGRADE is not after: the upgrade job runs this phase")
		}
		Expect(operatorImage).NotTo(BeEmpty(), "UGC_E2E_OPERATOR_IMAGE")
		started, err := time.Parse(time.RFC3339, upgradeStarted)
		Expect(err).NotTo(HaveOccurred(), "UGC_E2E_UPGRADE_STARTED")
		var operators appsv1.DeploymentList
		Expect(k8s.List(ctx, &operators, client.InNamespace("ugcstack-system"))).To(Succeed())
		Expect(operators.Items).To(HaveLen(1))
		Expect(operators.Items[0].Spec.Template.Spec.Containers[0].Image).To(Equal(operatorImage), "the chart runs the new operator")

		s := &ugcv1.UGCStack{ObjectMeta: metav1.ObjectMeta{Namespace: upgradeNamespace, Name: "up"}}
		got := waitReady(ctx, s)
		ready := meta.FindStatusCondition(got.Status.Conditions, ugcv1.ConditionReady)
		Expect(ready.LastTransitionTime.Time).To(BeTemporally("<", started), "Ready changed during the upgrade: %s", describe(got.Status.Conditions))

		By("the new operator reconciles a change to the stack")
		Eventually(func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), got); err != nil {
				return err
			}
			got.Spec.API.LogLevel = "debug"
			return k8s.Update(ctx, got)
		}).WithContext(ctx).Should(Succeed())
		waitReady(ctx, s)

		api, stop := upgradeAPI(s)
		defer stop()
		for i := range upgradeWrites {
			var summary ugc.FilmSummary
			api.expect(ctx, http.MethodGet, "/api/v1/films/"+upgradeFilm(i)+"/summary", "", nil, http.StatusOK, &summary)
			Expect(summary.Count).To(Equal(int64(1)), "film %d's rating, written before the upgrade", i)
			Expect(*summary.Average).To(BeNumerically("==", i%11))
		}
		token := mint(jwtSecret(ctx, s), uuid.NameSpaceOID)
		api.expect(ctx, http.MethodPut, "/api/v1/films/"+upgradeFilm(upgradeWrites)+"/rating", token, map[string]any{"score": 3}, http.StatusOK, nil)
	}, SpecTimeout(10*time.Minute))
})

// upgradeAPI forwards to the stack's API Service until the returned
// function is called.
func upgradeAPI(s *ugcv1.UGCStack) (*apiClient, func()) {
	fwd, cancel := context.WithCancel(context.Background())
	addr, err := forwardService(fwd, s.Namespace, s.Name+"-api", 80)
	Expect(err).NotTo(HaveOccurred())
	return &apiClient{base: "http://" + addr}, cancel
}
