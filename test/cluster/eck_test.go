package cluster

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/logging"
	"github.com/ugcstack/ugcstack/controllers/logging/loggingtest"
	deploylogging "github.com/ugcstack/ugcstack/deploy/logging"
	"github.com/ugcstack/ugcstack/deploy/logging/estest"
)

// eckNamespace is where ECK's operator keeps its own state (licenses).
const eckNamespace = "elastic-system"

// startECK puts the real ECK v3.5.0 beside our operator: its CRDs, its
// validating webhooks (served on 127.0.0.1 by eck-webhook, which
// registers ECK's own validators: ECK's operator would listen on every
// interface), and its operator, out of cluster as a cluster administrator.
func startECK(ctx context.Context) {
	Expect(loggingtest.Install(testEnv.Config)).To(Succeed())
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: eckNamespace}})).To(Succeed())
	webhook, err := loggingtest.Asset("eck-webhook")
	Expect(err).NotTo(HaveOccurred())
	operator, err := loggingtest.Asset("elastic-operator")
	Expect(err).NotTo(HaveOccurred())

	certDir := filepath.Join(logDir, "eck-webhook-certs")
	caPEM := loopbackCert(certDir)
	var port int
	for attempt := 1; ; attempt++ {
		port = freePort()
		exited := start(logDir, webhook, "--kubeconfig="+kubeconfig, fmt.Sprintf("--port=%d", port), "--cert-dir="+certDir)
		if serving(port, exited) {
			break
		}
		// Another socket can take a port between freePort and the bind.
		Expect(attempt).To(BeNumerically("<", 5), "eck-webhook did not start:\n%s", logTail("eck-webhook"))
	}
	registerWebhooks(ctx, port, caPEM)

	cmd := exec.Command(operator, "manager", "--operator-namespace="+eckNamespace,
		"--enable-webhook=false", "--manage-webhook-certs=false", "--enable-leader-election=false",
		"--metrics-host=127.0.0.1", "--metrics-port=0", "--disable-telemetry", "--log-verbosity=0")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	startCmd(logDir, cmd)
}

// logTail is the end of a process's log in logDir.
func logTail(name string) string {
	b, _ := os.ReadFile(filepath.Join(logDir, name+".log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// serving waits until a TLS server answers on 127.0.0.1:port, false if
// the process exits first.
func serving(port int, exited <-chan struct{}) bool {
	deadline := time.After(time.Minute)
	for {
		conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			_ = conn.Close()
			return true
		}
		select {
		case <-exited:
			return false
		case <-deadline:
			Fail(fmt.Sprintf("eck-webhook not serving on %d after a minute", port))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// loopbackCert writes a self-signed certificate for 127.0.0.1 as tls.crt
// and tls.key into dir, and returns it as the CA bundle.
func loopbackCert(dir string) []byte {
	Expect(os.MkdirAll(dir, 0o700)).To(Succeed())
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eck-webhook"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	Expect(err).NotTo(HaveOccurred())
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(dir, "tls.crt"), certPEM, 0o600)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)).To(Succeed())
	return certPEM
}

// registerWebhooks installs ECK's ValidatingWebhookConfiguration (its
// config/webhook/manifests.yaml) for the kinds a stack renders, pointed at
// eck-webhook. failurePolicy is Fail, not ECK's Ignore: a webhook that
// does not answer must fail the test, not wave objects through.
func registerWebhooks(ctx context.Context, port int, caPEM []byte) {
	p, err := loggingtest.Asset("webhooks.yaml")
	Expect(err).NotTo(HaveOccurred())
	b, err := os.ReadFile(p)
	Expect(err).NotTo(HaveOccurred())
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	Expect(yaml.Unmarshal(b, &vwc)).To(Succeed())
	ours := map[string]string{}
	for _, k := range logging.ECKKinds {
		ours[k.Group+"/"+k.Version] = strings.ToLower(k.Kind)
	}
	var keep []admissionregistrationv1.ValidatingWebhook
	for _, w := range vwc.Webhooks {
		r := w.Rules[0]
		kind, ok := ours[r.APIGroups[0]+"/"+r.APIVersions[0]]
		if !ok || !strings.HasPrefix(r.Resources[0], kind) {
			continue
		}
		w.ClientConfig = admissionregistrationv1.WebhookClientConfig{
			URL: ptr.To(fmt.Sprintf("https://127.0.0.1:%d%s", port, *w.ClientConfig.Service.Path)), CABundle: caPEM,
		}
		w.FailurePolicy = ptr.To(admissionregistrationv1.Fail)
		keep = append(keep, w)
	}
	Expect(keep).To(HaveLen(len(logging.ECKKinds)), "ECK's manifests name a webhook for each kind we render")
	vwc.ObjectMeta = metav1.ObjectMeta{Name: "eck-validation"}
	vwc.Webhooks = keep
	Expect(k8s.Create(ctx, &vwc)).To(Succeed())
}

func eckObject(ctx context.Context, k schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k)
	Eventually(func() error { return k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u) }).WithContext(ctx).Should(Succeed(), "%s %s", k.Kind, name)
	return u
}

