package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestFilebeatDecodesJSONLinesIntoECS(t *testing.T) {
	cfg := FilebeatConfig()
	inputs, _ := cfg["filebeat.inputs"].([]any)
	if len(inputs) != 1 {
		t.Fatalf("inputs = %v", cfg["filebeat.inputs"])
	}
	in := inputs[0].(map[string]any)
	var ndjson map[string]any
	for _, p := range in["parsers"].([]any) {
		if m, ok := p.(map[string]any)["ndjson"]; ok {
			ndjson = m.(map[string]any)
		}
	}
	if ndjson == nil || ndjson["expand_keys"] != true || ndjson["target"] != "" {
		t.Fatalf("ndjson parser = %v: dotted keys must be expanded at the root", ndjson)
	}
	out := cfg["output.logstash"].(map[string]any)
	if hosts := out["hosts"].([]any); len(hosts) != 1 || !strings.Contains(hosts[0].(string), ":5044") {
		t.Fatalf("logstash output hosts %v", hosts)
	}
}

func TestLogstashPipeline(t *testing.T) {
	p := LogstashPipeline()
	for _, want := range []string{
		"beats {", "port => 5044", `"/healthz", "/readyz"`, "drop { }", "[http][request][id]",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("pipeline lacks %q", want)
		}
	}
	if strings.Count(p, "{") != strings.Count(p, "}") {
		t.Error("unbalanced braces")
	}
}

func TestTemplateAndPolicy(t *testing.T) {
	var tmpl struct {
		IndexPatterns []string `json:"index_patterns"`
		Template      struct {
			Settings map[string]any `json:"settings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(IndexTemplate(), &tmpl); err != nil {
		t.Fatal(err)
	}
	if len(tmpl.IndexPatterns) != 1 || tmpl.IndexPatterns[0] != IndexPattern || tmpl.Template.Settings["index.lifecycle.name"] != ILMPolicyName {
		t.Fatalf("template = %+v", tmpl)
	}
	var pol struct {
		Policy struct {
			Phases map[string]struct {
				MinAge  string         `json:"min_age"`
				Actions map[string]any `json:"actions"`
			} `json:"phases"`
		} `json:"policy"`
	}
	if err := json.Unmarshal(ILMPolicy(), &pol); err != nil {
		t.Fatal(err)
	}
	ph := pol.Policy.Phases
	if ph["warm"].MinAge != "7d" || ph["delete"].MinAge != "30d" || ph["delete"].Actions["delete"] == nil {
		t.Fatalf("phases = %+v: want hot for 7 days and deletion at 30", ph)
	}
	types, err := FieldTypes()
	if err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]string{
		"@timestamp": "date", "http.request.id": "keyword", "event.duration": "long",
		"http.response.status_code": "long", "error.message.keyword": "keyword", "nginx.request_time": "float",
	} {
		if types[field] != want {
			t.Errorf("%s is mapped as %q, want %q", field, types[field], want)
		}
	}
}

// TestKibanaObjects checks the NDJSON is importable in shape: one object per
// line with type, id and attributes, every reference pointing at an object in
// the file, and every field the objects use mapped by the template.
func TestKibanaObjects(t *testing.T) {
	types, err := FieldTypes()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	var objects []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(KibanaSavedObjects()))
	for sc.Scan() {
		var o map[string]any
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		id, _ := o["id"].(string)
		typ, _ := o["type"].(string)
		if id == "" || typ == "" || o["attributes"] == nil {
			t.Fatalf("object without id, type or attributes: %v", o)
		}
		ids[id] = typ
		objects = append(objects, o)
	}
	for _, want := range []string{"index-pattern", "search", "visualization", "dashboard"} {
		found := false
		for _, typ := range ids {
			found = found || typ == want
		}
		if !found {
			t.Errorf("no %s object", want)
		}
	}
	field := regexp.MustCompile(`"field":"([^"]+)"`)
	for _, o := range objects {
		refs, _ := o["references"].([]any)
		for _, r := range refs {
			ref := r.(map[string]any)
			if ids[ref["id"].(string)] != ref["type"] {
				t.Errorf("%s refers to missing %s %s", o["id"], ref["type"], ref["id"])
			}
		}
		raw, _ := json.Marshal(o["attributes"])
		unescaped := strings.ReplaceAll(string(raw), `\"`, `"`)
		for _, m := range field.FindAllStringSubmatch(unescaped, -1) {
			if types[m[1]] == "" {
				t.Errorf("%s uses field %s, which the template does not map", o["id"], m[1])
			}
		}
	}
	if ids[KibanaDataView] != "index-pattern" {
		t.Errorf("data view %q missing", KibanaDataView)
	}
}

// TestComposeFileParses: docker compose cannot run here, so at least the file
// must be YAML whose services mount the files of this package.
func TestComposeFileParses(t *testing.T) {
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image   string   `yaml:"image"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"elasticsearch", "logstash", "kibana", "filebeat"} {
		if c.Services[s].Image == "" {
			t.Errorf("service %s missing", s)
		}
	}
	mounts := strings.Join(append(c.Services["logstash"].Volumes, c.Services["filebeat"].Volumes...), " ")
	for _, f := range []string{"./logstash.conf:", "./filebeat.yml:"} {
		if !strings.Contains(mounts, f) {
			t.Errorf("compose does not mount %s", f)
		}
	}
}

// TestIndexTemplateFitsOneNode: a replica cannot be allocated on the node
// holding its primary, so a fixed number_of_replicas of 1 leaves a one-node
// cluster yellow for good. index.auto_expand_replicas "0-1" gives as many
// replicas as there are other data nodes, at most one (Elasticsearch
// reference, "Index modules": index.auto_expand_replicas).
func TestIndexTemplateFitsOneNode(t *testing.T) {
	var tmpl struct {
		Template struct {
			Settings map[string]any `json:"settings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(IndexTemplate(), &tmpl); err != nil {
		t.Fatal(err)
	}
	settings := tmpl.Template.Settings
	if settings["auto_expand_replicas"] != "0-1" {
		t.Errorf("auto_expand_replicas = %v, want 0-1", settings["auto_expand_replicas"])
	}
	if n, ok := settings["number_of_replicas"]; ok {
		t.Errorf("number_of_replicas %v fixes the count a one-node cluster cannot hold", n)
	}
}
