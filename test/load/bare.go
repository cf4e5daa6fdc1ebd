package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The baseline: a bare net/http server that answers every request with the
// body the API gave for one film's summary, with the same headers and no
// routing, auth, logging or store. The API's get_summary is reported as a
// share of its rate, measured in the same run on the same machine, so the
// ratio says what the API's layers cost whatever the machine's speed.

// bareFlag makes this binary the baseline server instead of the load driver.
const bareFlag = "-bare-body"

// serveBare listens on a free loopback port, prints it, and answers every
// request with body until stdin closes.
func serveBare(bodyFile string) error {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	length := strconv.Itoa(len(body))
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			h["Content-Type"] = []string{"application/json; charset=utf-8"}
			h["Content-Length"] = []string{length}
			_, _ = w.Write(body)
		}),
	}
	fmt.Println("BARE", ln.Addr().String())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); _ = srv.Close() }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// bare is a running baseline server.
type bare struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

// startBare runs this binary as the baseline server answering with body.
func startBare(body []byte, dir string) (*bare, error) {
	bodyFile := dir + "/bare-body.json"
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, bareFlag, bodyFile)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "BARE ")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		return nil, errors.Join(fmt.Errorf("baseline server did not start: it printed %q", line), err)
	}
	return &bare{cmd: cmd, stdin: stdin, addr: addr}, nil
}

// stop closes the baseline's stdin, which makes it exit.
func (b *bare) stop() {
	_ = b.stdin.Close()
	_ = b.cmd.Wait()
}
