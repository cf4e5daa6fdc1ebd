package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/deploy/logging"
	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
	"github.com/ugcstack/ugcstack/ugc-service/jwt"
)

// The kinds whose objects a stack's children are; all carry the stack's
// app.kubernetes.io/instance label and must go when the stack goes.
var childKinds = []schema.GroupVersionKind{
	{Group: "apps", Version: "v1", Kind: "Deployment"},
	{Group: "apps", Version: "v1", Kind: "StatefulSet"},
	{Version: "v1", Kind: "Service"},
	{Version: "v1", Kind: "ConfigMap"},
	{Version: "v1", Kind: "Secret"},
	{Version: "v1", Kind: "Pod"},
	{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"},
	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"},
	{Group: "batch", Version: "v1", Kind: "Job"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
	{Version: "v1", Kind: "ServiceAccount"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"},
}

var eckKinds = []schema.GroupVersionKind{
	{Group: "elasticsearch.k8s.elastic.co", Version: "v1", Kind: "Elasticsearch"},
	{Group: "kibana.k8s.elastic.co", Version: "v1", Kind: "Kibana"},
	{Group: "logstash.k8s.elastic.co", Version: "v1alpha1", Kind: "Logstash"},
	{Group: "beat.k8s.elastic.co", Version: "v1beta1", Kind: "Beat"},
}

const jwtSecretName = "e2e-jwt"

// small asks little CPU and caps memory at limit.
func small(limit string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse(limit)},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limit)},
	}
}

func newStack(ns, name, deletePolicy string, logging, analytics bool) *ugcv1.UGCStack {
	return &ugcv1.UGCStack{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: ugcv1.UGCStackSpec{
			API: ugcv1.APISpec{
				Image:    apiImage,
				Replicas: ptr.To[int32](1),
				JWT:      ugcv1.JWTSpec{SecretRef: &ugcv1.SecretKeyRef{Name: jwtSecretName, Key: "secret"}},
			},
			MongoDB: ugcv1.MongoDBSpec{
				Members:      ptr.To[int32](1),
				Storage:      ugcv1.StorageSpec{Size: resource.MustParse("1Gi")},
				DeletePolicy: deletePolicy,
			},
			Logging: ugcv1.LoggingSpec{
				Enabled:              logging,
				ElasticsearchStorage: ugcv1.StorageSpec{Size: resource.MustParse("2Gi")},
				// ECK's defaults (2Gi each, a CPU for Logstash) do not fit a
				// standard runner beside kind's control plane and the stack.
				Resources: ugcv1.LoggingResources{
					Elasticsearch: small("1536Mi"), Kibana: small("1Gi"), Logstash: small("1Gi"),
				},
			},
			ClickHouse: ugcv1.ClickHouseSpec{
				Enabled: analytics,
				Storage: ugcv1.StorageSpec{Size: resource.MustParse("1Gi")},
			},
			// With logging, requests also go through the gateway, whose
			// access line must reach Elasticsearch beside the API's.
			Gateway: ugcv1.GatewaySpec{Enabled: logging, Replicas: 1},
		},
	}
}

