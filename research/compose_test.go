// Package research holds the report, the compose cluster and its configs;
// this test keeps docker-compose.yml valid YAML and in step with the tool.
package research

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ugcstack/ugcstack/research/clickhouse"
	"github.com/ugcstack/ugcstack/research/mongo"
	"github.com/ugcstack/ugcstack/research/postgres"
	"github.com/ugcstack/ugcstack/research/redisstore"
	"github.com/ugcstack/ugcstack/research/vertica"
)

type compose struct {
	Services map[string]struct {
		Image   string   `yaml:"image"`
		Ports   []string `yaml:"ports"`
		Volumes []string `yaml:"volumes"`
	} `yaml:"services"`
}

func TestComposeMatchesToolDefaults(t *testing.T) {
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	published := map[string]string{} // "127.0.0.1:port" -> service
	for name, s := range c.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q beyond 127.0.0.1", name, p)
			}
			parts := strings.Split(p, ":")
			published["127.0.0.1:"+parts[1]] = name
		}
		for _, v := range s.Volumes {
			src := strings.Split(v, ":")[0]
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s mounts missing %s", name, src)
				}
			}
		}
	}
	for addr, svc := range map[string]string{
		hostPort(mongo.DefaultURI): "mongos", clickhouse.DefaultAddr: "ch-s1r1", hostPort(postgres.DefaultDSN): "postgres",
		redisstore.DefaultAddr: "redis", hostPort(vertica.DefaultDSN): "vertica",
	} {
		if published[addr] != svc {
			t.Errorf("tool default %s should be published by %s, is by %q", addr, svc, published[addr])
		}
	}
	for _, want := range []string{"mongo-cfg", "mongo-shard1a", "mongo-shard1b", "mongo-shard2a", "mongo-shard2b", "mongos", "ch-keeper", "ch-s1r1", "ch-s1r2", "ch-s2r1", "ch-s2r2"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("service %s missing", want)
		}
	}
}

// hostPort extracts host:port from a URL-shaped DSN.
func hostPort(dsn string) string {
	s := dsn[strings.Index(dsn, "://")+3:]
	if i := strings.Index(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, "/?"); i >= 0 {
		s = s[:i]
	}
	return s
}

func TestClickHouseConfigsAreXML(t *testing.T) {
	files, _ := filepath.Glob("config/clickhouse/*.xml")
	if len(files) != 6 {
		t.Fatalf("%d ClickHouse configs, want 6 (cluster, keeper, 4 macros)", len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var v struct{}
		if err := xml.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
