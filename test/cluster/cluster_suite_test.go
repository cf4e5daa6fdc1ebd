// Package cluster runs the operator against a simulated cluster: envtest's
// kube-apiserver and etcd, with kube-controller-manager and kube-scheduler
// acting on what the operator writes (workload controllers, garbage
// collection, claim binding, Jobs) and kwok playing a node whose pods turn
// Running and Ready, and Jobs' pods Succeeded, without containers. The
// chart's CRDs and RBAC are installed as helm renders them, and the
// manager runs as the chart's ServiceAccount. What it cannot show: real
// containers (mongod, ClickHouse, Elasticsearch, the images' entrypoints),
// which only the kind e2e suite runs.
package cluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/logging/loggingtest"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset/replsettest"
	"github.com/ugcstack/ugcstack/controllers/ugcstack"
)

// The chart's release as the suite installs it.
const (
	release          = "ugcstack"
	releaseNamespace = "ugcstack-system"
)

var (
	// k8s is a cluster administrator: the test, and the parts of a cluster
	// the simulation lacks (ECK's status).
	k8s     client.Client
	scheme  = runtime.NewScheme()
	testEnv *envtest.Environment
	fakes   = &replsettest.Fakes{}
	// installed is the chart as the suite installed it.
	installed chart
	assets    string
)

func TestCluster(t *testing.T) {
	assets = os.Getenv("KUBEBUILDER_ASSETS")
	for _, f := range []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok", "kwok-stages.yaml"} {
		if _, err := os.Stat(filepath.Join(assets, f)); assets == "" || err != nil {
			t.Skipf("%s not in KUBEBUILDER_ASSETS (%q): `make test-cluster` builds the simulated cluster's binaries and runs this suite", f, assets)
		}
	}
	for _, f := range []string{"crds.yaml", "webhooks.yaml", "elastic-operator", "eck-webhook"} {
		if _, err := loggingtest.Asset(f); err != nil {
			t.Skip(err.Error())
		}
	}
	if os.Getenv("UGC_HELM") == "" {
		t.Skip("UGC_HELM unset: `make test-cluster` builds helm, which renders the chart's CRDs and RBAC")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "UGCStack on a simulated cluster")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	// Whole rollouts through several controllers, on two shared cores.
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	Expect(ugcv1.AddToScheme(scheme)).To(Succeed())

	chart := renderChart()
	installed = chart
	testEnv = &envtest.Environment{CRDs: chart.crds()}
	auditDir, err := os.MkdirTemp("", "ugc-audit-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, auditDir)
	enableAudit(testEnv, auditDir)
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(testEnv.Stop)
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	startCluster(ctx)
	addNode(ctx, "kwok-node-0")
	addVolumes(ctx, 100)
	chart.installRBAC(ctx)
	startECK(ctx)
	startManager(impersonating(cfg, chart.serviceAccount()))
}, NodeTimeout(5*time.Minute))

// impersonating is cfg acting as the ServiceAccount sa: the API server
// grants it exactly what the chart's RBAC grants.
func impersonating(cfg *rest.Config, sa string) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + releaseNamespace + ":" + sa,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNamespace, "system:authenticated"},
	}
	return c
}

// startManager runs the operator's manager in this process, as main.go
// wires it but with the simulated replica sets.
func startManager(cfg *rest.Config) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme, Cache: ugcstack.CacheOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
	})
	Expect(err).NotTo(HaveOccurred())
	Expect((&ugcstack.Reconciler{ConnectReplicaSet: fakes.Connect}).SetupWithManager(mgr)).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	DeferCleanup(func() {
		cancel()
		<-done
	})
}
