// Package logging holds the log pipeline's configuration: Filebeat's inputs,
// the Logstash pipeline, the Elasticsearch index template and ILM policy, and
// Kibana's saved objects. The operator renders them into the ECK objects; the
// same files serve people running ELK without Kubernetes
// (docker-compose.yml beside them).
package logging

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

//go:embed filebeat.yml logstash.conf index-template.json ilm-policy.json kibana-saved-objects.ndjson
var files embed.FS

func read(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot be missing
	}
	return b
}

// Names of the pipeline's Elasticsearch objects. Logstash writes the data
// stream logs-ugc-default (Elastic's logs-<dataset>-<namespace> naming):
// the user ECK creates for a Logstash's elasticsearchRefs has only
// eck_logstash_user_role, whose index privileges cover logs-* among a few
// Elastic patterns and nothing else of ours (cloud-on-k8s v3.5.0
// pkg/controller/elasticsearch/user/roles.go).
const (
	DataStream     = "logs-ugc-default"
	IndexPattern   = "logs-ugc-*"
	TemplateName   = "ugc-logs"
	ILMPolicyName  = "ugc-logs"
	LogstashPort   = 5044
	KibanaDataView = "ugc-logs"
)

// FilebeatConfig returns filebeat.yml as the object an ECK Beat takes in
// spec.config: a fresh copy on every call, for the caller to adjust. The file
// is embedded and parsed by this package's tests, so it cannot fail here.
func FilebeatConfig() map[string]any {
	var cfg map[string]any
	if err := yaml.Unmarshal(read("filebeat.yml"), &cfg); err != nil {
		panic(fmt.Sprintf("logging: embedded filebeat.yml: %v", err))
	}
	return cfg
}

// LogstashPipeline returns the pipeline definition (logstash.conf).
func LogstashPipeline() string { return string(read("logstash.conf")) }

// IndexTemplate returns the composable index template that makes
// IndexPattern data streams.
func IndexTemplate() []byte { return read("index-template.json") }

// ILMPolicy returns the lifecycle policy the template names.
func ILMPolicy() []byte { return read("ilm-policy.json") }

// KibanaSavedObjects returns the NDJSON to POST to Kibana's
// /api/saved_objects/_import: the data view, the "errors by request id"
// search, three visualizations and the dashboard.
func KibanaSavedObjects() []byte { return read("kibana-saved-objects.ndjson") }

// FieldTypes flattens the template's mappings into dotted field names and
// their Elasticsearch types, the vocabulary every log line must speak.
func FieldTypes() (map[string]string, error) {
	var t struct {
		Template struct {
			Mappings struct {
				Properties map[string]mapping `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(IndexTemplate(), &t); err != nil {
		return nil, fmt.Errorf("logging: index template: %w", err)
	}
	out := map[string]string{}
	flatten("", t.Template.Mappings.Properties, out)
	return out, nil
}

type mapping struct {
	Type       string             `json:"type"`
	Properties map[string]mapping `json:"properties"`
	Fields     map[string]mapping `json:"fields"`
}

func flatten(prefix string, props map[string]mapping, out map[string]string) {
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := props[n]
		if m.Type != "" {
			out[prefix+n] = m.Type
		}
		flatten(prefix+n+".", m.Properties, out)
		flatten(prefix+n+".", m.Fields, out)
	}
}
