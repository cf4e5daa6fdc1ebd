package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ugcstack/ugcstack/ugc-service/ecslog/ecslogtest"
)

// mongoPassword is in the URI of every test here; no log line may carry it.
const mongoPassword = "n0t-in-the-log"

// unreachableMongo returns a MongoDB URI for a loopback port that nothing
// listens on, with short driver timeouts so that each attempt fails fast.
func unreachableMongo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "mongodb://ugc:" + mongoPassword + "@" + addr + "/?serverSelectionTimeoutMS=200&connectTimeoutMS=200"
}

// command is `ugc <args>` running in this process, stopped by cancel.
type command struct {
	log    *ecslogtest.Buffer
	done   chan struct{} // closed when run has returned
	err    error         // run's result, once done
	cancel context.CancelFunc
}

func runCommand(t *testing.T, vars map[string]string, args ...string) *command {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &command{log: &ecslogtest.Buffer{}, done: make(chan struct{}), cancel: cancel}
	go func() {
		c.err = run(ctx, args, env(vars), c.log)
		close(c.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
	return c
}

// exited waits up to d for the command to return, and reports whether it did.
func (c *command) exited(d time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(d):
		return false
	}
}

// waitForLog polls the command's log until re matches and returns the last
// submatch; it fails the test if the command exits first.
func (c *command) waitForLog(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(c.log.String()); m != nil {
			return m[len(m)-1]
		}
		if c.exited(20 * time.Millisecond) {
			t.Fatalf("the command exited: %v; log:\n%s", c.err, c.log.String())
		}
	}
	t.Fatalf("no log line matches %s; log:\n%s", re, c.log.String())
	return ""
}

// stop tells the command to stop, as SIGTERM does, and returns its result.
func (c *command) stop(t *testing.T) error {
	t.Helper()
	c.cancel()
	if !c.exited(10 * time.Second) {
		t.Fatal("still running 10s after being told to stop")
	}
	return c.err
}

var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// get requests url and returns the status, the headers and the body.
func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // read fully below
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// TestServeBeforeMongoDBIsUp starts `ugc serve` with MongoDB unreachable, as
// on a first install: the process must stay up, alive but not ready, answer
// the API with 503s that say when to come back, and keep trying, logging
// each failed attempt without the URI's password.
func TestServeBeforeMongoDBIsUp(t *testing.T) {
	c := runCommand(t, map[string]string{
		"UGC_HTTP_ADDR":  "127.0.0.1:0",
		"UGC_MONGO_URI":  unreachableMongo(t),
		"UGC_JWT_SECRET": "connect-test-secret-0123456789abcdef",
	}, "serve")
	url := c.waitForLog(t, listening)

	if status, _, body := get(t, url+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz = %d %s, want 200: the process is alive", status, body)
	}
	for _, path := range []string{"/readyz", "/api/v1/films/" + uuid.NewString() + "/summary"} {
		status, h, body := get(t, url+path)
		var p struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		}
		if err := json.Unmarshal(body, &p); err != nil || status != http.StatusServiceUnavailable ||
			h.Get("Content-Type") != "application/problem+json" || p.Status != status || p.Code != "store_not_connected" {
			t.Errorf("%s = %d %s %s, want a 503 problem with code store_not_connected", path, status, h.Get("Content-Type"), body)
		}
		if h.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", path)
		}
	}

	warn := c.waitForLog(t, regexp.MustCompile(`(\{[^\n]*"log.level":"warn"[^\n]*store not available yet[^\n]*\})`))
	var line map[string]any
	if err := json.Unmarshal([]byte(warn), &line); err != nil || !strings.Contains(line["error.message"].(string), "connection refused") {
		t.Errorf("retry line %s lacks the driver's error", warn)
	}
	if c.exited(0) {
		t.Fatalf("the command exited: %v", c.err)
	}
	if err := c.stop(t); err != nil {
		t.Errorf("stopped with %v, want a clean stop", err)
	}
	if strings.Contains(c.log.String(), mongoPassword) {
		t.Errorf("the log shows the URI's password:\n%s", c.log.String())
	}
}

// TestRelayWaitsForMongoDB starts `ugc relay` with MongoDB unreachable: it
// must answer its liveness probe while it waits, and stop cleanly.
func TestRelayWaitsForMongoDB(t *testing.T) {
	c := runCommand(t, map[string]string{
		"UGC_HTTP_ADDR":       "127.0.0.1:0",
		"UGC_MONGO_URI":       unreachableMongo(t),
		"UGC_CLICKHOUSE_ADDR": "127.0.0.1:1", // dialled on first insert only
	}, "relay")
	url := c.waitForLog(t, listening)
	if status, _, body := get(t, url+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz = %d %s, want 200", status, body)
	}
	c.waitForLog(t, regexp.MustCompile(`store not available yet`))
	if c.exited(0) {
		t.Fatalf("the command exited: %v", c.err)
	}
	if err := c.stop(t); err != nil {
		t.Errorf("stopped with %v, want a clean stop", err)
	}
}

// TestRelayWithoutClickHouseFailsAtOnce: a misconfigured relay must say so
// at start, not after waiting for a store that may take minutes to come up.
func TestRelayWithoutClickHouseFailsAtOnce(t *testing.T) {
	c := runCommand(t, map[string]string{"UGC_HTTP_ADDR": "127.0.0.1:0", "UGC_MONGO_URI": unreachableMongo(t)}, "relay")
	if !c.exited(10 * time.Second) {
		t.Fatal("the relay waited for the store instead of refusing its configuration")
	}
	if c.err == nil || !strings.Contains(c.err.Error(), "UGC_CLICKHOUSE_ADDR") {
		t.Fatalf("relay = %v, want it to need UGC_CLICKHOUSE_ADDR", c.err)
	}
}
