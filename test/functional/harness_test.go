// Package functional drives the real ugc binary over HTTP on a loopback port,
// with the embedded store in a temporary directory: what a client sees is what
// these tests check.
package functional

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ugcstack/ugcstack/ugc-service/jwt"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

// secret is the HS256 secret every test server trusts.
const secret = "functional-test-secret-0123456789abcdef"

// binary is the ugc executable built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ugc-functional-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ugc")
	build := exec.Command("go", "build", "-o", binary, "github.com/ugcstack/ugcstack/ugc-service/cmd/ugc")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ugc:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running `ugc serve` process.
type server struct {
	URL     string
	dataDir string // UGC_DATA_DIR, unless the test set its own
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	err     error         // its exit status, once done

	mu   sync.Mutex
	logs []string
}

var readyURL = regexp.MustCompile(`ready on (http://127\.0\.0\.1:\d+)`)

// start runs `ugc serve` on a free loopback port with a fresh data directory
// and the test secret, plus env, and waits for its ready line.
func start(t *testing.T, env ...string) *server {
	t.Helper()
	return launch(t, []string{"serve"}, env...)
}

// launch is start with the command line's arguments; env entries override
// the defaults (the last of a repeated name wins).
func launch(t *testing.T, args []string, env ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, args...)
	dataDir := t.TempDir()
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"UGC_HTTP_ADDR=127.0.0.1:0",
		"UGC_DATA_DIR=" + dataDir,
		"UGC_JWT_SECRET=" + secret,
		"UGC_LOG_LEVEL=info",
		// The suites write far faster than a person; the per-user limit
		// has its own test.
		"UGC_USER_WRITE_RATE=0",
	}, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, dataDir: dataDir, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs = append(s.logs, line)
			s.mu.Unlock()
			if m := readyURL.FindStringSubmatch(line); m != nil {
				ready <- m[1]
			}
		}
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case s.URL = <-ready:
		return s
	case <-s.done:
		t.Fatalf("ugc serve exited before it was ready: %v\nstderr: %s", s.err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("ugc serve not ready after 30s; stderr: %s", stderr.String())
	}
	return nil
}

// logLines returns the JSON log lines printed so far, decoded.
func (s *server) logLines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range s.logs {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// user is a client acting as one user.
type user struct {
	ID    uuid.UUID
	Token string
}

func newUser(t *testing.T) user {
	t.Helper()
	id := uuid.New()
	tok, err := jwt.Mint([]byte(secret), id, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return user{ID: id, Token: tok}
}

// anonymous sends no token.
var anonymous = user{}

// response is what a call returned.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a fresh map.
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %q", r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r response) Decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// request describes one call; Body is sent as JSON unless RawBody is set.
type request struct {
	Method, Path string
	As           user
	Body         any
	RawBody      *string
	ContentType  string
	Header       map[string]string
}

func (s *server) do(t *testing.T, r request) response {
	t.Helper()
	resp, err := s.try(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// try performs r and returns a transport failure instead of failing the
// test, for callers on other goroutines or expecting the server to die.
func (s *server) try(ctx context.Context, r request) (response, error) {
	var body io.Reader
	contentType := r.ContentType
	switch {
	case r.RawBody != nil:
		body = strings.NewReader(*r.RawBody)
	case r.Body != nil:
		b, err := json.Marshal(r.Body)
		if err != nil {
			return response{}, err
		}
		body = bytes.NewReader(b)
		if contentType == "" {
			contentType = "application/json"
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, s.URL+r.Path, body)
	if err != nil {
		return response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.As.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.As.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	defer resp.Body.Close() // read fully below
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// expect performs r and fails unless it answered status; it returns the response.
func (s *server) expect(t *testing.T, status int, r request) response {
	t.Helper()
	resp := s.do(t, r)
	if resp.Status != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.Method, r.Path, resp.Status, status, resp.Body)
	}
	if status >= 400 {
		wantProblem(t, resp, status)
	}
	return resp
}

// wantProblem checks that resp is an RFC 9457 problem with a request id that
// matches the X-Request-Id header.
func wantProblem(t *testing.T, resp response, status int) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("problem content type %q; body %s", ct, resp.Body)
	}
	p := resp.JSON(t)
	if p["status"] != float64(status) || p["title"] != http.StatusText(status) || p["detail"] == "" || p["code"] == "" {
		t.Fatalf("problem body %s for status %d", resp.Body, status)
	}
	if rid := resp.Header.Get("X-Request-Id"); rid == "" || p["request_id"] != rid {
		t.Fatalf("problem request_id %v, header %q", p["request_id"], rid)
	}
}

// corruptBookmarks gives u a bookmark whose film id is not a UUID, written
// behind the server's back as another process would, so that listing u's
// bookmarks fails inside the store: a real internal error, answered 500.
func (s *server) corruptBookmarks(t *testing.T, u user) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(s.dataDir, sqlite.FileName)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO bookmarks (user_id, film_id, created_at) VALUES (?, 'not-a-uuid', 1)`, u.ID.String()); err != nil {
		t.Fatal(err)
	}
}
