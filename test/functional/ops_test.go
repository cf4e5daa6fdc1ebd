package functional

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestRequestIDRoundTrip(t *testing.T) {
	s := start(t)
	alice := newUser(t)
	path := "/api/v1/films/" + uuid.NewString() + "/rating"

	resp := s.expect(t, 200, request{Method: "PUT", Path: path, As: alice, Body: map[string]int{"score": 4}, Header: map[string]string{"X-Request-Id": "nginx-id-0001"}})
	if got := resp.Header.Get("X-Request-Id"); got != "nginx-id-0001" {
		t.Fatalf("echoed request id %q", got)
	}
	bad := s.expect(t, 400, request{Method: "PUT", Path: path, As: alice, Body: map[string]int{"score": 40}, Header: map[string]string{"X-Request-Id": "nginx-id-0002"}})
	if bad.JSON(t)["request_id"] != "nginx-id-0002" {
		t.Fatalf("problem body %s", bad.Body)
	}
	// Ids that are not safe to log are replaced, not echoed.
	gen := s.expect(t, 200, request{Method: "GET", Path: path, As: alice, Header: map[string]string{"X-Request-Id": "evil\"id with spaces"}})
	if id := gen.Header.Get("X-Request-Id"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("generated request id %q", id)
	}

	// The access line for each request carries its id and the ECS fields.
	line := waitForLog(t, s, func(l map[string]any) bool { return l["http.request.id"] == "nginx-id-0002" })
	for key, want := range map[string]any{
		"log.level": "info", "http.request.method": "PUT", "url.path": path, "http.response.status_code": 400.0,
		"user.id": alice.ID.String(), "trace.id": "nginx-id-0002", "http.route": "/api/v1/films/:film_id/rating",
	} {
		if line[key] != want {
			t.Errorf("access line %s = %v, want %v", key, line[key], want)
		}
	}
	for _, key := range []string{"@timestamp", "message", "event.duration"} {
		if _, ok := line[key]; !ok {
			t.Errorf("access line lacks %s: %v", key, line)
		}
	}
}

