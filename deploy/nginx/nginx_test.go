package nginx

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite nginx.conf from the template")

// TestShippedConfigIsTheDefaultRendering keeps deploy/nginx/nginx.conf, the
// file people use without Kubernetes, identical to what the operator renders.
func TestShippedConfigIsTheDefaultRendering(t *testing.T) {
	got, err := Render(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("nginx.conf", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatal("nginx.conf differs from Render(Defaults()); run: go test ./deploy/nginx -update")
	}
}

func TestRender(t *testing.T) {
	p := Defaults()
	p.Upstreams = []string{"10.0.0.1:8080", "10.0.0.2:8080"}
	p.RatePerSecond, p.Burst = 7, 3
	got, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"server 10.0.0.1:8080;", "server 10.0.0.2:8080;", "rate=7r/s", "burst=3 nodelay",
		"client_max_body_size 64k;", "proxy_set_header X-Request-Id $ugc_request_id;",
		`"http.request.id":"$ugc_request_id"`, "access_log /dev/stdout ugc_json;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
	if strings.Contains(got, "\nuser ") {
		t.Error("user directive rendered without RunAsUser")
	}
	p.RatePerSecond = 0
	unlimited, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(unlimited, "limit_req") {
		t.Error("a rate of 0 still renders a limit")
	}
	for _, bad := range []Params{{}, {Listen: "80", Upstreams: []string{"a:1"}, MaxBodySize: "1k"}} {
		if _, err := Render(bad); err == nil {
			t.Errorf("Render(%+v) accepted", bad)
		}
	}
}
