// Command eck-webhook serves ECK's own validating webhooks for the kinds a
// UGCStack renders (Elasticsearch v1, Kibana v1, Logstash v1alpha1, Beat
// v1beta1) on 127.0.0.1 only. ECK's operator registers the same validators,
// but its webhook server listens on every interface and has no flag to
// change that; the tests run the operator with --enable-webhook=false and
// this process beside it, so the API server still asks ECK's code.
//
//	eck-webhook --kubeconfig FILE --port N --cert-dir DIR
//
// DIR holds tls.crt and tls.key for 127.0.0.1; --kubeconfig (or
// $KUBECONFIG) is controller-runtime's own flag.
package main

import (
	"flag"
	"fmt"
	"os"

	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	beatv1beta1 "github.com/elastic/cloud-on-k8s/v3/pkg/apis/beat/v1beta1"
	kbv1 "github.com/elastic/cloud-on-k8s/v3/pkg/apis/kibana/v1"
	"github.com/elastic/cloud-on-k8s/v3/pkg/controller/common/license"
	"github.com/elastic/cloud-on-k8s/v3/pkg/controller/common/scheme"
	commonwebhook "github.com/elastic/cloud-on-k8s/v3/pkg/controller/common/webhook"
	esvalidation "github.com/elastic/cloud-on-k8s/v3/pkg/controller/elasticsearch/validation"
	lsvalidation "github.com/elastic/cloud-on-k8s/v3/pkg/controller/logstash/validation"
)

func main() {
	port := flag.Int("port", 0, "port to serve on, on 127.0.0.1")
	certDir := flag.String("cert-dir", "", "directory with tls.crt and tls.key")
	operatorNamespace := flag.String("operator-namespace", "elastic-system", "namespace ECK's license checker reads")
	flag.Parse()
	if err := run(*port, *certDir, *operatorNamespace); err != nil {
		fmt.Fprintln(os.Stderr, "eck-webhook:", err)
		os.Exit(1)
	}
}

func run(port int, certDir, operatorNamespace string) error {
	if port == 0 || certDir == "" {
		return fmt.Errorf("--port and --cert-dir are required")
	}
	ctrl.SetLogger(zap.New())
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	scheme.SetupScheme()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 clientgoscheme.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer:          webhook.NewServer(webhook.Options{Host: "127.0.0.1", Port: port, CertDir: certDir}),
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	// The registrations ECK's cmd/manager/validation.go makes for these
	// kinds, with its defaults: every namespace, no storage-class check.
	checker := license.NewLicenseChecker(mgr.GetClient(), operatorNamespace)
	commonwebhook.RegisterResourceWebhook(mgr, beatv1beta1.WebhookPath, checker, nil, nil, beatv1beta1.Validate, "Beat")
	commonwebhook.RegisterResourceWebhook(mgr, kbv1.WebhookPath, checker, nil, nil, kbv1.Validate, "Kibana")
	esvalidation.RegisterWebhook(mgr, false, nil, checker, nil, nil)
	lsvalidation.RegisterWebhook(mgr, false, nil, nil)
	return mgr.Start(ctrl.SetupSignalHandler())
}
