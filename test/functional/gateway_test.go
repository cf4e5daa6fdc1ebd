package functional

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ugcstack/ugcstack/internal/servertest"

	"github.com/google/uuid"

	"github.com/ugcstack/ugcstack/deploy/nginx"
)

// gateway is a real nginx, rendered from deploy/nginx, in front of a server.
type gateway struct {
	URL       string
	accessLog string
}

func startGateway(t *testing.T, api *server, rate, burst int) *gateway {
	t.Helper()
	servertest.Short(t, "nginx")
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			servertest.Missing(t, "nginx", "make deps")
		}
	}
	// The port is picked free and then bound by nginx, so another socket
	// (any test's outgoing connection draws from the same range) can take
	// it in between: then nginx exits and gets a fresh port.
	for attempt := 1; ; attempt++ {
		g, stderr := tryGateway(t, bin, api, rate, burst)
		if g != nil {
			return g
		}
		if !strings.Contains(stderr, "Address already in use") || attempt == 5 {
			t.Fatalf("nginx did not start: %s", stderr)
		}
	}
}

// tryGateway starts nginx on a free port; it returns nil and nginx's
// stderr when nginx exits before listening.
func tryGateway(t *testing.T, bin string, api *server, rate, burst int) (*gateway, string) {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	p := nginx.Defaults()
	p.Listen = addr
	p.Upstreams = []string{strings.TrimPrefix(api.URL, "http://")}
	p.RatePerSecond, p.Burst = rate, burst
	p.AccessLog = filepath.Join(dir, "access.log")
	p.ErrorLog = filepath.Join(dir, "error.log")
	p.PidFile = filepath.Join(dir, "nginx.pid")
	p.TempDir = filepath.Join(dir, "tmp")
	if os.Geteuid() == 0 {
		p.RunAsUser = "root" // workers must reach the test's private temp dirs
	}
	conf, err := nginx.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p.TempDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// -e: nginx opens its default error log before reading the config,
	// which an ordinary user may not write.
	cmd := exec.Command(bin, "-p", dir, "-e", p.ErrorLog, "-c", confPath, "-g", "daemon off;")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful stop
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return &gateway{URL: "http://" + addr, accessLog: p.AccessLog}, ""
		}
		select {
		case err := <-exited:
			exited <- err // for the clean-up
			return nil, fmt.Sprintf("%v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx not listening after 10s: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// line waits for the nginx access line with request id rid.
func (g *gateway) line(t *testing.T, rid string) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		f, err := os.Open(g.accessLog)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				_ = f.Close()
				t.Fatalf("nginx access line is not JSON: %q: %v", sc.Text(), err)
			}
			if m["http.request.id"] == rid {
				_ = f.Close()
				return m
			}
		}
		_ = f.Close()
	}
	t.Fatalf("no nginx access line with request id %q", rid)
	return nil
}

// through returns a copy of the API server whose requests go through g.
func (g *gateway) through(s *server) *server {
	return &server{URL: g.URL, cmd: s.cmd, done: s.done}
}

func TestGatewayRequestIDsAndLogs(t *testing.T) {
	api := start(t)
	g := startGateway(t, api, 1000, 1000)
	via := g.through(api)
	alice := newUser(t)
	path := "/api/v1/films/" + uuid.NewString() + "/rating"

	// nginx makes the id when the client sends none; both logs carry it.
	resp := via.expect(t, 200, request{Method: "PUT", Path: path, As: alice, Body: map[string]int{"score": 9}})
	rid := resp.Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(rid) {
		t.Fatalf("request id %q is not nginx's", rid)
	}
	ngx := g.line(t, rid)
	app := waitForLog(t, api, func(l map[string]any) bool { return l["http.request.id"] == rid && l["event.dataset"] == "ugc.access" })
	for key, want := range map[string]any{
		"event.dataset": "nginx.access", "http.request.method": "PUT", "url.path": path,
		"http.response.status_code": 200.0, "trace.id": rid, "source.address": "127.0.0.1",
	} {
		if ngx[key] != want {
			t.Errorf("nginx line %s = %v, want %v", key, ngx[key], want)
		}
	}
	for _, key := range []string{"@timestamp", "nginx.request_time", "nginx.upstream_response_time", "http.response.body.bytes", "user_agent.original"} {
		if _, ok := ngx[key]; !ok {
			t.Errorf("nginx line lacks %s", key)
		}
	}
	if app["user.id"] != alice.ID.String() || app["url.path"] != path {
		t.Errorf("API line = %v", app)
	}
	ngxJSON, _ := json.Marshal(ngx)
	appJSON, _ := json.Marshal(app)
	t.Logf("one request, two logs sharing %s:\nnginx: %s\napi:   %s", rid, ngxJSON, appJSON)

	// A caller's sane id survives the trip; a hostile one is replaced.
	resp = via.expect(t, 200, request{Method: "GET", Path: path, As: alice, Header: map[string]string{"X-Request-Id": "client-req-42"}})
	if resp.Header.Get("X-Request-Id") != "client-req-42" {
		t.Fatalf("caller's id became %q", resp.Header.Get("X-Request-Id"))
	}
	g.line(t, "client-req-42")
	waitForLog(t, api, func(l map[string]any) bool { return l["http.request.id"] == "client-req-42" })
	resp = via.expect(t, 200, request{Method: "GET", Path: path, As: alice, Header: map[string]string{"X-Request-Id": `bad "id" <script>`}})
	if got := resp.Header.Get("X-Request-Id"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got) {
		t.Fatalf("hostile id became %q", got)
	}

	// Bodies over the API's limit stop at nginx, as a problem.
	huge := `{"score": 1, "pad": "` + strings.Repeat("x", 70<<10) + `"}`
	resp = via.expect(t, 413, request{Method: "PUT", Path: path, As: alice, RawBody: &huge, ContentType: "application/json", Header: map[string]string{"X-Request-Id": "too-big-1"}})
	if resp.JSON(t)["code"] != "payload_too_large" {
		t.Fatalf("413 body %s", resp.Body)
	}
	if l := g.line(t, "too-big-1"); l["http.response.status_code"] != 413.0 {
		t.Fatalf("nginx logged %v for the oversize body", l["http.response.status_code"])
	}
	for _, l := range api.logLines(t) {
		if l["http.request.id"] == "too-big-1" {
			t.Fatal("the oversize body reached the API")
		}
	}

	health := via.do(t, request{Method: "GET", Path: "/nginx-health"})
	if health.Status != 200 || strings.TrimSpace(string(health.Body)) != "ok" {
		t.Fatalf("health = %d %q", health.Status, health.Body)
	}
}

