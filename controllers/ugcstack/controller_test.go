package ugcstack

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/common/commontest"
	"github.com/ugcstack/ugcstack/controllers/logging"
	"github.com/ugcstack/ugcstack/controllers/logging/loggingtest"
	"github.com/ugcstack/ugcstack/controllers/mongodb/members"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
)

func newStack(ns, name string) *ugcv1.UGCStack {
	return &ugcv1.UGCStack{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: ugcv1.UGCStackSpec{
			API: ugcv1.APISpec{Image: "ugc:1", JWT: ugcv1.JWTSpec{SecretRef: &ugcv1.SecretKeyRef{Name: "jwt", Key: "secret"}}},
		},
	}
}

// withOptionalParts turns on autoscaling, the PDB, the gateway and a
// managed ClickHouse.
func withOptionalParts(s *ugcv1.UGCStack) *ugcv1.UGCStack {
	s.Spec.API.Autoscaling = &ugcv1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 4, TargetCPUUtilizationPercentage: 60}
	s.Spec.API.PodDisruptionBudget = &ugcv1.PodDisruptionBudgetSpec{MaxUnavailable: 1}
	s.Spec.Gateway.Enabled = true
	s.Spec.ClickHouse.Enabled = true
	return s
}

func namespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "ugc-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

func condition(ctx context.Context, s *ugcv1.UGCStack, typ string) func() *metav1.Condition {
	return func() *metav1.Condition {
		var got ugcv1.UGCStack
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(s), &got); err != nil {
			return nil
		}
		return meta.FindStatusCondition(got.Status.Conditions, typ)
	}
}

func haveStatus(status metav1.ConditionStatus, reason string) OmegaMatcher {
	return And(Not(BeNil()), WithTransform(func(c *metav1.Condition) string { return string(c.Status) + "/" + c.Reason }, Equal(string(status)+"/"+reason)))
}

