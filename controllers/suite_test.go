package controllers

import (
	"context"
	"fmt"
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
	fakeRSs = &fakeReplicaSets{}
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
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Cache: CacheOptions(), Metrics: metricsserver.Options{BindAddress: "0"}})
	Expect(err).NotTo(HaveOccurred())
	r := &UGCStackReconciler{Client: mgr.GetClient(), Scheme: scheme, ReplicaSet: fakeRSs.factory}
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

// fakeReplicaSets stands in for the MongoDB driver client behind the
// ReplicaSetClient interface: no MongoDB server can run on this machine (see
// ../shared/MACHINE.md), so the envtest suite checks what the controller
// sends and when, against one simulated replica set per stack whose
// commands take effect at once and which, like mongod, refuses a reconfig
// or step-down sent to a member that is not primary.
type fakeReplicaSets struct {
	mu   sync.Mutex
	sets map[string]*fakeRS
}

type fakeRS struct {
	parent *fakeReplicaSets
	sim    simulatedRS
	log    []rsCommand
	// observe is called with every command, before it takes effect.
	observe func(rsCommand)
}

// rsCommand is one command the controller sent.
type rsCommand struct {
	Kind    RSActionKind
	Target  string
	Members int // members of the configuration sent (Initiate, Reconfig)
}

// of returns the replica set of stack ns/name, created on first use.
func (f *fakeReplicaSets) of(ns, name string) *fakeRS {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sets == nil {
		f.sets = map[string]*fakeRS{}
	}
	key := ns + "/" + name
	if f.sets[key] == nil {
		f.sets[key] = &fakeRS{parent: f}
	}
	return f.sets[key]
}

func (f *fakeReplicaSets) factory(_ context.Context, s *ugcv1.UGCStack, _ []string, _, _ string) (ReplicaSetClient, func(), error) {
	return f.of(s.Namespace, s.Name), func() {}, nil
}

// commands returns a copy of what was sent so far.
func (r *fakeRS) commands() []rsCommand {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return append([]rsCommand(nil), r.log...)
}

// elect makes host primary, as an election would.
func (r *fakeRS) elect(host string) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	r.sim.primary = host
}

func (r *fakeRS) members() int {
	return len(r.config().Members)
}

func (r *fakeRS) config() RSConfig {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return r.sim.cfg
}

// onCommand sets a hook called with every command before it takes effect.
func (r *fakeRS) onCommand(observe func(rsCommand)) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	r.observe = observe
}

func (r *fakeRS) GetState(context.Context) (RSState, error) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return r.sim.state(), nil
}

func (r *fakeRS) send(a RSAction) error {
	r.parent.mu.Lock()
	observe := r.observe
	r.parent.mu.Unlock()
	cmd := rsCommand{Kind: a.Kind, Target: a.Target, Members: len(a.Config.Members)}
	if observe != nil {
		observe(cmd)
	}
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	r.log = append(r.log, cmd)
	if a.Kind != RSInitiate && a.Target != r.sim.primary {
		return fmt.Errorf("NotWritablePrimary: %s is not primary", a.Target)
	}
	return r.sim.apply(a)
}

func (r *fakeRS) Initiate(_ context.Context, host string, cfg RSConfig) error {
	return r.send(RSAction{Kind: RSInitiate, Target: host, Config: cfg})
}

func (r *fakeRS) Reconfig(_ context.Context, host string, cfg RSConfig) error {
	return r.send(RSAction{Kind: RSReconfig, Target: host, Config: cfg})
}

func (r *fakeRS) StepDown(_ context.Context, host string) error {
	return r.send(RSAction{Kind: RSStepDown, Target: host})
}
