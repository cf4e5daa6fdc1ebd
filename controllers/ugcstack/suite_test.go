package ugcstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset/replsettest"
)

var (
	k8s     client.Client
	scheme  *runtime.Scheme
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
	testEnv = &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("..", "..", "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	scheme = runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	Expect(ugcv1.AddToScheme(scheme)).To(Succeed())
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Cache: CacheOptions(), Metrics: metricsserver.Options{BindAddress: "0"}})
	Expect(err).NotTo(HaveOccurred())
	Expect((&Reconciler{ConnectReplicaSet: fakeRSs.connect}).SetupWithManager(mgr)).To(Succeed())
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

// fakeReplicaSets stands in for the MongoDB driver client behind
// replset.Client: where no MongoDB server runs, the envtest suite checks
// what the controller sends and when, against one simulated replica set
// per stack (replsettest.Set), which refuses what mongod refuses.
type fakeReplicaSets struct {
	mu   sync.Mutex
	sets map[string]*fakeRS
}

type fakeRS struct {
	parent *fakeReplicaSets
	sim    replsettest.Set
	log    []rsCommand
	users  map[string]replset.User
	// userWrites counts EnsureUser calls that reached the primary.
	userWrites int
	// observe is called with every command, before it takes effect.
	observe func(rsCommand)
}

// rsCommand is one command the controller sent.
type rsCommand struct {
	Kind    replset.ActionKind
	Target  string
	Members int // members of the configuration sent (Initiate, Reconfig)
}

// of returns the replica set whose members are hosts, created on first
// use; a stack's members share the domain of its headless Service.
func (f *fakeReplicaSets) of(hosts []string) *fakeRS {
	_, key, _ := strings.Cut(hosts[0], ".")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sets == nil {
		f.sets = map[string]*fakeRS{}
	}
	if f.sets[key] == nil {
		f.sets[key] = &fakeRS{parent: f}
	}
	return f.sets[key]
}

// connect answers for the members asked: every one of them answers, as
// every pod the StatefulSet runs would.
func (f *fakeReplicaSets) connect(_ context.Context, hosts []string, _, _ string) (replset.Client, func(), error) {
	r := f.of(hosts)
	f.mu.Lock()
	defer f.mu.Unlock()
	r.sim.Hosts = hosts
	return r, func() {}, nil
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
	r.sim.Primary = host
}

func (r *fakeRS) members() int {
	return len(r.config().Members)
}

func (r *fakeRS) config() replset.Config {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return r.sim.Config
}

// onCommand sets a hook called with every command before it takes effect.
func (r *fakeRS) onCommand(observe func(rsCommand)) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	r.observe = observe
}

func (r *fakeRS) GetState(context.Context) (replset.State, error) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return r.sim.State(), nil
}

func (r *fakeRS) send(a replset.Action) error {
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
	return r.sim.Apply(a)
}

func (r *fakeRS) Initiate(_ context.Context, host string, cfg replset.Config) error {
	return r.send(replset.Action{Kind: replset.Initiate, Target: host, Config: cfg})
}

func (r *fakeRS) Reconfig(_ context.Context, host string, cfg replset.Config) error {
	return r.send(replset.Action{Kind: replset.Reconfig, Target: host, Config: cfg})
}

func (r *fakeRS) StepDown(_ context.Context, host string) error {
	return r.send(replset.Action{Kind: replset.StepDown, Target: host})
}

// EnsureUser refuses, as mongod does, a user command sent to a member
// that is not primary (NotWritablePrimary).
func (r *fakeRS) EnsureUser(_ context.Context, host string, u replset.User) error {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	if host != r.sim.Primary {
		return fmt.Errorf("NotWritablePrimary: %s is not primary", host)
	}
	if r.users == nil {
		r.users = map[string]replset.User{}
	}
	r.users[u.Name] = u
	r.userWrites++
	return nil
}

// user returns the named user and how many user writes the set received.
func (r *fakeRS) user(name string) (replset.User, int) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return r.users[name], r.userWrites
}

func (r *fakeRS) SetFCV(context.Context, string, string) error {
	return fmt.Errorf("the simulated set reports no versions: PlanFCV never asks")
}