// fileRealm is the <es>-es-xpack-file-realm Secret ECK writes once the
// stack's associations have their users: users, users_roles, roles.yml.
func fileRealm(ctx context.Context, s *ugcv1.UGCStack) *corev1.Secret {
	realm := &corev1.Secret{}
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: logging.Name(s) + "-es-xpack-file-realm"}, realm)).To(Succeed())
		g.Expect(string(realm.Data["users_roles"])).To(ContainSubstring("eck_logstash_user_role:"), "the Logstash association's user is in the realm")
	}).WithContext(ctx).Should(Succeed())
	return realm
}

// elasticsearchServes writes what only a running Elasticsearch lets ECK
// write (no pod really runs here, so ECK cannot reach one): once ECK has
// written the file realm, the Elasticsearch is taken out of ECK's hands
// with ECK's own eck.k8s.elastic.co/managed=false
// (pkg/controller/common/unmanaged.go), or its next reconcile would write
// its "unknown" back; the orchestration hint ECK sets once every node runs
// a version with service accounts (eck.k8s.elastic.co/orchestration-hints,
// pkg/controller/elasticsearch/hints, written by
// driver/stateful/service_accounts.go), which Kibana's association waits
// for; and green in the status fields ECK's type defines.
func elasticsearchServes(ctx context.Context, s *ugcv1.UGCStack) {
	fileRealm(ctx, s)
	es := eckObject(ctx, logging.Elasticsearch, s.Namespace, logging.Name(s))
	Eventually(func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(es), es); err != nil {
			return err
		}
		a := es.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a["eck.k8s.elastic.co/managed"] = "false"
		a["eck.k8s.elastic.co/orchestration-hints"] = `{"no_transient_settings":true,"service_accounts":true}`
		es.SetAnnotations(a)
		return k8s.Update(ctx, es)
	}).WithContext(ctx).Should(Succeed())
	// As ECK would for a reachable cluster: the status follows every new
	// generation (our apply can still change the spec after the pause).
	writer, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			cur := &unstructured.Unstructured{}
			cur.SetGroupVersionKind(logging.Elasticsearch)
			if k8s.Get(writer, client.ObjectKeyFromObject(es), cur) == nil {
				observed, _, _ := unstructured.NestedInt64(cur.Object, "status", "observedGeneration")
				health, _, _ := unstructured.NestedString(cur.Object, "status", "health")
				if observed != cur.GetGeneration() || health != "green" {
					_ = loggingtest.SetHealthy(writer, k8s, logging.Elasticsearch, s.Namespace, logging.Name(s), int64(s.Spec.Logging.ElasticsearchNodes))
				}
			}
			select {
			case <-writer.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	DeferCleanup(func() {
		stop()
		<-done
	})
}

// generations reads the generation of each of the stack's ECK objects.
func generations(ctx context.Context, s *ugcv1.UGCStack) map[string]int64 {
	out := map[string]int64{}
	for _, k := range logging.ECKKinds {
		out[k.Kind] = eckObject(ctx, k, s.Namespace, logging.Name(s)).GetGeneration()
	}
	return out
}

func container(t corev1.PodTemplateSpec, name string) corev1.Container {
	i := slices.IndexFunc(t.Spec.Containers, func(c corev1.Container) bool { return c.Name == name })
	Expect(i).To(BeNumerically(">=", 0), "container %s in %v", name, t.Spec.Containers)
	return t.Spec.Containers[i]
}

// secretValue reads what a container's variable holds: its value, or the
// Secret key it refers to.
func secretValue(ctx context.Context, ns string, c corev1.Container, env string) string {
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == env })
	Expect(i).To(BeNumerically(">=", 0), "%s sets %s", c.Name, env)
	e := c.Env[i]
	if e.ValueFrom == nil {
		return e.Value
	}
	ref := e.ValueFrom.SecretKeyRef
	Expect(ref).NotTo(BeNil(), "%s comes from a Secret", env)
	var sec corev1.Secret
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, &sec)).To(Succeed())
	return string(bytes.TrimSpace(sec.Data[ref.Key]))
}

