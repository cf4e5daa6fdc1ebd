// Package e2e runs the ugcstack operator end to end on a real cluster (kind
// in CI, see .github/workflows/e2e.yml): the chart installed, a UGCStack
// created, the API used through a port-forward, the logs found in
// Elasticsearch when ECK is installed, and the cleanup after deletion.
//
// It runs only with UGC_E2E=1 (`make e2e`); without it the suite skips, so
// `go test ./...` stays cluster-free.
package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// Settings from the environment.
var (
	// apiImage is the UGC API image the stacks run; CI loads it into kind.
	apiImage = envOr("UGC_E2E_API_IMAGE", "ghcr.io/ugcstack/ugc:latest")
	// keepNamespace leaves the test namespace behind for a post-mortem.
	keepNamespace = os.Getenv("UGC_E2E_KEEP") == "1"
)

// Clients, set up by TestE2E.
var (
	restConfig *rest.Config
	k8s        client.Client
	clientset  *kubernetes.Clientset
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func TestE2E(t *testing.T) {
	if os.Getenv("UGC_E2E") != "1" {
		t.Skip("e2e suite skipped: it needs a Kubernetes cluster with the chart installed; run it with `make e2e` (UGC_E2E=1) against the current kubeconfig")
	}
	cfg, where, err := connect()
	if err != nil {
		t.Fatalf("e2e: no Kubernetes cluster is reachable (%s): %v\n"+
			"Create one first, e.g. `kind create cluster` (kind needs a Docker engine), "+
			"then install the chart as the README's kind quick start shows.", where, err)
	}
	restConfig = cfg
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := ugcv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	if clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if ok, err := servesGroupVersion(ugcv1.GroupVersion.String(), "ugcstacks"); err != nil || !ok {
		t.Fatalf("e2e: the cluster at %s has no UGCStack CRD (%v): install the chart first: helm install ugcstack charts/ugcstack -n ugcstack-system --create-namespace", cfg.Host, err)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "ugcstack e2e")
}

// connect loads the kubeconfig as kubectl would (KUBECONFIG, ~/.kube/config,
// in-cluster) and asks the server for its version, so an unreachable
// cluster is reported once, plainly, instead of by every spec.
func connect() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	where := "kubeconfig " + rules.GetDefaultFilename()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, where, err
	}
	where = fmt.Sprintf("%s, server %s", where, cfg.Host)
	probe := rest.CopyConfig(cfg)
	probe.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(probe)
	if err != nil {
		return nil, where, err
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		return nil, where, err
	}
	return cfg, where, nil
}

// servesGroupVersion reports whether the API server serves resource in
// groupVersion: the UGCStack CRD, or ECK's kinds.
func servesGroupVersion(groupVersion, resource string) (bool, error) {
	list, err := clientset.Discovery().ServerResourcesForGroupVersion(groupVersion)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	for _, r := range list.APIResources {
		if r.Name == resource {
			return true, nil
		}
	}
	return false, nil
}