// TestGatewayKeepsOperationalEndpointsInside: /metrics, /readyz and
// /healthz answer on the API's own port (probes, scrapers) but not through
// the gateway, which faces the world.
func TestGatewayKeepsOperationalEndpointsInside(t *testing.T) {
	api := start(t)
	g := startGateway(t, api, 0, 0)
	via := g.through(api)
	for _, path := range []string{"/metrics", "/readyz", "/healthz"} {
		if direct := api.do(t, request{Method: "GET", Path: path}); direct.Status != 200 {
			t.Fatalf("%s on the API itself: %d", path, direct.Status)
		}
		resp := via.do(t, request{Method: "GET", Path: path})
		wantProblem(t, resp, 404)
	}
	if spec := via.do(t, request{Method: "GET", Path: "/api/openapi.yaml"}); spec.Status != 200 {
		t.Fatalf("the API itself through the gateway: %d", spec.Status)
	}
}

// TestGatewayErrorBodiesStayJSON: a path with quotes in it must not break
// out of the JSON nginx writes for its own refusals (a 413 here): the body
// parses, and a smuggled "status":200 does not replace the real one.
func TestGatewayErrorBodiesStayJSON(t *testing.T) {
	api := start(t)
	g := startGateway(t, api, 0, 0)
	via := g.through(api)
	big := strings.Repeat("x", 70<<10)
	for _, path := range []string{
		"/api/v1/films/x%22,%22status%22:200,%22a%22:%22/rating",
		"/api/v1/films/%22/rating",
	} {
		resp := via.do(t, request{Method: "PUT", Path: path, RawBody: &big, ContentType: "application/json"})
		wantProblem(t, resp, 413)
	}
}

func TestGatewayRateLimitAndGzip(t *testing.T) {
	api := start(t)
	g := startGateway(t, api, 5, 5)
	via := g.through(api)

	spec := via.do(t, request{Method: "GET", Path: "/api/openapi.yaml", Header: map[string]string{"Accept-Encoding": "gzip"}})
	if spec.Status != 200 || spec.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("spec through nginx: %d, Content-Encoding %q", spec.Status, spec.Header.Get("Content-Encoding"))
	}

	film := "/api/v1/films/" + uuid.NewString() + "/summary"
	limited := 0
	for i := range 40 {
		resp := via.do(t, request{Method: "GET", Path: film, Header: map[string]string{"X-Request-Id": fmt.Sprintf("burst-%d", i)}})
		switch resp.Status {
		case 200:
		case 429:
			wantProblem(t, resp, 429)
			if resp.JSON(t)["code"] != "rate_limited" || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("429 = %s, Retry-After %q", resp.Body, resp.Header.Get("Retry-After"))
			}
			limited++
		default:
			t.Fatalf("request %d: status %d", i, resp.Status)
		}
	}
	// 40 requests at once against 5/s with a burst of 5: most are refused.
	if limited < 20 {
		t.Fatalf("only %d of 40 requests were rate limited", limited)
	}
}

// rawResponse is what a hand-written request got back.
type rawResponse struct {
	Status      int
	ContentType string
	Body        []byte
}

// sendRaw writes req as is to addr (host:port) and reads one response, for
// requests no HTTP client would send.
func sendRaw(t *testing.T, addr, req string) rawResponse {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%.40q: %v", req, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}
}

// TestGatewayRefusalsAreProblems: requests nginx refuses before any
// location, which its default pages answer in HTML, get problem bodies.
func TestGatewayRefusalsAreProblems(t *testing.T) {
	api := start(t)
	g := startGateway(t, api, 0, 0)
	addr := strings.TrimPrefix(g.URL, "http://")
	for name, c := range map[string]struct {
		req    string
		status int
	}{
		"malformed request line": {"GARBAGE\r\n\r\n", 400},
		"bad header":             {"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400},
		"TRACE":                  {"TRACE /api/v1/films HTTP/1.1\r\nHost: x\r\n\r\n", 405},
		"long URI":               {"GET /" + strings.Repeat("a", 10<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		"huge header":            {"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 16<<10) + "\r\n\r\n", 431},
	} {
		t.Run(name, func(t *testing.T) {
			r := sendRaw(t, addr, c.req)
			var p map[string]any
			if r.Status != c.status || r.ContentType != "application/problem+json" || json.Unmarshal(r.Body, &p) != nil || p["status"] != float64(c.status) {
				t.Fatalf("got %d %q %s, want a %d problem", r.Status, r.ContentType, r.Body, c.status)
			}
		})
	}
}