var _ = Describe("A UGCStack", Ordered, func() {
	var (
		ns      string
		withECK bool
		// stack keeps its MongoDB volumes on deletion (the default); doomed
		// has deletePolicy Delete.
		stack, doomed *ugcv1.UGCStack
		// The request whose access line must reach Elasticsearch.
		loggedRequestID, loggedPath string
		// The film whose changes must reach ClickHouse.
		ratedFilm string
		// Its summary just before the stack is deleted.
		ratedBefore ugc.FilmSummary
	)

	BeforeAll(func(ctx SpecContext) {
		var err error
		withECK, err = servesGroupVersion("elasticsearch.k8s.elastic.co/v1", "elasticsearches")
		Expect(err).NotTo(HaveOccurred())
		if os.Getenv("UGC_E2E_LOGGING") == "0" {
			withECK = false
		} else if !withECK && os.Getenv("CI") == "true" {
			Fail("ECK is not installed in the cluster (no elasticsearch.k8s.elastic.co/v1): CI must prove logging end to end; install ECK, or set UGC_E2E_LOGGING=0 to opt out explicitly")
		}
		GinkgoWriter.Printf("ECK installed and used: %v; API image %s\n", withECK, apiImage)

		ns = "ugc-e2e-" + rand.String(5)
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			if keepNamespace {
				GinkgoWriter.Printf("UGC_E2E_KEEP=1: namespace %s left in place\n", ns)
				return
			}
			Expect(client.IgnoreNotFound(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
		})
		Expect(k8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: jwtSecretName, Namespace: ns},
			Data:       map[string][]byte{"secret": []byte(rand.String(48))},
		})).To(Succeed())

		stack = newStack(ns, "e2e", "Retain", withECK, true)
		// The advertised topology: two API replicas behind their Service,
		// ClickHouse one shard of two replicas with Keeper.
		stack.Spec.API.Replicas = ptr.To[int32](2)
		stack.Spec.ClickHouse.Shards, stack.Spec.ClickHouse.Replicas = 1, 2
		doomed = newStack(ns, "e2e-del", "Delete", false, false)
		Expect(k8s.Create(ctx, stack)).To(Succeed())
		Expect(k8s.Create(ctx, doomed)).To(Succeed())
	})

	It("becomes Ready, with every enabled component ready", func(ctx SpecContext) {
		for _, s := range []*ugcv1.UGCStack{stack, doomed} {
			got := waitReady(ctx, s)
			want := []string{ugcv1.ConditionAPIReady, ugcv1.ConditionMongoDBReady}
			if s.Spec.Logging.Enabled {
				want = append(want, ugcv1.ConditionLoggingReady)
			}
			if s.Spec.ClickHouse.Enabled {
				want = append(want, ugcv1.ConditionClickHouseReady)
			}
			for _, c := range want {
				Expect(meta.IsStatusConditionTrue(got.Status.Conditions, c)).To(BeTrue(), "%s of %s: %s", c, s.Name, describe(got.Status.Conditions))
			}
			Expect(got.Status.Endpoints.API).NotTo(BeEmpty(), "status.endpoints.api of %s", s.Name)
			Expect(got.Status.MongoDBMembers).To(Equal(int32(1)))
		}
		By("the API's Service sends to both replicas")
		Eventually(func(g Gomega) {
			var slices discoveryv1.EndpointSliceList
			g.Expect(k8s.List(ctx, &slices, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: stack.Name + "-api"})).To(Succeed())
			ready := 0
			for _, sl := range slices.Items {
				for _, e := range sl.Endpoints {
					if ptr.Deref(e.Conditions.Ready, false) {
						ready++
					}
				}
			}
			g.Expect(ready).To(Equal(2))
		}).WithContext(ctx).WithTimeout(2 * time.Minute).Should(Succeed())
	}, SpecTimeout(20*time.Minute))

	It("admits to MongoDB, ClickHouse and the API only the stack's own components", func(ctx SpecContext) {
		outside := "ugc-e2e-np-" + rand.String(5)
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: outside}})).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			Expect(client.IgnoreNotFound(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: outside}}))).To(Succeed())
		})
		probe := startProbe(ctx, outside)
		svc := func(name string) string { return name + "." + ns + ".svc" }
		for _, t := range []struct {
			host string
			port int
		}{
			{stack.Name + "-mongodb-0." + svc(stack.Name+"-mongodb"), 27017},
			{stack.Name + "-clickhouse-s0-0." + svc(stack.Name+"-clickhouse"), 9000},
			{svc(stack.Name + "-api"), 80},
		} {
			Expect(canConnect(ctx, outside, probe, t.host, t.port)).To(BeFalse(), "%s:%d from another namespace", t.host, t.port)
		}
		if !stack.Spec.Gateway.Enabled {
			Skip("no gateway without logging: nothing to show the network itself works")
		}
		// The gateway is open to all: the probe's network works, so the
		// refusals above are the policies'.
		Expect(canConnect(ctx, outside, probe, svc(stack.Name+"-gateway"), 80)).To(BeTrue(), "the gateway from another namespace")
		fwd, cancel := context.WithCancel(context.Background())
		defer cancel()
		gw, err := forwardService(fwd, ns, stack.Name+"-gateway", 80)
		Expect(err).NotTo(HaveOccurred())
		var summary ugc.FilmSummary
		(&apiClient{base: "http://" + gw}).expect(ctx, http.MethodGet, "/api/v1/films/"+uuid.NewString()+"/summary", "", nil, http.StatusOK, &summary)
	}, SpecTimeout(6*time.Minute))

	It("serves ratings, reviews with votes, bookmarks and the film summary through a port-forward", func(ctx SpecContext) {
		fwd, cancel := context.WithCancel(context.Background())
		defer cancel()
		addr, err := forwardService(fwd, ns, stack.Name+"-api", 80)
		Expect(err).NotTo(HaveOccurred())
		api := &apiClient{base: "http://" + addr}

		secret := jwtSecret(ctx, stack)
		alice, bob := uuid.New(), uuid.New()
		aliceToken, bobToken := mint(secret, alice), mint(secret, bob)
		film := uuid.NewString()
		ratedFilm = film

		var rating ugc.Rating
		api.expect(ctx, http.MethodPut, "/api/v1/films/"+film+"/rating", aliceToken, map[string]any{"score": 8}, http.StatusOK, &rating)
		Expect(rating.UserID).To(Equal(alice))
		Expect(rating.Score).To(Equal(8))
		api.expect(ctx, http.MethodPut, "/api/v1/films/"+film+"/rating", bobToken, map[string]any{"score": 10}, http.StatusOK, nil)

		var review ugc.Review
		created := api.expect(ctx, http.MethodPost, "/api/v1/films/"+film+"/reviews", aliceToken, map[string]any{"text": "A slow start, a great last act."}, http.StatusCreated, &review)
		Expect(review.AuthorID).To(Equal(alice))
		reviewPath := "/api/v1/reviews/" + review.ID.String()
		Expect(created.Get("Location")).To(Equal(reviewPath))
		api.expect(ctx, http.MethodPut, reviewPath+"/vote", aliceToken, map[string]any{"value": "like"}, http.StatusForbidden, nil)
		var voted ugc.Review
		api.expect(ctx, http.MethodPut, reviewPath+"/vote", bobToken, map[string]any{"value": "like"}, http.StatusOK, &voted)
		Expect(voted.Likes).To(Equal(int64(1)))
		Expect(voted.Dislikes).To(Equal(int64(0)))
		var read ugc.Review
		api.expect(ctx, http.MethodGet, reviewPath, "", nil, http.StatusOK, &read)
		Expect(read.Likes).To(Equal(int64(1)))
		Expect(read.Text).To(Equal(review.Text))
		Expect(read.AuthorScore).To(HaveValue(Equal(8)), "the author's own rating, read with the review")

		api.expect(ctx, http.MethodPut, "/api/v1/users/me/bookmarks/"+film, aliceToken, nil, http.StatusCreated, nil)
		api.expect(ctx, http.MethodPut, "/api/v1/users/me/bookmarks/"+film, aliceToken, nil, http.StatusOK, nil)
		var bookmarks struct {
			Items []ugc.Bookmark `json:"items"`
		}
		api.expect(ctx, http.MethodGet, "/api/v1/users/me/bookmarks", aliceToken, nil, http.StatusOK, &bookmarks)
		Expect(bookmarks.Items).To(HaveLen(1))
		Expect(bookmarks.Items[0].FilmID.String()).To(Equal(film))

		// The summary read carries a request id of ours, so its access line
		// can be found in Elasticsearch below.
		loggedRequestID = strings.ReplaceAll(uuid.NewString(), "-", "")
		loggedPath = "/api/v1/films/" + film + "/summary"
		via := api
		if stack.Spec.Gateway.Enabled {
			gw, err := forwardService(fwd, ns, stack.Name+"-gateway", 80)
			Expect(err).NotTo(HaveOccurred())
			via = &apiClient{base: "http://" + gw}
		}
		var summary ugc.FilmSummary
		header := via.expectWithID(ctx, http.MethodGet, loggedPath, "", loggedRequestID, nil, http.StatusOK, &summary)
		Expect(header.Get("X-Request-Id")).To(Equal(loggedRequestID))
		Expect(summary.Count).To(Equal(int64(2)))
		Expect(summary.Average).NotTo(BeNil())
		Expect(*summary.Average).To(BeNumerically("~", 9.0, 1e-9))
		Expect(summary.Likes).To(Equal(int64(1)), "one 10")
		Expect(summary.Dislikes).To(Equal(int64(0)))
	}, SpecTimeout(3*time.Minute))

	It("relays each change to ClickHouse once, through the outbox and the relay", func(ctx SpecContext) {
		Expect(ratedFilm).NotTo(BeEmpty(), "the API spec did not run")
		fwd, cancel := context.WithCancel(context.Background())
		defer cancel()
		addr, err := forwardService(fwd, ns, stack.Name+"-api", 80)
		Expect(err).NotTo(HaveOccurred())
		api := &apiClient{base: "http://" + addr}
		Eventually(func(g Gomega) {
			var ready struct {
				Outbox *ugc.OutboxStats `json:"outbox"`
			}
			api.expect(ctx, http.MethodGet, "/readyz", "", nil, http.StatusOK, &ready)
			g.Expect(ready.Outbox).NotTo(BeNil(), "/readyz reports no outbox")
			g.Expect(ready.Outbox.Pending).To(BeZero(), "events still waiting for the relay")
		}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(5 * time.Second).Should(Succeed())

		var auth corev1.Secret
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: stack.Name + "-clickhouse-auth"}, &auth)).To(Succeed())
		chAddr, err := forwardService(fwd, ns, stack.Name+"-clickhouse", 9000)
		Expect(err).NotTo(HaveOccurred())
		sink, err := clickhouse.Open(clickhouse.Config{
			Addr: []string{chAddr}, Database: "ugc", User: string(auth.Data["username"]), Password: string(auth.Data["password"]),
		})
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = sink.Close() }()
		got := eventCounts(ctx, sink, clickhouse.TableEvents, ratedFilm)
		// Two ratings, the review, one vote (the refused self-vote and the
		// repeated bookmark change nothing), one bookmark.
		want := map[string]uint64{"rating_set": 2, "review_created": 1, "review_vote_set": 1, "bookmark_added": 1}
		Expect(got).To(Equal(want))

		By("each replica of the shard holds every event")
		for r := range stack.Spec.ClickHouse.Replicas {
			pod := fmt.Sprintf("%s-clickhouse-s0-%d", stack.Name, r)
			addr, err := forwardPod(fwd, ns, pod, 9000)
			Expect(err).NotTo(HaveOccurred())
			replica, err := clickhouse.Open(clickhouse.Config{
				Addr: []string{addr}, Database: "ugc", User: string(auth.Data["username"]), Password: string(auth.Data["password"]),
			})
			Expect(err).NotTo(HaveOccurred())
			// The MergeTree table on that server, behind the Distributed one.
			Expect(eventCounts(ctx, replica, clickhouse.TableEvents+"_local", ratedFilm)).To(Equal(want), pod)
			_ = replica.Close()
		}
	}, SpecTimeout(5*time.Minute))

	It("ships the API's and the gateway's JSON access lines, one request id, to Elasticsearch's logs-ugc-default data stream", func(ctx SpecContext) {
		if !withECK {
			Skip("ECK is not installed in the cluster (no elasticsearch.k8s.elastic.co/v1), so the stack runs without logging")
		}
		Expect(loggedRequestID).NotTo(BeEmpty(), "the API spec did not run")
		fwd, cancel := context.WithCancel(context.Background())
		defer cancel()
		es := esName(stack)
		addr, err := forwardService(fwd, ns, es+"-es-http", 9200)
		Expect(err).NotTo(HaveOccurred())
		c, err := newESClient(ctx, ns, es, addr)
		Expect(err).NotTo(HaveOccurred())

		Eventually(func(g Gomega) {
			hits, err := c.accessLines(ctx, loggedRequestID)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(hits).NotTo(BeEmpty(), "no document with http.request.id %s in %s yet", loggedRequestID, logging.DataStream)
			var datasets []string
			for _, h := range hits {
				datasets = append(datasets, h.first("event.dataset"))
				if h.first("event.dataset") == "ugc.access" {
					g.Expect(h.first("url.path")).To(Equal(loggedPath))
					g.Expect(h.first("http.response.status_code")).To(Equal("200"))
					g.Expect(h.first("service.name")).To(Equal("ugc"))
				}
			}
			g.Expect(datasets).To(ContainElements("ugc.access", "nginx.access"), "the API's and nginx's lines for request %s", loggedRequestID)
		}).WithContext(ctx).WithTimeout(8 * time.Minute).WithPolling(10 * time.Second).Should(Succeed())
		template, policy, err := c.dataStream(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(template).To(Equal(logging.TemplateName), "the setup Job's index template made the data stream")
		Expect(policy).To(Equal(logging.ILMPolicyName), "its backing indices follow the setup Job's ILM policy")
	}, SpecTimeout(10*time.Minute))

	It("takes its children along when deleted, and its MongoDB volumes, with the Secrets their data needs, only with deletePolicy Delete", func(ctx SpecContext) {
		Expect(ratedFilm).NotTo(BeEmpty(), "the API spec did not run")
		ratedBefore = filmSummary(ctx, stack, ratedFilm)
		kept := pvcNames(ctx, stack)
		Expect(kept).To(ContainElement("data-" + stack.Name + "-mongodb-0"))
		Expect(pvcNames(ctx, doomed)).To(ContainElement("data-" + doomed.Name + "-mongodb-0"))

		for _, s := range []*ugcv1.UGCStack{stack, doomed} {
			Expect(k8s.Delete(ctx, s)).To(Succeed())
		}
		kinds := childKinds
		if withECK {
			kinds = append(slices.Clone(kinds), eckKinds...)
		}
		// Retained with the volumes: the keyfile and both users'
		// credentials, owned by no one.
		retained := map[*ugcv1.UGCStack][]string{stack: {
			"Secret/" + stack.Name + "-mongodb-admin", "Secret/" + stack.Name + "-mongodb-app", "Secret/" + stack.Name + "-mongodb-keyfile",
		}}
		for _, s := range []*ugcv1.UGCStack{stack, doomed} {
			Eventually(func() error {
				return k8s.Get(ctx, client.ObjectKeyFromObject(s), &ugcv1.UGCStack{})
			}).WithContext(ctx).WithTimeout(2 * time.Minute).Should(Satisfy(apierrors.IsNotFound))
			Eventually(func(g Gomega) {
				var left []string
				for _, gvk := range kinds {
					for _, o := range listLabelled(ctx, g, gvk, s) {
						left = append(left, gvk.Kind+"/"+o.GetName())
						if gvk.Kind == "Secret" {
							g.Expect(o.GetOwnerReferences()).To(BeEmpty(), o.GetName())
						}
					}
				}
				g.Expect(left).To(ConsistOf(retained[s]), "children of %s still there", s.Name)
			}).WithContext(ctx).WithTimeout(5 * time.Minute).WithPolling(5 * time.Second).Should(Succeed())
		}
		Eventually(func() []string { return pvcNames(ctx, doomed) }).WithContext(ctx).WithTimeout(3*time.Minute).
			Should(BeEmpty(), "deletePolicy Delete: the volumes go with the stack")
		Consistently(func() []string { return pvcNames(ctx, stack) }).WithContext(ctx).WithTimeout(20*time.Second).
			Should(Equal(kept), "deletePolicy Retain: the volumes stay")
	}, SpecTimeout(12*time.Minute))

	// What no simulated set can show: the official image ignores
	// MONGO_INITDB_ROOT_* over an existing database, so only the retained
	// password opens it.
	It("created again on its retained volumes, logs in to the same database and serves what was written before", func(ctx SpecContext) {
		Expect(ratedBefore.Count).To(BeNumerically(">", 0), "the deletion spec did not run")
		again := newStack(ns, stack.Name, "Retain", false, false)
		Expect(k8s.Create(ctx, again)).To(Succeed())
		waitReady(ctx, again)
		Expect(filmSummary(ctx, again, ratedFilm)).To(Equal(ratedBefore))
		Expect(k8s.Delete(ctx, again)).To(Succeed())
	}, SpecTimeout(10*time.Minute))
})

