package chart

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"
)

// typed converts a rendered object into its Go type.
func typed[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, &out, true); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return &out
}

func appVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.AppVersion
}

// managerFlags is the manager's command line as root main.go defines it:
// its flag.XxxVar calls, read from the source, plus controller-runtime's zap
// flags, which main.go binds. Parsing the chart's args with it fails on a
// flag the manager does not have or a value it would refuse.
func managerFlags(t *testing.T) *flag.FlagSet {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot, "main.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "flag" {
			return true
		}
		lit, ok := call.Args[1].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		name, _ := strconv.Unquote(lit.Value)
		switch sel.Sel.Name {
		case "StringVar":
			fs.String(name, "", "")
		case "BoolVar":
			fs.Bool(name, false, "")
		case "IntVar":
			fs.Int(name, 0, "")
		case "DurationVar":
			fs.Duration(name, 0, "")
		default:
			t.Fatalf("main.go: flag.%s(%q): teach managerFlags this kind", sel.Sel.Name, name)
		}
		return true
	})
	if fs.Lookup("metrics-bind-address") == nil || fs.Lookup("health-probe-bind-address") == nil {
		t.Fatal("main.go: no metrics-bind-address or health-probe-bind-address flag found; has the manager changed?")
	}
	opts := zap.Options{}
	opts.BindFlags(fs)
	return fs
}

func container(t *testing.T, d *appsv1.Deployment, name string) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("deployment %s has no container %q", d.Name, name)
	return corev1.Container{}
}

func portNamed(t *testing.T, c corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port %q", c.Name, name)
	return 0
}

func TestDefaultRender(t *testing.T) {
	r := template(t)
	full := release + "-ugcstack"

	var kinds []string
	for _, o := range r.objects {
		kinds = append(kinds, o.GetKind())
	}
	slices.Sort(kinds)
	want := []string{"ClusterRole", "ClusterRoleBinding", "Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("default kinds = %v, want %v (no UGCStack unless stack.enabled)", kinds, want)
	}
	for _, o := range r.objects {
		if o.GetKind() != "ClusterRole" && o.GetKind() != "ClusterRoleBinding" && o.GetNamespace() != namespace {
			t.Errorf("%s %s in namespace %q, want the release's %q", o.GetKind(), o.GetName(), o.GetNamespace(), namespace)
		}
	}

	sa := r.get(t, "ServiceAccount", full)
	d := typed[appsv1.Deployment](t, r.get(t, "Deployment", full+"-operator"))
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != sa.GetName() {
		t.Errorf("pods run as %q, the chart creates ServiceAccount %q", pod.ServiceAccountName, sa.GetName())
	}
	if *d.Spec.Replicas != 1 {
		t.Errorf("replicas = %d, want 1", *d.Spec.Replicas)
	}
	m := container(t, d, "manager")
	if want := "ghcr.io/ugcstack/ugcstack-operator:" + appVersion(t); m.Image != want {
		t.Errorf("image = %s, want %s (tag defaults to appVersion)", m.Image, want)
	}

	fs := managerFlags(t)
	if err := fs.Parse(m.Args); err != nil {
		t.Fatalf("the manager would refuse the chart's args %q: %v", m.Args, err)
	}
	if fs.NArg() != 0 {
		t.Errorf("stray positional args %q", fs.Args())
	}
	for flagName, want := range map[string]string{
		"leader-elect":              "true",
		"metrics-bind-address":      ":8080",
		"health-probe-bind-address": ":8081",
		"zap-log-level":             "info",
	} {
		if got := fs.Lookup(flagName).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", flagName, got, want)
		}
	}
	// The probes and the metrics Service must reach the ports the flags bind.
	health := portNamed(t, m, "health")
	if fs.Lookup("health-probe-bind-address").Value.String() != ":"+strconv.Itoa(int(health)) {
		t.Errorf("health port %d is not the one --health-probe-bind-address binds", health)
	}
	for probeName, p := range map[string]*corev1.Probe{"liveness": m.LivenessProbe, "readiness": m.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no %s HTTP probe", probeName)
			continue
		}
		if p.HTTPGet.Port.String() != "health" {
			t.Errorf("%s probe on port %s, want the health port", probeName, p.HTTPGet.Port.String())
		}
	}
	if m.LivenessProbe.HTTPGet.Path != "/healthz" || m.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probe paths %s, %s; the manager serves /healthz and /readyz", m.LivenessProbe.HTTPGet.Path, m.ReadinessProbe.HTTPGet.Path)
	}
	metricsPort := portNamed(t, m, "metrics")
	if fs.Lookup("metrics-bind-address").Value.String() != ":"+strconv.Itoa(int(metricsPort)) {
		t.Errorf("metrics port %d is not the one --metrics-bind-address binds", metricsPort)
	}

	// Non-root, read-only root filesystem, no capabilities.
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	sc := m.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("manager securityContext %+v: want read-only root, no privilege escalation, drop ALL", sc)
	}
	if m.Resources.Requests.Cpu().IsZero() || m.Resources.Requests.Memory().IsZero() || m.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit", m.Resources)
	}

	svc := typed[corev1.Service](t, r.get(t, "Service", full+"-metrics"))
	for k, v := range svc.Spec.Selector {
		if pod := d.Spec.Template.Labels[k]; pod != v {
			t.Errorf("metrics Service selects %s=%s, pods have %q", k, v, pod)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "metrics" {
		t.Errorf("metrics Service ports %+v, want one targeting the container's metrics port", svc.Spec.Ports)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("Deployment selector %s=%s does not match its pod template", k, v)
		}
	}

	// Bindings grant the roles to the manager's ServiceAccount.
	cr := r.get(t, "ClusterRole", full+"-manager")
	crb := typed[rbacv1.ClusterRoleBinding](t, r.get(t, "ClusterRoleBinding", full+"-manager"))
	if crb.RoleRef.Name != cr.GetName() || crb.RoleRef.Kind != "ClusterRole" {
		t.Errorf("ClusterRoleBinding refers to %s %s", crb.RoleRef.Kind, crb.RoleRef.Name)
	}
	role := typed[rbacv1.Role](t, r.get(t, "Role", full+"-leader-election"))
	rb := typed[rbacv1.RoleBinding](t, r.get(t, "RoleBinding", full+"-leader-election"))
	if rb.RoleRef.Name != role.Name || rb.RoleRef.Kind != "Role" {
		t.Errorf("RoleBinding refers to %s %s", rb.RoleRef.Kind, rb.RoleRef.Name)
	}
	for _, subjects := range [][]rbacv1.Subject{crb.Subjects, rb.Subjects} {
		if len(subjects) != 1 || subjects[0].Kind != "ServiceAccount" || subjects[0].Name != sa.GetName() || subjects[0].Namespace != namespace {
			t.Errorf("subjects %+v, want the ServiceAccount %s/%s", subjects, namespace, sa.GetName())
		}
	}
	if !grants(role.Rules, "coordination.k8s.io", "leases", "create", "get", "update") {
		t.Errorf("leader-election Role %+v cannot hold a Lease", role.Rules)
	}
}