var _ = Describe("UGCStack controller", func() {
	ctx := context.Background()

	It("creates every child, owned by the stack but for what retained data needs, and turns Ready when they are", func() {
		ns := namespace(ctx)
		s := withOptionalParts(newStack(ns, "demo"))
		Expect(k8s.Create(ctx, s)).To(Succeed())
		Expect(s.Spec.MongoDB.Database).To(Equal("ugc"), "defaults applied by the API server")

		children := []client.Object{
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "demo-api"}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "demo-api"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "demo-api"}},
			&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "demo-mongodb"}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "demo-mongodb"}},
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "demo-gateway"}},
			&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "demo-clickhouse-s0"}},
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "demo-relay"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "demo-clickhouse-auth"}},
		}
		for _, c := range children {
			c.SetNamespace(ns)
			Eventually(func(g Gomega) {
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(c), c)).To(Succeed())
				g.Expect(c.GetOwnerReferences()).To(ContainElement(HaveField("Name", "demo")))
				g.Expect(*c.GetOwnerReferences()[0].Controller).To(BeTrue())
			}).Should(Succeed(), "%T %s", c, c.GetName())
		}
		for _, name := range retainedSecrets(s) {
			var sec corev1.Secret
			Eventually(exists(ctx, ns, name, &sec)).Should(BeTrue(), name)
			Expect(sec.OwnerReferences).To(BeEmpty(), "%s outlives the stack beside the volumes", name)
		}
		var d appsv1.Deployment
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-api"}, &d)).To(Succeed())
		Expect(d.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))
		Expect(commontest.SecretRef(d.Spec.Template.Spec, d.Spec.Template.Spec.Containers[0], "UGC_JWT_SECRET")).To(Equal(&ugcv1.SecretKeyRef{Name: "jwt", Key: "secret"}))
		Eventually(condition(ctx, s, ugcv1.ConditionReady)).Should(haveStatus(metav1.ConditionFalse, ugcv1.ReasonComponentsNotReady))

		By("patching child statuses as their controllers would")
		for _, name := range []string{"demo-api", "demo-gateway", "demo-relay"} {
			setDeploymentReady(ctx, ns, name)
		}
		for _, name := range []string{"demo-mongodb", "demo-clickhouse-s0"} {
			setStatefulSetReady(ctx, ns, name, 1)
		}
		mongoPod(ctx, s, 0, true)
		// the pod is the StatefulSet's, not the stack's: the pod watch
		// brings its readiness to the controller

		Eventually(condition(ctx, s, ugcv1.ConditionMongoDBReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonAvailable))
		Eventually(condition(ctx, s, ugcv1.ConditionReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonAvailable))
		rs := fakeRSs.Of(members.Hosts(s, 1))
		Expect(rs.Commands()).To(ContainElement(HaveField("Kind", replset.Initiate)))

		By("the API logs in as an application user with readWrite on its database only")
		Eventually(func() []replset.Role { u, _ := rs.User(members.AppUser); return u.Roles }).Should(Equal([]replset.Role{{Role: "readWrite", DB: "ugc"}}))
		var app corev1.Secret
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-mongodb-app"}, &app)).To(Succeed())
		appUser, writes := rs.User(members.AppUser)
		Expect(appUser.Password).To(Equal(string(app.Data["password"])))
		Expect(string(app.Data["uri"])).To(HavePrefix("mongodb://ugc:"))
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-api"}, &d)).To(Succeed())
		Expect(commontest.SecretRef(d.Spec.Template.Spec, d.Spec.Template.Spec.Containers[0], "UGC_MONGO_URI")).To(Equal(&ugcv1.SecretKeyRef{Name: "demo-mongodb-app", Key: "uri"}))
		var got ugcv1.UGCStack
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), &got)).To(Succeed())
		Expect(got.Status.Endpoints.API).To(Equal(fmt.Sprintf("http://demo-gateway.%s.svc", ns)))
		Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))

		By("changing the image: the Deployment follows, the generated admin password stays")
		var sec corev1.Secret
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-mongodb-admin"}, &sec)).To(Succeed())
		pw := string(sec.Data["password"])
		Expect(pw).NotTo(BeEmpty())
		Expect(string(sec.Data["uri"])).To(ContainSubstring("replicaSet=demo"))
		got.Spec.API.Image = "ugc:2"
		Expect(k8s.Update(ctx, &got)).To(Succeed())
		Eventually(func() string {
			_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-api"}, &d)
			return d.Spec.Template.Spec.Containers[0].Image
		}).Should(Equal("ugc:2"))
		// That reconcile ran the MongoDB step again, after the API's.
		Eventually(func() int64 {
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(s), &got)
			return got.Status.ObservedGeneration
		}).Should(Equal(got.Generation))
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-mongodb-admin"}, &sec)).To(Succeed())
		Expect(string(sec.Data["password"])).To(Equal(pw))
		_, after := rs.User(members.AppUser)
		Expect(after).To(Equal(writes), "the application user is written once, not on every reconcile")

		By("deleting a child: it is recreated")
		svc := &corev1.Service{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-api"}, svc)).To(Succeed())
		uid := svc.UID
		Expect(k8s.Delete(ctx, svc)).To(Succeed())
		Eventually(func() bool {
			err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-api"}, svc)
			return err == nil && svc.UID != uid
		}).Should(BeTrue())

		By("drift in an owned field is repaired")
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-gateway"}, &d)).To(Succeed())
		d.Spec.Replicas = ptr.To(int32(7))
		Expect(k8s.Update(ctx, &d)).To(Succeed())
		Eventually(func() int32 {
			_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "demo-gateway"}, &d)
			return *d.Spec.Replicas
		}).Should(Equal(int32(2)))
	})

	It("reports ECKNotInstalled and still reconciles the rest", func() {
		ns := namespace(ctx)
		s := newStack(ns, "logs")
		s.Spec.Logging.Enabled = true
		Expect(k8s.Create(ctx, s)).To(Succeed())
		Eventually(condition(ctx, s, ugcv1.ConditionLoggingReady)).Should(haveStatus(metav1.ConditionFalse, ugcv1.ReasonECKNotInstalled))
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "logs-api"}, &appsv1.Deployment{})).To(Succeed())
	})

	It("creates ECK objects once ECK's CRDs are served, and follows the health ECK writes", func() {
		// ECK's own CRDs: the API server validates and prunes our objects
		// and the status below by ECK's schemas. Served only once
		// Established: a stack created earlier finds ECK missing and looks
		// again a minute later.
		Expect(loggingtest.Install(testEnv.Config)).To(Succeed())
		ns := namespace(ctx)
		s := newStack(ns, "eck")
		s.Spec.Logging.Enabled = true
		Expect(k8s.Create(ctx, s)).To(Succeed())
		eckObject := func(k schema.GroupVersionKind) *unstructured.Unstructured {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(k)
			Eventually(func() error { return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "eck-logs"}, u) }).Should(Succeed(), k.Kind)
			return u
		}
		var applied ugcv1.UGCStack
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), &applied)).To(Succeed())
		for _, want := range logging.ECKObjects(&applied) {
			// Nothing we render is pruned by ECK's schemas.
			Expect(containsAll(eckObject(want.GroupVersionKind()).Object["spec"], want.Object["spec"])).To(Succeed(), want.GetKind())
		}
		Eventually(condition(ctx, s, ugcv1.ConditionLoggingReady)).Should(haveStatus(metav1.ConditionFalse, ugcv1.ReasonProgressing))

		By("the setup Job waits for every ECK object to serve")
		setupJobs := func() []batchv1.Job {
			var jobs batchv1.JobList
			Expect(k8s.List(ctx, &jobs, client.InNamespace(ns))).To(Succeed())
			return jobs.Items
		}
		healthy := func(k schema.GroupVersionKind, nodes int64) {
			Expect(loggingtest.SetHealthy(ctx, k8s, k, ns, "eck-logs", nodes)).To(Succeed())
		}
		setHealth := func(k schema.GroupVersionKind, health string) {
			Expect(loggingtest.SetStatus(ctx, k8s, k, ns, "eck-logs", func(_ *unstructured.Unstructured, st map[string]any) { st["health"] = health })).To(Succeed())
		}
		message := func() string { return condition(ctx, s, ugcv1.ConditionLoggingReady)().Message }
		healthy(logging.Elasticsearch, 1)
		// One node holds no replica: yellow is as good as it gets.
		setHealth(logging.Elasticsearch, "yellow")
		healthy(logging.Kibana, 1)
		healthy(logging.Logstash, 1)
		// ECK has not yet written the Beat's status.
		Eventually(message).Should(And(ContainSubstring("Beat eck-logs generation 1 is not yet observed by ECK"), Not(ContainSubstring("Logstash"))))
		Consistently(setupJobs, "1s").Should(BeEmpty())
		// Well inside every periodic requeue: only the Beat watch can
		// bring this change in time.
		healthy(logging.Beat, 2)
		Eventually(setupJobs, "10s").Should(HaveLen(1))
		job := setupJobs()[0]
		es := eckObject(logging.Elasticsearch)
		Expect(job.Name).To(Equal("eck-logs-setup-" + logging.SetupHash(s, es.GetUID())[:10]))
		Expect(job.Spec.Template.Spec.Containers[0].Args).To(Equal([]string{"logging-setup"}))
		Expect(job.Spec.Template.Spec.Containers[0].Image).To(Equal("ugc:1"))
		Expect(job.OwnerReferences).To(ContainElement(HaveField("Name", "eck")))
		Eventually(condition(ctx, s, ugcv1.ConditionLoggingReady)).Should(haveStatus(metav1.ConditionFalse, ugcv1.ReasonLoggingSetupPending))

		By("the Job fails, then a rerun completes: LoggingReady follows it")
		now := metav1.Now()
		job.Status = batchv1.JobStatus{StartTime: &now, Failed: 1, Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
		}}
		Expect(k8s.Status().Update(ctx, &job)).To(Succeed())
		Eventually(condition(ctx, s, ugcv1.ConditionLoggingReady)).Should(haveStatus(metav1.ConditionFalse, ugcv1.ReasonLoggingSetupFailed))
		// as the TTL controller would; the next Job then completes
		Expect(k8s.Delete(ctx, &job, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		completeNextJob := func(previous types.UID) {
			var next batchv1.Job
			Eventually(func() types.UID {
				if jobs := setupJobs(); len(jobs) == 1 {
					next = jobs[0]
					return next.UID
				}
				return ""
			}).ShouldNot(Or(BeEmpty(), Equal(previous)))
			next.Status = batchv1.JobStatus{StartTime: &now, CompletionTime: &now, Succeeded: 1, Conditions: []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
			}}
			Expect(k8s.Status().Update(ctx, &next)).To(Succeed())
			job = next
		}
		completeNextJob(job.UID)
		Eventually(condition(ctx, s, ugcv1.ConditionLoggingReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonAvailable))
		var got ugcv1.UGCStack
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), &got)).To(Succeed())
		Expect(got.Status.LoggingSetupHash).To(Equal(logging.SetupHash(s, es.GetUID())))

		By("removed by its TTL, a completed Job is not run again")
		Expect(k8s.Delete(ctx, &job, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		Consistently(setupJobs, "1s").Should(BeEmpty())
		Expect(condition(ctx, s, ugcv1.ConditionLoggingReady)()).To(haveStatus(metav1.ConditionTrue, ugcv1.ReasonAvailable))

		By("nor by a reconcile that reads the stack from before the hash was recorded, as a lagging cache can")
		// The window between the status patch and the cache seeing it,
		// held open: the step gets the stack as it was before the Job
		// completed, and must ask the API server before creating a Job.
		stale := got.DeepCopy()
		stale.Status.LoggingSetupHash = ""
		direct := common.Deps{Client: k8s, APIReader: k8s, Scheme: scheme}
		res := logging.Component{WatchECK: func() error { return nil }}.Reconcile(ctx, direct, stale)
		Expect(res.Err).NotTo(HaveOccurred())
		Expect(res.Condition.Reason).To(Equal(ugcv1.ReasonAvailable), res.Condition.Message)
		Expect(setupJobs()).To(BeEmpty())

		By("a Filebeat that stops serving turns LoggingReady False, naming it")
		Expect(loggingtest.SetStatus(ctx, k8s, logging.Beat, ns, "eck-logs", func(_ *unstructured.Unstructured, st map[string]any) {
			st["health"], st["availableNodes"] = "red", int64(0)
		})).To(Succeed())
		Eventually(message).Should(ContainSubstring(`Beat eck-logs health is "red" with 0/2 nodes available`))
		healthy(logging.Beat, 2)
		Eventually(condition(ctx, s, ugcv1.ConditionLoggingReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonAvailable))

		By("logging disabled: the ECK objects go")
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.Logging.Enabled = false })
		for _, k := range logging.ECKKinds {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(k)
			Eventually(exists(ctx, ns, "eck-logs", u)).Should(BeFalse(), k.Kind)
		}
		Eventually(condition(ctx, s, ugcv1.ConditionLoggingReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonDisabled))

		By("enabled again: a new, empty Elasticsearch (ECK deleted the old volumes) is set up again")
		updateStack(ctx, s, func(s *ugcv1.UGCStack) { s.Spec.Logging.Enabled = true })
		again := eckObject(logging.Elasticsearch)
		Expect(again.GetUID()).NotTo(Equal(es.GetUID()))
		for k, nodes := range map[schema.GroupVersionKind]int64{logging.Elasticsearch: 1, logging.Kibana: 1, logging.Logstash: 1, logging.Beat: 2} {
			eckObject(k)
			healthy(k, nodes)
		}
		Eventually(setupJobs, "10s").Should(HaveLen(1))
		Expect(setupJobs()[0].Name).To(Equal("eck-logs-setup-" + logging.SetupHash(s, again.GetUID())[:10]))
		Eventually(condition(ctx, s, ugcv1.ConditionLoggingReady)).Should(haveStatus(metav1.ConditionFalse, ugcv1.ReasonLoggingSetupPending))
		completeNextJob("")
		Eventually(condition(ctx, s, ugcv1.ConditionLoggingReady)).Should(haveStatus(metav1.ConditionTrue, ugcv1.ReasonAvailable))
	})

	DescribeTable("rejects invalid specs with a clear message",
		func(mutate func(*ugcv1.UGCStack), message string) {
			s := newStack("default", "invalid")
			mutate(s)
			err := k8s.Create(ctx, s)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("even members", func(s *ugcv1.UGCStack) { s.Spec.MongoDB.Members = ptr.To(int32(4)) }, "mongodb.members must be odd"),
		Entry("two JWT sources", func(s *ugcv1.UGCStack) { s.Spec.API.JWT.JWKSURL = "https://auth/jwks" }, "set exactly one of jwt.secretRef"),
		Entry("no JWT source", func(s *ugcv1.UGCStack) { s.Spec.API.JWT = ugcv1.JWTSpec{} }, "set exactly one of jwt.secretRef"),
		Entry("min above max", func(s *ugcv1.UGCStack) {
			s.Spec.API.Autoscaling = &ugcv1.AutoscalingSpec{MinReplicas: 5, MaxReplicas: 2, TargetCPUUtilizationPercentage: 50}
		}, "minReplicas must not exceed"),
		Entry("unknown log level", func(s *ugcv1.UGCStack) { s.Spec.API.LogLevel = "loud" }, "spec.api.logLevel"),
		Entry("members with external", func(s *ugcv1.UGCStack) {
			s.Spec.MongoDB.Members = ptr.To(int32(3))
			s.Spec.MongoDB.External = &ugcv1.ExternalMongoDB{URISecretRef: ugcv1.SecretKeyRef{Name: "m", Key: "uri"}}
		}, "cannot be set together"),
		Entry("missing image", func(s *ugcv1.UGCStack) { s.Spec.API.Image = "" }, "spec.api.image"),
		Entry("a name ECK would refuse for its Elasticsearch", func(s *ugcv1.UGCStack) { s.Name = strings.Repeat("n", ugcv1.MaxNameLength+1) },
			"metadata.name must be at most 31 characters"),
	)
})

// containsAll fails when want holds a field, list item or value that got
// does not: what a schema pruned, or another writer changed.
func containsAll(got, want any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%v is not an object", got)
		}
		for k, v := range w {
			if err := containsAll(g[k], v); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%v is not a list of %d", got, len(w))
		}
		for i := range w {
			if err := containsAll(g[i], w[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	default:
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("%v, want %v", got, want)
		}
	}
	return nil
}
