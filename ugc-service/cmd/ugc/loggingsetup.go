package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ugcstack/ugcstack/deploy/logging"
)

// loggingSetupConfig is what `ugc logging-setup` reads from its environment;
// the operator's setup Job sets these from the ECK-generated Secrets.
type loggingSetupConfig struct {
	Target  logging.Target
	CAFiles []string      // UGC_LOGGING_CA_FILES, comma-separated PEM files
	Timeout time.Duration // per request
}

// loadLoggingSetupConfig validates the environment and reports every
// problem at once:
//
//	UGC_LOGGING_ES_URL      required, http(s) URL of Elasticsearch
//	UGC_LOGGING_KIBANA_URL  optional, http(s) URL of Kibana; unset skips the saved objects
//	UGC_LOGGING_USER        default elastic
//	UGC_LOGGING_PASSWORD    required; or UGC_LOGGING_PASSWORD_FILE, a file that holds it
//	UGC_LOGGING_CA_FILES    optional, PEM files trusted besides the system roots
func loadLoggingSetupConfig(getenv func(string) string) (loggingSetupConfig, error) {
	var problems []error
	password, err := secretFromEnv(getenv, "UGC_LOGGING_PASSWORD")
	if err != nil {
		problems = append(problems, err)
	}
	c := loggingSetupConfig{
		Target: logging.Target{
			ESURL:     getenv("UGC_LOGGING_ES_URL"),
			KibanaURL: getenv("UGC_LOGGING_KIBANA_URL"),
			User:      getenv("UGC_LOGGING_USER"),
			Password:  password,
		},
		Timeout: 30 * time.Second,
	}
	if c.Target.User == "" {
		c.Target.User = "elastic"
	}
	checkURL := func(name, v string, required bool) {
		if v == "" && !required {
			return
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Errorf("%s: want an http:// or https:// URL, got %q", name, v))
		}
	}
	checkURL("UGC_LOGGING_ES_URL", c.Target.ESURL, true)
	checkURL("UGC_LOGGING_KIBANA_URL", c.Target.KibanaURL, false)
	if c.Target.Password == "" {
		problems = append(problems, errors.New("UGC_LOGGING_PASSWORD: must be set"))
	}
	for f := range strings.SplitSeq(getenv("UGC_LOGGING_CA_FILES"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			c.CAFiles = append(c.CAFiles, f)
		}
	}
	return c, errors.Join(problems...)
}

// httpClient trusts the system roots plus the configured CAs: ECK serves
// Elasticsearch and Kibana with certificates from its own CAs.
func (c loggingSetupConfig) httpClient() (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	for _, f := range c.CAFiles {
		pem, err := os.ReadFile(f) //nolint:gosec // G304: the paths are the deployment's configuration, not request input
		if err != nil {
			return nil, fmt.Errorf("UGC_LOGGING_CA_FILES: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("UGC_LOGGING_CA_FILES: %s holds no PEM certificate", f)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: c.Timeout}, nil
}

// loggingSetup is `ugc logging-setup`: it loads the ILM policy, the index
// template and the Kibana saved objects the log pipeline needs. Every step
// replaces what is there, so it is safe to run again.
func loggingSetup(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	c, err := loadLoggingSetupConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	hc, err := c.httpClient()
	if err != nil {
		return err
	}
	if err := logging.Setup(ctx, hc, c.Target); err != nil {
		return err
	}
	kibana := "no Kibana: saved objects skipped"
	if c.Target.KibanaURL != "" {
		kibana = "saved objects imported into " + c.Target.KibanaURL
	}
	_, err = fmt.Fprintf(stdout, "logging setup: ILM policy %s and index template %s in %s; %s\n",
		logging.ILMPolicyName, logging.TemplateName, c.Target.ESURL, kibana)
	return err
}
