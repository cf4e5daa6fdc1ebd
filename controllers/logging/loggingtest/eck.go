// Package loggingtest puts ECK's real CRDs in a test's API server, from the
// pinned ECK module (make's eck-bins target copies them beside the ECK
// test tools), and writes the status ECK's controllers write where no ECK
// controller runs, or where one cannot reach a real Elasticsearch.
package loggingtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
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

// CRDs reads ECK's CRDs, every kind ECK serves.
func CRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	p, err := Asset("crds.yaml")
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*apiextensionsv1.CustomResourceDefinition
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if m == nil {
			continue
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, crd); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, crd)
	}
}

// Install creates ECK's CRDs (those already there are kept) and waits
// until the API server serves each.
func Install(ctx context.Context, c client.Client) error {
	crds, err := CRDs()
	if err != nil {
		return err
	}
	for _, crd := range crds {
		if err := c.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create CRD %s: %w", crd.Name, err)
		}
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got := &apiextensionsv1.CustomResourceDefinition{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(crd), got); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			return established(got), nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", crd.Name, err)
		}
	}
	return nil
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
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
