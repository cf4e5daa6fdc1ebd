package controllers

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

var (
	k8s     client.Client
	testEnv *envtest.Environment
	cancel  context.CancelFunc
	fakeRS  = &fakeReplicaSet{}
)

func TestEnvtest(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Skip("KUBEBUILDER_ASSETS unset: `make test-operator` builds kube-apiserver and etcd and runs this suite")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "UGCStack controller (envtest)")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	testEnv = &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("..", "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	Expect(ugcv1.AddToScheme(scheme)).To(Succeed())
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	Expect(err).NotTo(HaveOccurred())
	r := &UGCStackReconciler{Client: mgr.GetClient(), Scheme: scheme, ReplicaSet: fakeRS.factory}
	Expect(r.SetupWithManager(mgr)).To(Succeed())
	var ctx context.Context
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	cancel()
	Expect(testEnv.Stop()).To(Succeed())
})

// fakeReplicaSet is an in-memory replica set: Initiate and Reconfig take
// effect at once, member 0 is primary and every member healthy.
type fakeReplicaSet struct {
	mu      sync.Mutex
	state   RSState
	actions []RSActionKind
}

func (f *fakeReplicaSet) factory(context.Context, *ugcv1.UGCStack, []string, string, string) (ReplicaSetClient, func(), error) {
	return f, func() {}, nil
}

func (f *fakeReplicaSet) GetState(context.Context) (RSState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state, nil
}

func (f *fakeReplicaSet) set(kind RSActionKind, cfg RSConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, kind)
	f.state = RSState{Initialized: true, Config: cfg}
	for i, m := range cfg.Members {
		st := "SECONDARY"
		if i == 0 {
			st = "PRIMARY"
		}
		f.state.Status = append(f.state.Status, RSMemberStatus{Host: m.Host, State: st, Healthy: true})
	}
}

func (f *fakeReplicaSet) Initiate(_ context.Context, cfg RSConfig) error {
	f.set(RSInitiate, cfg)
	return nil
}

func (f *fakeReplicaSet) Reconfig(_ context.Context, cfg RSConfig) error {
	f.set(RSReconfig, cfg)
	return nil
}