// labelled lists the objects ECK labelled label=name into list, waiting
// until there is exactly one.
func labelled(ctx context.Context, list client.ObjectList, ns, label, name string) {
	Eventually(func(g Gomega) {
		g.Expect(k8s.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{label: name})).To(Succeed())
		g.Expect(meta.LenList(list)).To(Equal(1), "%T with %s=%s", list, label, name)
	}).WithContext(ctx).Should(Succeed())
}

// writeAs writes one document to target as user, as Logstash's output
// would, and returns the status Elasticsearch's rules give it.
func writeAs(url, user, password, target string) int {
	status, _, err := estest.Create(url, user, password, target)
	Expect(err).NotTo(HaveOccurred())
	return status
}

// referencedSecrets are the Secrets a pod template mounts.
func referencedSecrets(t corev1.PodTemplateSpec) []string {
	var out []string
	for _, v := range t.Spec.Volumes {
		if v.Secret != nil {
			out = append(out, v.Secret.SecretName)
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					out = append(out, src.Secret.Name)
				}
			}
		}
	}
	return out
}

// serviceOf is the Service a cluster-local URL or host:port names.
func serviceOf(address string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(address, "https://"), "http://")
	return strings.SplitN(host, ".", 2)[0]
}

var _ = Describe("Logging with the real ECK operator", func() {
	It("is validated, reconciled and reported by ECK itself, and Logstash's user may write our data stream", func(ctx SpecContext) {
		s := sample(ctx, "ugc_v1alpha1_ugcstack_minimal.yaml")
		s.Spec.Logging.Enabled = true
		s.Spec.Logging.Kibana = true
		s.Spec.Logging.Resources.Logstash = corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
		Expect(k8s.Create(ctx, s)).To(Succeed())
		name := logging.Name(s)

		By("ECK's webhook accepted every object we render, and refuses what ECK refuses")
		for _, k := range logging.ECKKinds {
			eckObject(ctx, k, s.Namespace, name)
		}
		ours := eckObject(ctx, logging.Elasticsearch, s.Namespace, name)
		long := &unstructured.Unstructured{Object: map[string]any{"apiVersion": ours.GetAPIVersion(), "kind": ours.GetKind(), "spec": ours.Object["spec"]}}
		long.SetNamespace(s.Namespace)
		long.SetName(strings.Repeat("e", 37))
		err := k8s.Create(ctx, long)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(And(ContainSubstring("admission webhook"), ContainSubstring("exceeds maximum allowed length of 36")))
		beat := eckObject(ctx, logging.Beat, s.Namespace, name)
		both := &unstructured.Unstructured{Object: map[string]any{"apiVersion": beat.GetAPIVersion(), "kind": beat.GetKind(), "spec": beat.Object["spec"]}}
		both.SetNamespace(s.Namespace)
		both.SetName("both")
		Expect(unstructured.SetNestedField(both.Object, map[string]any{}, "spec", "deployment")).To(Succeed())
		err = k8s.Create(ctx, both)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("Specify either daemonSet or deployment, not both"))

		By("the user ECK made for our Logstash may write the data stream our pipeline writes")
		var logstashes appsv1.StatefulSetList
		labelled(ctx, &logstashes, s.Namespace, "logstash.k8s.elastic.co/name", name)
		ls := container(logstashes.Items[0].Spec.Template, "logstash")
		user := secretValue(ctx, s.Namespace, ls, "UGC_ES_USER")
		password := secretValue(ctx, s.Namespace, ls, "UGC_ES_PASSWORD")
		realmSecret := fileRealm(ctx, s)
		realm, err := estest.ParseRealm(realmSecret.Data["users"], realmSecret.Data["users_roles"], realmSecret.Data["roles.yml"])
		Expect(err).NotTo(HaveOccurred(), "ECK's file realm parses as Elasticsearch's file realm")
		Expect(realm.UsersRoles[user]).To(ContainElement("eck_logstash_user_role"))
		es := httptest.NewServer(estest.New(realm))
		DeferCleanup(es.Close)
		Expect(writeAs(es.URL, user, password, deploylogging.DataStream)).To(Equal(http.StatusCreated), "Logstash's bulk write to %s", deploylogging.DataStream)
		Expect(writeAs(es.URL, user, password, "ugc-logs-2026.12.02")).To(Equal(http.StatusForbidden), "the index the pipeline wrote before")
		Expect(writeAs(es.URL, user, password+"x", deploylogging.DataStream)).To(Equal(http.StatusUnauthorized))

		By("ECK's workloads carry our settings")
		lsTemplate := logstashes.Items[0].Spec.Template
		Expect(container(lsTemplate, "logstash").Resources.Limits).To(HaveKeyWithValue(corev1.ResourceMemory, resource.MustParse("1Gi")))
		Expect(secretValue(ctx, s.Namespace, container(lsTemplate, "logstash"), "LS_JAVA_OPTS")).To(Equal("-Xms512m -Xmx512m"))
		var beats appsv1.DaemonSetList
		labelled(ctx, &beats, s.Namespace, "beat.k8s.elastic.co/name", name)
		fb := beats.Items[0].Spec.Template
		Expect(fb.Spec.ServiceAccountName).To(Equal(logging.FilebeatName(s)))
		Expect(ptr.Deref(fb.Spec.SecurityContext.RunAsUser, -1)).To(BeZero())
		mounts := map[string]bool{}
		for _, m := range container(fb, "filebeat").VolumeMounts {
			mounts[m.MountPath] = m.ReadOnly
		}
		Expect(mounts).To(And(HaveKeyWithValue("/var/log/containers", true), HaveKeyWithValue("/var/log/pods", true)))

		By("ECK's controllers report Kibana, Logstash and Filebeat green; Elasticsearch's health is the test's")
		elasticsearchServes(ctx, s)
		got := waitReady(ctx, s)
		Expect(meta.FindStatusCondition(got.Status.Conditions, ugcv1.ConditionLoggingReady).Message).To(ContainSubstring("index template, ILM policy and saved objects loaded"))

		By("every Secret and Service the setup Job and Filebeat name, ECK made under that name")
		var jobs batchv1.JobList
		Expect(k8s.List(ctx, &jobs, client.InNamespace(s.Namespace))).To(Succeed())
		Expect(jobs.Items).To(HaveLen(1))
		job := jobs.Items[0].Spec.Template
		secrets := referencedSecrets(job)
		Expect(secrets).To(ContainElement(name + "-es-elastic-user"))
		for _, sec := range secrets {
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: sec}, &corev1.Secret{})).To(Succeed(), "Secret %s", sec)
		}
		services := []string{}
		for _, e := range container(job, "logging-setup").Env {
			if strings.HasSuffix(e.Name, "_URL") {
				services = append(services, serviceOf(e.Value))
			}
		}
		hosts, _, _ := unstructured.NestedSlice(beat.Object, "spec", "config", "output.logstash", "hosts")
		for _, h := range hosts {
			services = append(services, serviceOf(h.(string)))
		}
		Expect(services).To(HaveLen(3), "Elasticsearch, Kibana, Logstash's beats input")
		for _, svc := range services {
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: svc}, &corev1.Service{})).To(Succeed(), "Service %s", svc)
		}

		By("our operator and ECK settle: no apply loop, no generation churn")
		settled := generations(ctx, s)
		for i := range 5 {
			update(ctx, s, func(s *ugcv1.UGCStack) {
				if s.Annotations == nil {
					s.Annotations = map[string]string{}
				}
				s.Annotations["test.ugcstack.io/nudge"] = fmt.Sprint(i) // each change is a reconcile
			})
			time.Sleep(time.Second)
		}
		Consistently(func() map[string]int64 { return generations(ctx, s) }, "3s", "500ms").WithContext(ctx).Should(Equal(settled))

		By("a Logstash that cannot run: ECK reports it, and LoggingReady names it")
		update(ctx, s, func(s *ugcv1.UGCStack) {
			// more than the node has: the new pod stays Pending
			s.Spec.Logging.Resources.Logstash.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Ti")}
			s.Spec.Logging.Resources.Logstash.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Ti")}
		})
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(s), got)).To(Succeed())
			c := meta.FindStatusCondition(got.Status.Conditions, ugcv1.ConditionLoggingReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Message).To(ContainSubstring("Logstash " + name))
		}).WithContext(ctx).Should(Succeed())
		GinkgoWriter.Printf("LoggingReady with Logstash unschedulable: %s\n", meta.FindStatusCondition(got.Status.Conditions, ugcv1.ConditionLoggingReady).Message)
		update(ctx, s, func(s *ugcv1.UGCStack) {
			s.Spec.Logging.Resources.Logstash = corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
		})
		waitReady(ctx, s)
	}, SpecTimeout(6*time.Minute))
})
