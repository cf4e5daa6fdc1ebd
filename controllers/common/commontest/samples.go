// Package commontest holds what the component packages' tests share: the
// sample stacks every builder is rendered from, and golden-file checks.
package commontest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Samples are the minimal and production stacks, with the defaults the API
// server would fill in.
func Samples() map[string]*ugcv1.UGCStack {
	return map[string]*ugcv1.UGCStack{"minimal": Minimal(), "production": Production()}
}

// Minimal is a stack with only what is required: the API and a one-member
// MongoDB.
func Minimal() *ugcv1.UGCStack {
	return &ugcv1.UGCStack{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "ugc"},
		Spec: ugcv1.UGCStackSpec{
			API: ugcv1.APISpec{
				Image: "ghcr.io/ugcstack/ugc:1.0.0", Replicas: ptr.To(int32(2)), LogLevel: "info",
				JWT: ugcv1.JWTSpec{SecretRef: &ugcv1.SecretKeyRef{Name: "jwt", Key: "secret"}},
			},
			MongoDB:       ugcv1.MongoDBSpec{Members: ptr.To(int32(1)), Image: "mongo:8.0", Database: "ugc", DeletePolicy: "Retain"},
			Gateway:       ugcv1.GatewaySpec{Image: "nginx:1.29", Replicas: 2, RateLimitPerSecond: 50},
			Logging:       ugcv1.LoggingSpec{Version: "8.19.0", ElasticsearchNodes: 1, Kibana: true},
			ClickHouse:    ugcv1.ClickHouseSpec{Shards: 1, Replicas: 1, Image: "clickhouse/clickhouse-server:25.8"},
			NetworkPolicy: ugcv1.NetworkPolicySpec{Enabled: true},
		},
	}
}

// Production turns every component on: public-key JWT, Sentry,
// autoscaling, a PDB, three MongoDB members on their own storage class,
// the gateway, logging, and a 2×2 ClickHouse cluster.
func Production() *ugcv1.UGCStack {
	prod := Minimal()
	prod.Name = "prod"
	prod.Spec.API.JWT = ugcv1.JWTSpec{PublicKeySecretRef: &ugcv1.SecretKeyRef{Name: "auth-pub", Key: "key.pem"}, Issuer: "auth", Audience: "ugc"}
	prod.Spec.API.SentryDSNSecretRef = &ugcv1.SecretKeyRef{Name: "sentry", Key: "dsn"}
	prod.Spec.API.SentryEnvironment = "production"
	prod.Spec.API.Autoscaling = &ugcv1.AutoscalingSpec{MinReplicas: 3, MaxReplicas: 12, TargetCPUUtilizationPercentage: 70}
	prod.Spec.API.PodDisruptionBudget = &ugcv1.PodDisruptionBudgetSpec{MaxUnavailable: 1}
	prod.Spec.MongoDB.Members = ptr.To(int32(3))
	prod.Spec.MongoDB.DeletePolicy = "Delete"
	prod.Spec.MongoDB.Storage = ugcv1.StorageSpec{Size: resource.MustParse("50Gi"), StorageClassName: ptr.To("fast")}
	prod.Spec.Gateway.Enabled = true
	prod.Spec.Logging.Enabled = true
	prod.Spec.ClickHouse.Enabled = true
	prod.Spec.ClickHouse.Shards, prod.Spec.ClickHouse.Replicas = 2, 2
	return prod
}

// Golden compares objs, as YAML documents, with testdata/<sample>.golden.yaml
// (rewritten under -update). No objects means no file: a component that is
// off for a sample must have none, so a stale file fails too.
func Golden[T any](t *testing.T, sample string, objs []T) {
	t.Helper()
	path := filepath.Join("testdata", sample+".golden.yaml")
	var got bytes.Buffer
	for _, o := range objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		got.WriteString("---\n")
		got.Write(b)
	}
	if *update {
		write(t, path, got.Bytes())
	}
	want, err := os.ReadFile(path)
	switch {
	case len(objs) == 0 && os.IsNotExist(err):
		return
	case len(objs) == 0:
		t.Fatalf("%s exists, but the %s sample applies nothing of this component", path, sample)
	case err != nil:
		t.Fatalf("%v (run go test -run Golden -update in this package)", err)
	case !bytes.Equal(got.Bytes(), want):
		t.Errorf("%s differs from the golden file:\n%s", path, got.Bytes())
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if len(b) == 0 {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// SecretRef resolves what a container reads from a Secret under name: the
// variable itself (valueFrom), or name_FILE pointing into a projected
// Secret volume; nil when it reads neither.
func SecretRef(pod corev1.PodSpec, c corev1.Container, name string) *ugcv1.SecretKeyRef {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return &ugcv1.SecretKeyRef{Name: e.ValueFrom.SecretKeyRef.Name, Key: e.ValueFrom.SecretKeyRef.Key}
		}
		if e.Name != name+"_FILE" {
			continue
		}
		for _, m := range c.VolumeMounts {
			rel, ok := strings.CutPrefix(e.Value, m.MountPath+"/")
			if !ok {
				continue
			}
			for _, v := range pod.Volumes {
				if v.Name != m.Name || v.Projected == nil {
					continue
				}
				for _, src := range v.Projected.Sources {
					for _, it := range src.Secret.Items {
						if it.Path == rel {
							return &ugcv1.SecretKeyRef{Name: src.Secret.Name, Key: it.Key}
						}
					}
				}
			}
		}
	}
	return nil
}

// UpdateStack applies mutate to the current stack with c: one try, to
// retry under Eventually until no write of the operator's conflicts.
func UpdateStack(ctx context.Context, c client.Client, s *ugcv1.UGCStack, mutate func(*ugcv1.UGCStack)) func() error {
	return func() error {
		var cur ugcv1.UGCStack
		if err := c.Get(ctx, client.ObjectKeyFromObject(s), &cur); err != nil {
			return err
		}
		mutate(&cur)
		return c.Update(ctx, &cur)
	}
}

// RefusedUpdate applies mutate to the stack's latest version until the API
// server answers other than with a conflict (the operator writes the stack
// too), and returns that answer: a test of the CRD's rules expects it to be
// Invalid.
func RefusedUpdate(ctx context.Context, c client.Client, s *ugcv1.UGCStack, mutate func(*ugcv1.UGCStack)) error {
	update := UpdateStack(ctx, c, s, mutate)
	for {
		err := update()
		if !apierrors.IsConflict(err) || ctx.Err() != nil {
			return err
		}
	}
}
