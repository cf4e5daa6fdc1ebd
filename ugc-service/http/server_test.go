package http

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/ecslog"
	"github.com/ugcstack/ugcstack/ugc-service/ecslog/ecslogtest"
	"github.com/ugcstack/ugcstack/ugc-service/jwt"
	"github.com/ugcstack/ugcstack/ugc-service/metrics"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

// testServer is a Server over a real embedded store, with its logs and
// metrics at hand.
type testServer struct {
	*Server
	url     string
	logs    *ecslogtest.Buffer
	metrics *metrics.Metrics
}

func newTestServer(t *testing.T, store func(ugc.Store) ugc.Store, cfg Config) testServer {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	logs := &ecslogtest.Buffer{}
	v, err := jwt.NewVerifier(jwt.Config{Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Verifier, cfg.Logger, cfg.Metrics = v, ecslog.New(logs, slog.LevelInfo), metrics.New()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wrapped ugc.Store = st
	if store != nil {
		wrapped = store(st)
	}
	s.SetStore(wrapped)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return testServer{Server: s, url: ts.URL, logs: logs, metrics: cfg.Metrics}
}

const testSecret = "http-package-test-secret-0123456789"

// stalled is the real store whose film summary reads hang until the request
// is cancelled or the store's own operation timeout (here 50 ms) passes, as
// under overload.
type stalled struct{ ugc.Store }

func (s stalled) FilmSummary(ctx context.Context, film uuid.UUID) (*ugc.FilmSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	return s.Store.FilmSummary(ctx, film)
}

func stall(st ugc.Store) ugc.Store { return stalled{st} }

// TestStoreTimeoutIs503: a store that does not answer within the store
// timeout gets the client a 503 it may retry, with Retry-After; it was a 500
// "Internal error", reported to Sentry as a bug.
func TestStoreTimeoutIs503(t *testing.T) {
	s := newTestServer(t, stall, Config{})
	resp, err := http.Get(s.url + "/api/v1/films/" + uuid.NewString() + "/summary")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || p.Code != codeStoreTimeout {
		t.Fatalf("got %d Retry-After=%q %+v; want 503 with Retry-After and code %s", resp.StatusCode, resp.Header.Get("Retry-After"), p, codeStoreTimeout)
	}
	for _, l := range s.logs.Lines(t) {
		if l["message"] == "request failed" {
			t.Fatalf("a store timeout was logged as a failed request: %v", l)
		}
	}
}

// TestClientAbortIs499: a client that hangs up while the store works is
// logged and counted as 499, as nginx does, not as a 5xx.
func TestClientAbortIs499(t *testing.T) {
	s := newTestServer(t, stall, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/api/v1/films/"+uuid.NewString()+"/summary", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		t.Fatalf("the stalled request was answered %d", resp.StatusCode)
	}
	var access map[string]any
	for deadline := time.Now().Add(10 * time.Second); access == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no access log line for the aborted request")
		}
		for _, l := range s.logs.Lines(t) {
			if l["event.dataset"] == "ugc.access" {
				access = l
			}
			if l["message"] == "request failed" || l["log.level"] == "error" {
				t.Fatalf("a client abort was logged as an error: %v", l)
			}
		}
	}
	if access["http.response.status_code"] != 499.0 {
		t.Fatalf("access line %v, want status 499", access)
	}
	if got := s.requestsByStatus(t); got["499"] != 1 || len(got) != 1 {
		t.Fatalf("requests counted by status: %v, want one 499", got)
	}
}

// requestsByStatus sums ugc_http_requests_total by status.
func (s testServer) requestsByStatus(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := s.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "ugc_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// TestSlowBodyIs408: a body that does not arrive within the server's read
// timeout got a bare 499, counted as a client hang-up, while the client
// was still connected and waiting. It is owed a 408 problem.
func TestSlowBodyIs408(t *testing.T) {
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	v, err := jwt.NewVerifier(jwt.Config{Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	s, err := NewServer(Config{Verifier: v, Logger: ecslog.New(&ecslogtest.Buffer{}, slog.LevelInfo), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	s.SetStore(st)
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config.ReadTimeout = 300 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)
	token, err := jwt.Mint([]byte(testSecret), uuid.New(), time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	// Headers and half the body, then nothing: the client is still there.
	_, err = fmt.Fprintf(conn, "PUT /api/v1/films/%s/rating HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"score\"", uuid.NewString(), token)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"code":"request_timeout"`) {
		t.Fatalf("slow body answered %d %s, want a 408 request_timeout problem", resp.StatusCode, body)
	}
	if got := (testServer{metrics: m}).requestsByStatus(t); got["408"] != 1 || got["499"] != 0 {
		t.Fatalf("requests counted by status: %v, want one 408", got)
	}
}