// filmSummary reads a film's summary through a port-forward to the API.
func filmSummary(ctx context.Context, s *ugcv1.UGCStack, film string) ugc.FilmSummary {
	fwd, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := forwardService(fwd, s.Namespace, s.Name+"-api", 80)
	Expect(err).NotTo(HaveOccurred())
	var summary ugc.FilmSummary
	(&apiClient{base: "http://" + addr}).expect(ctx, http.MethodGet, "/api/v1/films/"+film+"/summary", "", nil, http.StatusOK, &summary)
	return summary
}

// waitReady waits for the stack's Ready condition for its current spec.
func waitReady(ctx context.Context, s *ugcv1.UGCStack) *ugcv1.UGCStack {
	var got ugcv1.UGCStack
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), &got)).To(Succeed())
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation), "status of %s describes an older spec", s.Name)
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, ugcv1.ConditionReady)).To(BeTrue(),
			"%s not Ready: %s", s.Name, describe(got.Status.Conditions))
	}).WithContext(ctx).WithTimeout(15 * time.Minute).WithPolling(5 * time.Second).Should(Succeed())
	return &got
}

func describe(conds []metav1.Condition) string {
	var s []string
	for _, c := range conds {
		s = append(s, fmt.Sprintf("%s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(s, "; ")
}

// jwtSecret reads the HS256 secret the stack's API verifies tokens with,
// through the stack's own reference to it.
func jwtSecret(ctx context.Context, s *ugcv1.UGCStack) []byte {
	ref := s.Spec.API.JWT.SecretRef
	Expect(ref).NotTo(BeNil(), "the stack does not use an HS256 secret")
	var sec corev1.Secret
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: ref.Name}, &sec)).To(Succeed())
	Expect(sec.Data).To(HaveKey(ref.Key))
	return sec.Data[ref.Key]
}

