package logging

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ugcstack/ugcstack/deploy/logging/estest"
)

// esOutput is the option => value pairs of the pipeline's elasticsearch
// output, values unquoted.
func esOutput(t *testing.T) map[string]string {
	t.Helper()
	p := LogstashPipeline()
	out := p[strings.Index(p, "output {"):]
	block := out[strings.Index(out, "elasticsearch {"):]
	block = block[:strings.Index(block, "\n  }")]
	opts := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*([a-z_]+)\s*=>\s*(.+)$`).FindAllStringSubmatch(block, -1) {
		opts[m[1]] = strings.Trim(m[2], `"`)
	}
	if len(opts) == 0 {
		t.Fatal("no options in the elasticsearch output")
	}
	return opts
}

// pipelineTarget is where the pipeline writes an event of day: the data
// stream <type>-<dataset>-<namespace> when data_stream is on, else the
// index with its date pattern filled in.
func pipelineTarget(t *testing.T, day time.Time) string {
	opts := esOutput(t)
	if opts["data_stream"] == "true" {
		return opts["data_stream_type"] + "-" + opts["data_stream_dataset"] + "-" + opts["data_stream_namespace"]
	}
	return strings.ReplaceAll(opts["index"], "%{+YYYY.MM.dd}", day.Format("2006.01.02"))
}

// TestDataStreamOutputTakesOnlyWhatLogstashAllows: with data_stream on,
// Logstash refuses to start on any option outside the API settings,
// data_stream_*, action => create, routing, pipeline and ecs_compatibility
// (logstash-output-elasticsearch lib/logstash/outputs/elasticsearch/
// data_stream_support.rb, invalid_data_stream_params): index,
// manage_template and ilm_enabled among them.
func TestDataStreamOutputTakesOnlyWhatLogstashAllows(t *testing.T) {
	opts := esOutput(t)
	if opts["data_stream"] != "true" {
		t.Fatalf("data_stream = %q", opts["data_stream"])
	}
	api := map[string]bool{"hosts": true, "user": true, "password": true, "ssl_certificate_authorities": true}
	for name, value := range opts {
		ok := api[name] || strings.HasPrefix(name, "data_stream") || name == "routing" || name == "pipeline" ||
			name == "ecs_compatibility" || (name == "action" && value == "create")
		if !ok {
			t.Errorf("%s => %s: Logstash refuses it in a data stream output", name, value)
		}
	}
	if got := pipelineTarget(t, time.Now()); got != DataStream {
		t.Errorf("the pipeline writes %s; DataStream says %s", got, DataStream)
	}
	if !match(IndexPattern, DataStream) {
		t.Errorf("the template's pattern %s does not match %s", IndexPattern, DataStream)
	}
}

func match(pattern, name string) bool {
	return strings.HasSuffix(pattern, "*") && strings.HasPrefix(name, strings.TrimSuffix(pattern, "*"))
}

// realm is a file realm as ECK writes it: elastic a superuser, the Logstash
// association user with ECK's eck_logstash_user_role.
func realm(t *testing.T, passwords map[string]string) estest.Realm {
	t.Helper()
	roles, err := os.ReadFile("testdata/eck-logstash-user-role.yml")
	if err != nil {
		t.Fatal(err)
	}
	var users bytes.Buffer
	for user, pw := range passwords {
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		users.WriteString(user + ":" + string(hash) + "\n")
	}
	r, err := estest.ParseRealm(users.Bytes(), []byte("superuser:elastic\neck_logstash_user_role:ugc-logs-ls-ugc-logstash-user\n"), roles)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// bulkCreate writes one document to target as user and returns the item's
// status and error type.
func bulkCreate(t *testing.T, url, user, password, target string) (int, string) {
	t.Helper()
	status, errType, err := estest.Create(url, user, password, target)
	if err != nil {
		t.Fatal(err)
	}
	return status, errType
}

// TestLogstashsUserMayWriteThePipelinesTarget is defect 1 of the logging
// review: the pipeline wrote ugc-logs-YYYY.MM.dd, which ECK's Logstash user
// may not, so every bulk write got 403 and nothing was indexed. Set up as
// the elastic user (as the setup Job is), the pipeline's target must take a
// document from Logstash's user, and become a data stream.
func TestLogstashsUserMayWriteThePipelinesTarget(t *testing.T) {
	pw := map[string]string{"elastic": "elastic-pw", "ugc-logs-ls-ugc-logstash-user": "ls-pw"}
	es := estest.New(realm(t, pw))
	srv := httptest.NewServer(es)
	t.Cleanup(srv.Close)
	if err := Setup(context.Background(), srv.Client(), Target{ESURL: srv.URL, User: "elastic", Password: pw["elastic"]}); err != nil {
		t.Fatalf("setup refused by Elasticsearch's rules: %v", err)
	}
	target := pipelineTarget(t, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	status, errType := bulkCreate(t, srv.URL, "ugc-logs-ls-ugc-logstash-user", pw["ugc-logs-ls-ugc-logstash-user"], target)
	if status != http.StatusCreated {
		t.Fatalf("Logstash's write to %s: %d %s", target, status, errType)
	}
	if !es.IsDataStream(target) || es.Docs(target) != 1 {
		t.Errorf("%s: data stream %v, %d documents", target, es.IsDataStream(target), es.Docs(target))
	}
	// What the pipeline wrote before: refused, as on a real cluster.
	if status, errType := bulkCreate(t, srv.URL, "ugc-logs-ls-ugc-logstash-user", pw["ugc-logs-ls-ugc-logstash-user"], "ugc-logs-2026.12.02"); status != http.StatusForbidden || errType != "security_exception" {
		t.Errorf("ugc-logs-2026.12.02 as Logstash's user: %d %s, want 403 security_exception", status, errType)
	}
}
