package gateway

import (
	"strings"
	"testing"

	"github.com/ugcstack/ugcstack/controllers/common/commontest"
)

func TestGolden(t *testing.T) {
	for name, s := range commontest.Samples() {
		t.Run(name, func(t *testing.T) {
			objs, err := Objects(s)
			if err != nil {
				t.Fatal(err)
			}
			commontest.Golden(t, name, objs)
		})
	}
}

// TestUsesTheShippedConfig holds the gateway to deploy/nginx's template:
// what runs in the cluster is what the gateway tests run for real.
func TestUsesTheShippedConfig(t *testing.T) {
	cm, err := ConfigMap(commontest.Production())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"http.request.id":"$ugc_request_id"`, "proxy_set_header X-Request-Id $ugc_request_id;", "client_max_body_size 64k;"} {
		if !strings.Contains(cm.Data["nginx.conf"], want) {
			t.Errorf("gateway config lacks %q", want)
		}
	}
}