// grants reports whether one rule allows all verbs on group/resource.
func grants(rules []rbacv1.PolicyRule, group, resource string, verbs ...string) bool {
	for _, r := range rules {
		if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) {
			ok := true
			for _, v := range verbs {
				ok = ok && slices.Contains(r.Verbs, v)
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// nonDefault turns every knob away from its default.
const nonDefault = `
fullnameOverride: ops
image: {repository: registry.example.com/ugc/operator, tag: v9.8.7, pullPolicy: Always}
imagePullSecrets: [{name: regcred}]
replicas: 2
leaderElection: true
logLevel: debug
serviceAccount: {create: false, name: existing-sa}
metrics: {port: 9090, service: {enabled: false}}
healthPort: 9091
resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 1Gi}}
podAnnotations: {example.com/scrape: "yes"}
nodeSelector: {kubernetes.io/os: linux}
priorityClassName: system-cluster-critical
stack:
  enabled: true
  name: demo
  api:
    image: registry.example.com/ugc/api:v9.8.7
    replicas: 3
    logLevel: debug
    jwt: {secret: a-thirty-two-byte-long-hs256-secret-for-tests}
  mongodb: {members: 3, storageSize: 5Gi, storageClassName: fast, deletePolicy: Delete}
  clickhouse: {enabled: true, deletePolicy: Delete}
  logging: {enabled: true, kibana: false}
  gateway: {enabled: true, replicas: 2, rateLimitPerSecond: 0}
`

func TestNonDefaultRender(t *testing.T) {
	r := template(t, "-f", writeValues(t, nonDefault))

	if sas := r.ofKind("ServiceAccount"); len(sas) != 0 {
		t.Errorf("serviceAccount.create=false still renders %s", sas[0].GetName())
	}
	if svcs := r.ofKind("Service"); len(svcs) != 0 {
		t.Errorf("metrics.service.enabled=false still renders Service %s", svcs[0].GetName())
	}
	d := typed[appsv1.Deployment](t, r.get(t, "Deployment", "ops-operator"))
	pod := d.Spec.Template.Spec
	m := container(t, d, "manager")
	if m.Image != "registry.example.com/ugc/operator:v9.8.7" || m.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("image %s (%s)", m.Image, m.ImagePullPolicy)
	}
	if *d.Spec.Replicas != 2 || pod.ServiceAccountName != "existing-sa" || pod.PriorityClassName != "system-cluster-critical" ||
		pod.NodeSelector["kubernetes.io/os"] != "linux" || d.Spec.Template.Annotations["example.com/scrape"] != "yes" ||
		len(pod.ImagePullSecrets) != 1 || pod.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("pod settings not applied: replicas %d, %+v", *d.Spec.Replicas, pod)
	}
	if m.Resources.Limits.Memory().String() != "1Gi" {
		t.Errorf("memory limit %s, want 1Gi", m.Resources.Limits.Memory())
	}
	fs := managerFlags(t)
	if err := fs.Parse(m.Args); err != nil {
		t.Fatalf("the manager would refuse %q: %v", m.Args, err)
	}
	if fs.Lookup("metrics-bind-address").Value.String() != ":9090" || fs.Lookup("health-probe-bind-address").Value.String() != ":9091" ||
		fs.Lookup("zap-log-level").Value.String() != "debug" {
		t.Errorf("args %q do not carry the ports and log level", m.Args)
	}
	if portNamed(t, m, "metrics") != 9090 || portNamed(t, m, "health") != 9091 {
		t.Errorf("container ports %+v", m.Ports)
	}
	crb := typed[rbacv1.ClusterRoleBinding](t, r.get(t, "ClusterRoleBinding", "ops-manager"))
	if crb.Subjects[0].Name != "existing-sa" {
		t.Errorf("ClusterRoleBinding binds %s, want the existing ServiceAccount", crb.Subjects[0].Name)
	}

	stack := decodeStack(t, r.get(t, "UGCStack", "demo"))
	if stack.Namespace != namespace {
		t.Errorf("UGCStack in %q, want the release namespace", stack.Namespace)
	}
	api := stack.Spec.API
	if api.Image != "registry.example.com/ugc/api:v9.8.7" || *api.Replicas != 3 || api.LogLevel != "debug" {
		t.Errorf("api %+v", api)
	}
	ref := api.JWT.SecretRef
	if ref == nil || ref.Name != "demo-jwt" || ref.Key != "secret" || api.JWT.JWKSURL != "" || api.JWT.PublicKeySecretRef != nil {
		t.Fatalf("jwt %+v, want only secretRef demo-jwt/secret", api.JWT)
	}
	secret := typed[corev1.Secret](t, r.get(t, "Secret", "demo-jwt"))
	if got := string(secret.Data["secret"]); got != "a-thirty-two-byte-long-hs256-secret-for-tests" {
		t.Errorf("jwt Secret holds %q, want the given secret", got)
	}
	mg := stack.Spec.MongoDB
	if *mg.Members != 3 || mg.Storage.Size.String() != "5Gi" || *mg.Storage.StorageClassName != "fast" || mg.DeletePolicy != "Delete" {
		t.Errorf("mongodb %+v", mg)
	}
	if !stack.Spec.ClickHouse.Enabled || stack.Spec.ClickHouse.DeletePolicy != "Delete" || !stack.Spec.Logging.Enabled || stack.Spec.Logging.Kibana {
		t.Errorf("clickhouse %+v, logging %+v", stack.Spec.ClickHouse, stack.Spec.Logging)
	}
	if g := stack.Spec.Gateway; !g.Enabled || g.Replicas != 2 || g.RateLimitPerSecond != 0 {
		t.Errorf("gateway %+v", g)
	}
}

func TestStackDefaults(t *testing.T) {
	r := template(t, "--set", "stack.enabled=true")
	stack := decodeStack(t, r.get(t, "UGCStack", "ugc"))
	if stack.Spec.API.Image != "ghcr.io/ugcstack/ugc:latest" || *stack.Spec.API.Replicas != 1 || *stack.Spec.MongoDB.Members != 1 ||
		stack.Spec.MongoDB.DeletePolicy != "Retain" || stack.Spec.ClickHouse.DeletePolicy != "Retain" || stack.Spec.ClickHouse.Enabled || stack.Spec.Logging.Enabled || stack.Spec.Gateway.Enabled {
		t.Errorf("default demo stack %+v", stack.Spec)
	}
	// Without a given secret the chart generates one long enough for the API.
	secret := typed[corev1.Secret](t, r.get(t, "Secret", "ugc-jwt"))
	if n := len(secret.Data["secret"]); n < 32 {
		t.Errorf("generated HS256 secret has %d bytes; the API refuses fewer than 32", n)
	}
	if again := typed[corev1.Secret](t, template(t, "--set", "stack.enabled=true").get(t, "Secret", "ugc-jwt")); string(again.Data["secret"]) == string(secret.Data["secret"]) {
		t.Error("two renders generated the same secret: it is not random")
	}

	// An existing Secret is referred to, not created.
	r = template(t, "--set", "stack.enabled=true,stack.api.jwt.existingSecret=auth-hs256,stack.api.jwt.secretKey=key")
	if s := r.ofKind("Secret"); len(s) != 0 {
		t.Errorf("existingSecret set, yet the chart renders Secret %s", s[0].GetName())
	}
	ref := decodeStack(t, r.get(t, "UGCStack", "ugc")).Spec.API.JWT.SecretRef
	if ref.Name != "auth-hs256" || ref.Key != "key" {
		t.Errorf("secretRef %+v, want auth-hs256/key", ref)
	}
}

// TestNamespaceScopedInstall: with watchNamespaces the manager watches only
// those namespaces and holds the ClusterRole's rules as a Role in each of
// them, with no cluster-wide grant.
func TestNamespaceScopedInstall(t *testing.T) {
	r := template(t, "--set", "watchNamespaces={team-a,team-b}")
	if crs := r.ofKind("ClusterRole"); len(crs) != 0 {
		t.Errorf("a namespace-scoped install renders ClusterRole %s", crs[0].GetName())
	}
	if crbs := r.ofKind("ClusterRoleBinding"); len(crbs) != 0 {
		t.Errorf("a namespace-scoped install renders ClusterRoleBinding %s", crbs[0].GetName())
	}
	cluster := template(t)
	want := typed[rbacv1.ClusterRole](t, cluster.get(t, "ClusterRole", release+"-ugcstack-manager")).Rules
	for _, ns := range []string{"team-a", "team-b"} {
		var role *rbacv1.Role
		var binding *rbacv1.RoleBinding
		for _, o := range r.ofKind("Role") {
			if o.GetNamespace() == ns {
				role = typed[rbacv1.Role](t, o)
			}
		}
		for _, o := range r.ofKind("RoleBinding") {
			if o.GetNamespace() == ns {
				binding = typed[rbacv1.RoleBinding](t, o)
			}
		}
		if role == nil || binding == nil {
			t.Fatalf("no Role and RoleBinding in %s: %s", ns, r.names())
		}
		if !reflect.DeepEqual(role.Rules, want) {
			t.Errorf("Role in %s has other rules than the ClusterRole", ns)
		}
		if binding.RoleRef.Name != role.Name || binding.Subjects[0].Namespace != namespace {
			t.Errorf("RoleBinding in %s: %+v", ns, binding)
		}
	}
	fs := managerFlags(t)
	m := container(t, typed[appsv1.Deployment](t, r.get(t, "Deployment", release+"-ugcstack-operator")), "manager")
	if err := fs.Parse(m.Args); err != nil {
		t.Fatalf("the manager would refuse %q: %v", m.Args, err)
	}
	if got := fs.Lookup("watch-namespaces").Value.String(); got != "team-a,team-b" {
		t.Errorf("--watch-namespaces = %q", got)
	}
}

// TestImagePinnedByDigest: a digest wins over the tag, and only a sha256
// digest is accepted.
func TestImagePinnedByDigest(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	r := template(t, "--set", "image.digest="+digest, "--set", "image.tag=v1")
	m := container(t, typed[appsv1.Deployment](t, r.get(t, "Deployment", release+"-ugcstack-operator")), "manager")
	if m.Image != "ghcr.io/ugcstack/ugcstack-operator@"+digest {
		t.Errorf("image %s", m.Image)
	}
	if _, stderr, err := helm(t, "template", release, chartDir, "--set", "image.digest=latest"); err == nil || !strings.Contains(stderr, "image/digest") {
		t.Errorf("a non-digest was accepted: %v %s", err, stderr)
	}
}
