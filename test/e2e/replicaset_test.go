package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// scaleMongoDB sets the stack's member count and waits until the stack is
// Ready and mongod itself reports exactly that many members, each healthy
// and PRIMARY or SECONDARY: the operator's own status is not the proof.
func scaleMongoDB(ctx context.Context, s *ugcv1.UGCStack, members int32) {
	Eventually(func() error {
		var cur ugcv1.UGCStack
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), &cur); err != nil {
			return err
		}
		cur.Spec.MongoDB.Members = ptr.To(members)
		return k8s.Update(ctx, &cur)
	}).WithContext(ctx).Should(Succeed())
	Eventually(func(g Gomega) {
		got := waitReady(ctx, s)
		g.Expect(got.Status.MongoDBMembers).To(Equal(members))
		states, err := memberStates(ctx, s)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(states).To(HaveLen(int(members)), "replSetGetStatus members: %v", states)
		for host, state := range states {
			g.Expect(state).To(BeElementOf("PRIMARY", "SECONDARY"), "member %s", host)
		}
	}).WithContext(ctx).WithTimeout(15 * time.Minute).WithPolling(5 * time.Second).Should(Succeed())
}

// withMember0 runs f with a client connected straight to member 0 through
// a port-forward, as the stack's root user.
func withMember0(ctx context.Context, s *ugcv1.UGCStack, f func(*mongo.Client) error) error {
	var admin corev1.Secret
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: s.Name + "-mongodb-admin"}, &admin); err != nil {
		return err
	}
	fwd, cancel := context.WithCancel(ctx)
	defer cancel()
	addr, err := forwardPod(fwd, s.Namespace, s.Name+"-mongodb-0", 27017)
	if err != nil {
		return err
	}
	uri := fmt.Sprintf("mongodb://%s:%s@%s/admin?directConnection=true&authSource=admin",
		url.QueryEscape(string(admin.Data["username"])), url.QueryEscape(string(admin.Data["password"])), addr)
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	return f(c)
}

// memberStates is mongod's own view of the set (replSetGetStatus): each
// healthy member's state by host; an unhealthy member is reported as such.
func memberStates(ctx context.Context, s *ugcv1.UGCStack) (map[string]string, error) {
	var status struct {
		Members []struct {
			Name     string  `bson:"name"`
			StateStr string  `bson:"stateStr"`
			Health   float64 `bson:"health"`
		} `bson:"members"`
	}
	err := withMember0(ctx, s, func(c *mongo.Client) error {
		return c.Database("admin").RunCommand(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}}).Decode(&status)
	})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range status.Members {
		out[m.Name] = m.StateStr
		if m.Health != 1 {
			out[m.Name] = "unhealthy " + m.StateStr
		}
	}
	return out, nil
}

// primaryPod asks member 0 which member is primary (hello) and returns
// that member's pod name.
func primaryPod(ctx context.Context, s *ugcv1.UGCStack) string {
	var hello struct {
		Primary string `bson:"primary"`
	}
	Expect(withMember0(ctx, s, func(c *mongo.Client) error {
		return c.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello)
	})).To(Succeed())
	Expect(hello.Primary).NotTo(BeEmpty())
	pod, _, _ := strings.Cut(hello.Primary, ".")
	return pod
}

// writer rates a new film every 100 ms through the gateway until stopped,
// and remembers each film whose write the API acknowledged (200): the API
// writes with majority write concern, so every one must survive the
// membership changes and the failover it runs across.
type writer struct {
	stop     context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	acked    []string
	refused  int
	attempts int
}

func startWriter(api *apiClient, token string) *writer {
	ctx, stop := context.WithCancel(context.Background())
	w := &writer{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			film := uuid.NewString()
			status, _ := api.do(ctx, http.MethodPut, "/api/v1/films/"+film+"/rating", token, map[string]any{"score": 7})
			w.mu.Lock()
			w.attempts++
			if status == http.StatusOK {
				w.acked = append(w.acked, film)
			} else {
				w.refused++
			}
			w.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return w
}

// finishedSoFar is what was acknowledged until now; the writer goes on.
func (w *writer) finishedSoFar() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.acked...)
}

// finish stops the writer and returns the films it was told were written.
// Later calls return the same.
func (w *writer) finish() []string {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	GinkgoWriter.Printf("writer: %d attempts, %d acknowledged, %d not\n", w.attempts, len(w.acked), w.refused)
	return w.acked
}

var _ = Describe("A managed replica set", Ordered, func() {
	var (
		ns     string
		s      *ugcv1.UGCStack
		api    *apiClient
		token  string
		writes *writer
	)

	BeforeAll(func(ctx SpecContext) {
		ns = "ugc-e2e-rs-" + strings.ToLower(uuid.NewString()[:5])
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			if !keepNamespace {
				Expect(client.IgnoreNotFound(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
			}
		})
		Expect(k8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: jwtSecretName, Namespace: ns},
			Data:       map[string][]byte{"secret": []byte(uuid.NewString())},
		})).To(Succeed())
		s = newStack(ns, "rs", "Delete", false, false)
		s.Spec.Gateway.Enabled = true // the writer goes through the gateway Service
		Expect(k8s.Create(ctx, s)).To(Succeed())
		waitReady(ctx, s)
		fwd, cancel := context.WithCancel(context.Background())
		DeferCleanup(cancel)
		addr, err := forwardService(fwd, ns, s.Name+"-gateway", 80)
		Expect(err).NotTo(HaveOccurred())
		api = &apiClient{base: "http://" + addr}
		token = mint(jwtSecret(ctx, s), uuid.New())
		writes = startWriter(api, token)
		DeferCleanup(func() { writes.finish() })
	}, NodeTimeout(20*time.Minute))

	It("takes writes while it grows 1 → 3 members", func(ctx SpecContext) {
		scaleMongoDB(ctx, s, 3)
	}, SpecTimeout(20*time.Minute))

	It("takes writes again after its primary's pod is deleted", func(ctx SpecContext) {
		primary := primaryPod(ctx, s)
		GinkgoWriter.Printf("deleting the primary's pod %s\n", primary)
		Expect(k8s.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: primary}})).To(Succeed())
		Eventually(func() string { return primaryPod(ctx, s) }).WithContext(ctx).WithTimeout(2 * time.Minute).ShouldNot(BeEmpty())
		before := len(writes.finishedSoFar())
		Eventually(func() int { return len(writes.finishedSoFar()) }).WithContext(ctx).WithTimeout(2*time.Minute).
			Should(BeNumerically(">", before+5), "acknowledged writes after the failover")
	}, SpecTimeout(5*time.Minute))

	It("shrinks 3 → 1 members with every acknowledged write still there, and the removed members' claims go", func(ctx SpecContext) {
		scaleMongoDB(ctx, s, 1)
		films := writes.finish()
		Expect(films).NotTo(BeEmpty())
		for _, film := range films {
			var summary ugc.FilmSummary
			api.expect(ctx, http.MethodGet, "/api/v1/films/"+film+"/summary", "", nil, http.StatusOK, &summary)
			Expect(summary.Count).To(Equal(int64(1)), "acknowledged write of film %s", film)
		}
		Eventually(func() []string { return pvcNames(ctx, s) }).WithContext(ctx).WithTimeout(3*time.Minute).
			Should(Equal([]string{"data-rs-mongodb-0"}), "the claims of members 1 and 2 are deleted")
	}, SpecTimeout(20*time.Minute))
})