func mint(secret []byte, user uuid.UUID) string {
	tok, err := jwt.Mint(secret, user, 10*time.Minute, "", "")
	Expect(err).NotTo(HaveOccurred())
	return tok
}

func listLabelled(ctx context.Context, g Gomega, gvk schema.GroupVersionKind, s *ugcv1.UGCStack) []unstructured.Unstructured {
	var list unstructured.UnstructuredList
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	g.Expect(k8s.List(ctx, &list, client.InNamespace(s.Namespace), client.MatchingLabels{"app.kubernetes.io/instance": s.Name})).To(Succeed())
	return list.Items
}

func pvcNames(ctx context.Context, s *ugcv1.UGCStack) []string {
	var names []string
	for _, o := range listLabelled(ctx, Default, schema.GroupVersionKind{Version: "v1", Kind: "PersistentVolumeClaim"}, s) {
		if o.GetDeletionTimestamp() == nil {
			names = append(names, o.GetName())
		}
	}
	slices.Sort(names)
	return names
}

// eventCounts counts film's events by type in ClickHouse's table of the
// ugc database, deduplicated (FINAL).
func eventCounts(ctx context.Context, sink *clickhouse.Sink, table, film string) map[string]uint64 {
	rows, err := sink.Query(ctx, `SELECT type, count() FROM ugc.`+table+` FINAL WHERE film_id = ? GROUP BY type`, uuid.MustParse(film))
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = rows.Close() }()
	got := map[string]uint64{}
	for rows.Next() {
		var typ string
		var n uint64
		Expect(rows.Scan(&typ, &n)).To(Succeed())
		got[typ] = n
	}
	Expect(rows.Err()).NotTo(HaveOccurred())
	return got
}

// esName is the operator's name for a stack's ECK objects.
func esName(s *ugcv1.UGCStack) string { return s.Name + "-logs" }
