package estest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The stand-in must refuse what Elasticsearch refuses, or the tests that
// use it prove nothing.
func TestRefusesWhatElasticsearchRefuses(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := "admin:" + string(hash) + "\nwriter:" + string(hash) + "\n"
	roles := "logs_writer:\n  cluster: [monitor]\n  indices:\n  - names: [logs-*]\n    privileges: [write, create_index]\n"
	realm, err := ParseRealm([]byte(users), []byte("superuser:admin\nlogs_writer:writer\n"), []byte(roles))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(realm))
	t.Cleanup(srv.Close)
	call := func(user, password, method, path, body string) (int, string) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	template := `{"index_patterns":["logs-x-*"],"data_stream":{},"priority":200,"template":{"settings":{"number_of_shards":1}}}`
	for _, tt := range []struct {
		name, user, password, method, path, body string
		status                                   int
		contains                                 string
	}{
		{"wrong password", "admin", "nope", "PUT", "/_index_template/x", template, 401, "security_exception"},
		{"unknown user", "ghost", "pw", "PUT", "/_index_template/x", template, 401, "security_exception"},
		{"template without privilege", "writer", "pw", "PUT", "/_index_template/x", template, 403, "security_exception"},
		{"template with an unknown field", "admin", "pw", "PUT", "/_index_template/x", `{"index_patterns":["a"],"pattern":"b"}`, 400, "x_content_parse_exception"},
		{"template without patterns", "admin", "pw", "PUT", "/_index_template/x", `{"priority":1}`, 400, "index patterns are missing"},
		{"policy with rollover in warm", "admin", "pw", "PUT", "/_ilm/policy/p", `{"policy":{"phases":{"warm":{"actions":{"rollover":{}}}}}}`, 400, "invalid action [rollover]"},
		{"policy as superuser", "admin", "pw", "PUT", "/_ilm/policy/p", `{"policy":{"phases":{"hot":{"min_age":"0ms","actions":{"rollover":{"max_age":"1d"}}}}}}`, 200, "acknowledged"},
		{"template as superuser", "admin", "pw", "PUT", "/_index_template/x", template, 200, "acknowledged"},
		{"write outside the role", "writer", "pw", "POST", "/_bulk", "{\"create\":{\"_index\":\"ugc-1\"}}\n{}\n", 200, `"status":403`},
		{"index op into a data stream", "writer", "pw", "POST", "/_bulk", "{\"index\":{\"_index\":\"logs-x-default\"}}\n{}\n", 200, "only write ops with an op_type of create"},
		{"create into a data stream", "writer", "pw", "POST", "/_bulk", "{\"create\":{\"_index\":\"logs-x-default\"}}\n{}\n", 200, `"status":201`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(tt.user, tt.password, tt.method, tt.path, tt.body)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("%d %s, want %d with %q", status, body, tt.status, tt.contains)
			}
		})
	}
}