// waitForLog polls the server's log for a line matching match: a line is
// written after the response is sent, so it may trail the client a little.
func waitForLog(t *testing.T, s *server, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range s.logLines(t) {
			if match(l) {
				return l
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no matching log line")
	return nil
}

func TestMetrics(t *testing.T) {
	s := start(t)
	film := uuid.NewString()
	s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/" + film + "/summary"})
	s.expect(t, 400, request{Method: "GET", Path: "/api/v1/films/nope/summary"})
	body := string(s.expect(t, 200, request{Method: "GET", Path: "/metrics"}).Body)
	for _, want := range []string{
		`ugc_http_requests_total{method="GET",route="/api/v1/films/:film_id/summary",status="200"} 1`,
		`ugc_http_requests_total{method="GET",route="/api/v1/films/:film_id/summary",status="400"} 1`,
		`ugc_http_request_duration_seconds_bucket{method="GET",route="/api/v1/films/:film_id/summary",status="200",le="+Inf"} 1`,
		`ugc_store_operation_duration_seconds_count{operation="film_summary",outcome="ok"} 1`,
		`go_goroutines`,
		`ugc_sqlite_wal_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, film) {
		t.Error("a raw path leaked into metric labels")
	}
}

// TestGracefulShutdown holds a request in flight (its body half sent), sends
// SIGTERM, and checks that new connections are refused while the in-flight
// request still completes and the process then exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	s := start(t)
	alice := newUser(t)
	addr := strings.TrimPrefix(s.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"score": 8}`
	film := uuid.NewString()
	fmt.Fprintf(conn, "PUT /api/v1/films/%s/rating HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		film, addr, alice.Token, len(body), body[:5])
	time.Sleep(100 * time.Millisecond) // let the handler start reading the body

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break // the listener is closed: no new requests
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 5s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-s.done:
		t.Fatal("exited with a request in flight")
	default:
	}

	if _, err := io.WriteString(conn, body[5:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request dropped: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("in-flight request answered %d", resp.StatusCode)
	}
	select {
	case <-s.done:
		if s.err != nil {
			t.Fatalf("exit after SIGTERM: %v", s.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit after the in-flight request finished")
	}
}

// runUGC runs a one-shot ugc command with env and returns stdout, stderr and
// the exit error.
func runUGC(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func TestCommands(t *testing.T) {
	dataDir := "UGC_DATA_DIR=" + t.TempDir()
	withSecret := []string{dataDir, "UGC_JWT_SECRET=" + secret}

	t.Run("token works against the server", func(t *testing.T) {
		s := start(t)
		id := uuid.New()
		out, errOut, err := runUGC(t, withSecret, "token", "--sub", id.String(), "--ttl", "5m")
		if err != nil {
			t.Fatalf("token: %v: %s", err, errOut)
		}
		u := user{ID: id, Token: strings.TrimSpace(out)}
		s.expect(t, 200, request{Method: "PUT", Path: "/api/v1/films/" + uuid.NewString() + "/rating", As: u, Body: map[string]int{"score": 1}})
	})
	t.Run("token needs a UUID subject", func(t *testing.T) {
		_, errOut, err := runUGC(t, withSecret, "token", "--sub", "alice")
		if err == nil || !strings.Contains(errOut, "--sub must be a user UUID") {
			t.Fatalf("err %v, stderr %q", err, errOut)
		}
	})
	t.Run("serve refuses to run without JWT configuration", func(t *testing.T) {
		_, errOut, err := runUGC(t, []string{dataDir, "UGC_HTTP_ADDR=127.0.0.1:0"}, "serve")
		if err == nil || !strings.Contains(errOut, "UGC_JWT_SECRET") || !strings.Contains(errOut, "does not serve anonymously") {
			t.Fatalf("err %v, stderr %q", err, errOut)
		}
	})
	t.Run("one error lists every configuration problem", func(t *testing.T) {
		_, errOut, err := runUGC(t, []string{"UGC_HTTP_ADDR=nonsense", "UGC_LOG_LEVEL=loud", "UGC_STORE_TIMEOUT=-1s", "UGC_JWT_SECRET=short", "UGC_MONGO_URI=postgres://x"}, "serve")
		if err == nil {
			t.Fatal("bad configuration accepted")
		}
		for _, v := range []string{"UGC_HTTP_ADDR", "UGC_LOG_LEVEL", "UGC_STORE_TIMEOUT", "UGC_JWT_SECRET", "UGC_MONGO_URI"} {
			if !strings.Contains(errOut, v) {
				t.Errorf("the error does not mention %s: %q", v, errOut)
			}
		}
	})
	t.Run("migrate and reconcile-summaries", func(t *testing.T) {
		if _, errOut, err := runUGC(t, []string{dataDir}, "migrate"); err != nil {
			t.Fatalf("migrate: %v: %s", err, errOut)
		}
		if _, errOut, err := runUGC(t, []string{dataDir}, "migrate"); err != nil {
			t.Fatalf("second migrate: %v: %s", err, errOut)
		}
		out, errOut, err := runUGC(t, []string{dataDir}, "reconcile-summaries")
		if err != nil {
			t.Fatalf("reconcile-summaries: %v: %s", err, errOut)
		}
		var rep map[string]int
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("report %q: %v", out, err)
		}
		if _, ok := rep["films_repaired"]; !ok {
			t.Fatalf("report %v", rep)
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		_, errOut, err := runUGC(t, nil, "frobnicate")
		if err == nil || !strings.Contains(errOut, "usage: ugc") {
			t.Fatalf("err %v, stderr %q", err, errOut)
		}
	})
}

// sentryServer is a Sentry-protocol endpoint that decodes the envelopes the
// SDK posts and keeps their events.
type sentryServer struct {
	mu     sync.Mutex
	events []map[string]any
}

func (s *sentryServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/envelope/") {
		http.NotFound(w, r)
		return
	}
	// An envelope is newline-separated JSON: a header, then item header and
	// payload pairs.
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	sc.Scan() // envelope header
	for sc.Scan() {
		var item struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(sc.Bytes(), &item)
		if !sc.Scan() {
			break
		}
		if item.Type == "event" {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err == nil {
				s.mu.Lock()
				s.events = append(s.events, ev)
				s.mu.Unlock()
			}
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (s *sentryServer) wait(t *testing.T) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		if len(s.events) > 0 {
			ev := s.events[0]
			s.mu.Unlock()
			return ev
		}
		s.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no event reached the Sentry endpoint")
	return nil
}

// TestSentryReports5xx makes a store read fail on corrupt data (a real
// internal failure path) and checks the event that reaches a Sentry endpoint.
func TestSentryReports5xx(t *testing.T) {
	sentry := &sentryServer{}
	ts := httptest.NewServer(sentry)
	defer ts.Close()
	dsn := "http://publickey@" + strings.TrimPrefix(ts.URL, "http://") + "/42"
	s := start(t, "UGC_SENTRY_DSN="+dsn, "UGC_SENTRY_ENVIRONMENT=functional")
	alice := newUser(t)
	s.corruptBookmarks(t, alice)

	resp := s.expect(t, 500, request{Method: "GET", Path: "/api/v1/users/me/bookmarks", As: alice, Header: map[string]string{"X-Request-Id": "sentry-req-1"}})
	if p := resp.JSON(t); p["detail"] != "Internal error." {
		t.Fatalf("a 500 leaked details: %s", resp.Body)
	}
	ev := sentry.wait(t)
	tags, _ := ev["tags"].(map[string]any)
	usr, _ := ev["user"].(map[string]any)
	if tags["request_id"] != "sentry-req-1" || tags["route"] != "/api/v1/users/me/bookmarks" {
		t.Errorf("event tags = %v", tags)
	}
	if usr["id"] != alice.ID.String() {
		t.Errorf("event user = %v", usr)
	}
	if ev["environment"] != "functional" || ev["release"] == nil || ev["release"] == "" {
		t.Errorf("event environment %v release %v", ev["environment"], ev["release"])
	}
	crumbs, _ := json.Marshal(ev["breadcrumbs"])
	if !bytes.Contains(crumbs, []byte(`"category":"store"`)) || !bytes.Contains(crumbs, []byte(`"message":"list_bookmarks"`)) {
		t.Errorf("event breadcrumbs %s lack the store call", crumbs)
	}
	exc, _ := json.Marshal(ev["exception"])
	if !bytes.Contains(exc, []byte("invalid UUID")) {
		t.Errorf("event exception %s does not name the failure", exc)
	}
	// The error is also logged with its details, under the same request id.
	waitForLog(t, s, func(l map[string]any) bool {
		msg, _ := l["error.message"].(string)
		return l["http.request.id"] == "sentry-req-1" && l["log.level"] == "error" && strings.Contains(msg, "invalid UUID")
	})
}

// TestLogSinkCannotStopTheAPI: when the reader of stdout stopped reading,
// every request, /healthz included, hung after ~70 KB of logs; when it
// closed the pipe, the process died of SIGPIPE. Now neither: the lines
// that do not fit are dropped and counted.
func TestLogSinkCannotStopTheAPI(t *testing.T) {
	read, write, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = []string{"UGC_HTTP_ADDR=127.0.0.1:0", "UGC_DATA_DIR=" + t.TempDir(), "UGC_JWT_SECRET=" + secret, "UGC_USER_WRITE_RATE=0"}
	cmd.Stdout = write
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = write.Close() // the child holds its end
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// Read up to the ready line, then stop reading: the pipe fills.
	sc := bufio.NewScanner(read)
	url := ""
	for url == "" && sc.Scan() {
		if m := readyURL.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no ready line: %v", sc.Err())
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) int {
		resp, err := client.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s with stdout unread: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	film := uuid.NewString()
	for i := range 3000 { // about 1 MB of access lines, far past the pipe and the buffer
		path := "/api/v1/films/" + film + "/summary"
		if i%2 == 0 {
			path = "/healthz"
		}
		if status := get(path); status != http.StatusOK {
			t.Fatalf("request %d: %d", i, status)
		}
	}

	// The reader goes away: writes to stdout fail with EPIPE, not SIGPIPE.
	_ = read.Close()
	for i := range 500 {
		if status := get("/healthz"); status != http.StatusOK {
			t.Fatalf("request %d after the pipe closed: %d", i, status)
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("ugc serve died when its stdout closed: %v", err)
	default:
	}
	resp, err := client.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^ugc_log_lines_dropped_total (\S+)$`).FindSubmatch(body)
	if m == nil || string(m[1]) == "0" {
		t.Fatalf("ugc_log_lines_dropped_total: %q", m)
	}
}
