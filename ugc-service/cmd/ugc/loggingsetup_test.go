package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestLoggingSetupConfigListsEveryProblem(t *testing.T) {
	env := map[string]string{"UGC_LOGGING_ES_URL": "es:9200", "UGC_LOGGING_KIBANA_URL": "ftp://kibana"}
	_, err := loadLoggingSetupConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"UGC_LOGGING_ES_URL", "UGC_LOGGING_KIBANA_URL", "UGC_LOGGING_PASSWORD"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s:\n%v", want, err)
		}
	}
}

// TestLoggingSetupOverTLSWithTheGivenCA runs the command against a TLS
// stand-in for Elasticsearch and Kibana (neither is installable where the tests run): the
// CA file makes the connection trusted, and without it the command fails.
func TestLoggingSetupOverTLSWithTheGivenCA(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if user, pw, _ := r.BasicAuth(); user != "elastic" || pw != "pw" {
			http.Error(w, `{"error":"security_exception"}`, http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"acknowledged":true,"success":true}`))
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"UGC_LOGGING_ES_URL": srv.URL, "UGC_LOGGING_KIBANA_URL": srv.URL, "UGC_LOGGING_PASSWORD": "pw",
	}
	getenv := func(k string) string { return env[k] }

	if err := loggingSetup(context.Background(), getenv, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: err = %v, want a certificate error", err)
	}
	env["UGC_LOGGING_CA_FILES"] = " " + ca + " ,"
	var out bytes.Buffer
	if err := run(context.Background(), []string{"logging-setup"}, getenv, &out); err != nil {
		t.Fatal(err)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3 (policy, template, saved objects)", n)
	}
	if !strings.Contains(out.String(), "saved objects imported") {
		t.Errorf("output %q", out.String())
	}
}
