// Package loggingtest puts ECK's real CRDs in a test's API server, from the
// pinned ECK module (make's eck-bins target copies them beside the ECK
// test tools), and writes the status ECK's controllers write where no ECK
// controller runs, or where one cannot reach a real Elasticsearch.
package loggingtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// AssetsEnv names the directory with ECK's test tools: crds.yaml,
// webhooks.yaml, elastic-operator and eck-webhook (hack/eck-bins.sh).
const AssetsEnv = "UGC_ECK_ASSETS"

// Asset is the path of one of ECK's test tools, or an error naming the make
// target that builds them.
func Asset(name string) (string, error) {
	dir := os.Getenv(AssetsEnv)
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); dir == "" || err != nil {
		return "", fmt.Errorf("%s not in $%s (%q): `make eck-bins` builds ECK's test tools", name, AssetsEnv, dir)
	}
	return p, nil
}

// Install creates ECK's CRDs, every kind ECK serves, and waits until the
// API server serves each.
func Install(cfg *rest.Config) error {
	p, err := Asset("crds.yaml")
	if err != nil {
		return err
	}
	_, err = envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{p}, ErrorIfPathMissing: true, MaxTime: time.Minute})
	if err != nil {
		return fmt.Errorf("install ECK's CRDs from %s: %w", p, err)
	}
	return nil
}

// Healthy is the status ECK writes for o when everything it runs serves,
// with the field names of ECK's API types (cloud-on-k8s v3.5.0
// pkg/apis/{elasticsearch,kibana,logstash,beat}): health green, every node
// available, the current generation observed, the spec's version running
// (ECK's associations compare versions with it), associations Established.
// nodes is the node count (Elasticsearch's node set, Beat's daemon pods).
func Healthy(o *unstructured.Unstructured, nodes int64) map[string]any {
	version, _, _ := unstructured.NestedString(o.Object, "spec", "version")
	st := map[string]any{"health": "green", "availableNodes": nodes, "observedGeneration": o.GetGeneration(), "version": version}
	ref := o.GetNamespace() + "/" + o.GetName()
	switch o.GetKind() {
	case "Elasticsearch":
		st["phase"] = "Ready"
	case "Kibana":
		st["elasticsearchAssociationStatus"] = "Established"
		st["associationStatus"] = "Established"
	case "Logstash":
		st["expectedNodes"] = nodes
		st["elasticsearchAssociationsStatus"] = map[string]any{ref: "Established"}
		st["selector"] = "logstash.k8s.elastic.co/name=" + o.GetName()
	case "Beat":
		st["expectedNodes"] = nodes
	}
	return st
}

// SetStatus reads the ECK object ns/name of kind k, lets change edit its
// status, and writes the status back, as ECK's controllers do.
func SetStatus(ctx context.Context, c client.Client, k schema.GroupVersionKind, ns, name string, change func(o *unstructured.Unstructured, status map[string]any)) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k)
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		return err
	}
	status, _, _ := unstructured.NestedMap(u.Object, "status")
	if status == nil {
		status = map[string]any{}
	}
	change(u, status)
	u.Object["status"] = status
	return c.Status().Update(ctx, u)
}

// SetHealthy writes Healthy for the ECK object ns/name of kind k.
func SetHealthy(ctx context.Context, c client.Client, k schema.GroupVersionKind, ns, name string, nodes int64) error {
	return SetStatus(ctx, c, k, ns, name, func(o *unstructured.Unstructured, st map[string]any) {
		for key, v := range Healthy(o, nodes) {
			st[key] = v
		}
	})
}
