package ferretdb_test

import (
	"bufio"
	"io"
	"net"
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
)

// TestServeConnectsWhenMongoDBAppears starts `ugc serve` against a port
// where no server listens yet, as on a first install where MongoDB starts
// beside the API, and then starts FerretDB on that port: the same process
// must become ready and serve, without a restart.
func TestServeConnectsWhenMongoDBAppears(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mongoAddr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	secret := "ferretdb-test-secret-0123456789abcdef"
	api := startUGC(t, "serve",
		"UGC_MONGO_URI=mongodb://"+mongoAddr+"/?maxPoolSize=1&serverSelectionTimeoutMS=300",
		"UGC_JWT_SECRET="+secret)
	url := api.waitForLog(t, regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`))
	api.waitForLog(t, regexp.MustCompile(`(store not available yet)`))
	if status, body := call(t, "GET", url+"/readyz", "", ""); status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d %s before the server exists, want 503", status, body)
	}

	startFerretDBOn(t, mongoAddr)
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body := call(t, "GET", url+"/readyz", "", "")
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %s 30s after the server appeared; log:\n%s", status, body, api.log())
		}
		time.Sleep(200 * time.Millisecond)
	}

	token, err := jwt.Mint([]byte(secret), uuid.New(), time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	film := url + "/api/v1/films/" + uuid.NewString()
	if status, body := call(t, "PUT", film+"/rating", token, `{"score":7}`); status != http.StatusOK {
		t.Fatalf("PUT rating = %d %s", status, body)
	}
	if status, body := call(t, "GET", film+"/summary", "", ""); status != http.StatusOK || !strings.Contains(body, `"count":1`) {
		t.Fatalf("GET summary = %d %s, want the rating counted", status, body)
	}
	api.stop(t)
}

// ugcProcess is a running ugc binary.
type ugcProcess struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done

	mu    sync.Mutex
	lines []string
}

// startUGC builds the ugc binary with the repository's own module (this
// module's go.sum covers only the store), runs `ugc <command>` on a free
// loopback port with env added, and kills it when t ends.
func startUGC(t *testing.T, command string, env ...string) *ugcProcess {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "ugc")
	build := exec.Command("go", "build", "-o", binary, "./ugc-service/cmd/ugc")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build ugc: %v\n%s", err, out)
	}
	cmd := exec.Command(binary, command)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "UGC_HTTP_ADDR=127.0.0.1:0", "UGC_DATA_DIR=" + t.TempDir()}, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // StdoutPipe's writer: the reason for an exit joins the log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &ugcProcess{cmd: cmd, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *ugcProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitForLog waits for a log line matching re and returns its first
// submatch; it fails the test if the process exits first.
func (p *ugcProcess) waitForLog(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(p.log()); m != nil {
			return m[1]
		}
		select {
		case <-p.done:
			t.Fatalf("ugc exited (%v) before logging %s; log:\n%s", p.err, re, p.log())
		case <-deadline:
			t.Fatalf("ugc did not log %s in 30s; log:\n%s", re, p.log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and expects a clean exit.
func (p *ugcProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("ugc exited with %v; log:\n%s", p.err, p.log())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ugc still running 30s after SIGTERM")
	}
}

// call makes one request, with a bearer token and a JSON body when given.
func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close() // read fully below
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
