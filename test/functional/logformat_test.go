package functional

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ugcstack/ugcstack/deploy/logging"
)

// accessFields are what every API access line must carry: the pipeline and
// Kibana's objects search and aggregate on them.
var accessFields = []string{
	"@timestamp", "log.level", "message", "service.name", "event.dataset", "http.request.method", "url.path",
	"http.route", "http.response.status_code", "http.response.body.bytes", "event.duration",
	"http.request.id", "trace.id", "client.ip", "user_agent.original",
}

// nginxFields are what every gateway access line must carry.
var nginxFields = []string{
	"@timestamp", "event.dataset", "message", "http.request.method", "url.path", "http.response.status_code",
	"http.response.body.bytes", "http.request.id", "trace.id", "source.address", "nginx.request_time",
}

// conforms checks a log line against the index template: every required
// field present, and every mapped field of the JSON type its mapping needs.
func conforms(t *testing.T, kind string, line map[string]any, required []string, types map[string]string) {
	t.Helper()
	for _, f := range required {
		if _, ok := line[f]; !ok {
			t.Errorf("%s line lacks %s: %v", kind, f, line)
		}
	}
	for f, v := range line {
		typ, mapped := types[f]
		if !mapped {
			continue
		}
		ok := true
		switch typ {
		case "keyword", "text":
			_, ok = v.(string)
		case "long", "float":
			_, ok = v.(float64)
		case "date":
			s, _ := v.(string)
			_, err := time.Parse(time.RFC3339, s)
			ok = err == nil
		case "ip":
			s, _ := v.(string)
			ok = net.ParseIP(s) != nil
		}
		if !ok {
			t.Errorf("%s line: %s = %#v does not fit its %s mapping", kind, f, v, typ)
		}
	}
}

// TestLogFormatContract captures real log lines of the API and of nginx and
// holds them to the pipeline's index template, so renaming a log field, or
// changing its type, breaks here rather than silently in Kibana.
func TestLogFormatContract(t *testing.T) {
	types, err := logging.FieldTypes()
	if err != nil {
		t.Fatal(err)
	}
	api := start(t)
	g := startGateway(t, api, 1000, 1000)
	via := g.through(api)
	alice := newUser(t)
	film := "/api/v1/films/" + uuid.NewString()
	via.expect(t, 200, request{Method: "PUT", Path: film + "/rating", As: alice, Body: map[string]int{"score": 3}, Header: map[string]string{"X-Request-Id": "contract-ok"}})
	via.expect(t, 400, request{Method: "PUT", Path: film + "/rating", As: alice, Body: map[string]int{"score": 30}, Header: map[string]string{"X-Request-Id": "contract-bad"}})
	via.expect(t, 200, request{Method: "GET", Path: film + "/summary", Header: map[string]string{"X-Request-Id": "contract-anon"}})

	for _, rid := range []string{"contract-ok", "contract-bad", "contract-anon"} {
		line := waitForLog(t, api, func(l map[string]any) bool { return l["http.request.id"] == rid })
		conforms(t, "API", line, accessFields, types)
		conforms(t, "nginx", g.line(t, rid), nginxFields, types)
	}
	if l := waitForLog(t, api, func(l map[string]any) bool { return l["http.request.id"] == "contract-ok" }); l["user.id"] != alice.ID.String() {
		t.Errorf("authenticated access line has user.id %v", l["user.id"])
	}

	// Error lines: a store failure logs error.message.
	broken := start(t)
	broken.corruptBookmarks(t, alice)
	broken.expect(t, 500, request{Method: "GET", Path: "/api/v1/users/me/bookmarks", As: alice, Header: map[string]string{"X-Request-Id": "contract-500"}})
	errLine := waitForLog(t, broken, func(l map[string]any) bool {
		return l["http.request.id"] == "contract-500" && l["log.level"] == "error" && l["error.message"] != nil
	})
	conforms(t, "API error", errLine, []string{"@timestamp", "log.level", "message", "error.message", "http.request.id", "http.route"}, types)
	for _, l := range broken.logLines(t) {
		if l["http.request.id"] == "contract-500" && l["event.dataset"] == "ugc.access" {
			conforms(t, "API 500 access", l, accessFields, types)
			if l["log.level"] != "error" || !strings.HasPrefix(l["message"].(string), "GET ") {
				t.Errorf("5xx access line %v", l)
			}
		}
	}
}
