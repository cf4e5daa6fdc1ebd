package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"time"
)

// loadSecret is the JWT secret of the server under load.
const loadSecret = "load-test-secret-0123456789abcdef-xyz"

type server struct {
	cmd  *exec.Cmd
	addr string
}

var readyAddr = regexp.MustCompile(`ready on http://(127\.0\.0\.1:\d+)`)

// startServer runs `ugc serve` on a free loopback port. Its log goes to a
// file, as a container runtime would take it, so access logging costs what it
// costs in production.
func startServer(binary, dataDir, logPath string) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "UGC_HTTP_ADDR=127.0.0.1:0", "UGC_DATA_DIR="+dataDir, "UGC_JWT_SECRET="+loadSecret, "UGC_LOG_LEVEL=info",
		// The benchmark measures the server, not the per-user write limit.
		"UGC_USER_WRITE_RATE=0")
	cmd.Stdout, cmd.Stderr = logFile, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		f, err := os.Open(logPath)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := readyAddr.FindStringSubmatch(sc.Text()); m != nil {
				s.addr = m[1]
			}
		}
		_ = f.Close()
		if s.addr != "" {
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("ugc serve was not ready within 60s")
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}
