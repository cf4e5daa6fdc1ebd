package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

var _ = Describe("A managed replica set", Ordered, func() {
	var (
		ns    string
		s     *ugcv1.UGCStack
		api   *apiClient
		token string
		films []string
	)
	// rate writes a 7 for a new film, retrying while a failover is under
	// way, and remembers the film.
	rate := func(ctx context.Context) {
		film := uuid.NewString()
		Eventually(func() int {
			status, err := api.do(ctx, http.MethodPut, "/api/v1/films/"+film+"/rating", token, map[string]any{"score": 7})
			if err != nil {
				return 0
			}
			return status
		}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Equal(http.StatusOK))
		films = append(films, film)
	}

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
		Expect(k8s.Create(ctx, s)).To(Succeed())
		waitReady(ctx, s)
		fwd, cancel := context.WithCancel(context.Background())
		DeferCleanup(cancel)
		addr, err := forwardService(fwd, ns, s.Name+"-api", 80)
		Expect(err).NotTo(HaveOccurred())
		api = &apiClient{base: "http://" + addr}
		token = mint(jwtSecret(ctx, s), uuid.New())
	}, NodeTimeout(20*time.Minute))

	It("keeps every write through 1 → 3 members", func(ctx SpecContext) {
		for range 5 {
			rate(ctx)
		}
		scaleMongoDB(ctx, s, 3)
		for range 5 {
			rate(ctx)
		}
	}, SpecTimeout(20*time.Minute))

	It("serves writes again after its primary's pod is deleted", func(ctx SpecContext) {
		primary := primaryPod(ctx, s)
		GinkgoWriter.Printf("deleting the primary's pod %s\n", primary)
		Expect(k8s.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: primary}})).To(Succeed())
		for range 5 {
			rate(ctx)
		}
		Eventually(func() string { return primaryPod(ctx, s) }).WithContext(ctx).WithTimeout(2 * time.Minute).ShouldNot(BeEmpty())
	}, SpecTimeout(5*time.Minute))

	It("keeps every write through 3 → 1 members, and the removed members' claims go", func(ctx SpecContext) {
		scaleMongoDB(ctx, s, 1)
		for _, film := range films {
			var summary ugc.FilmSummary
			api.expect(ctx, http.MethodGet, "/api/v1/films/"+film+"/summary", "", nil, http.StatusOK, &summary)
			Expect(summary.Count).To(Equal(int64(1)), "film %s", film)
		}
		Eventually(func() []string { return pvcNames(ctx, s) }).WithContext(ctx).WithTimeout(3*time.Minute).
			Should(Equal([]string{"data-rs-mongodb-0"}), "whenScaled: Delete removes the claims of members 1 and 2")
	}, SpecTimeout(20*time.Minute))
})
