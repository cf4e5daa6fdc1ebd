// Package chtest runs a real ClickHouse server for tests and benchmarks: Debian's
// clickhouse-server on 127.0.0.1, with free ports and a temporary data
// directory, that a test can stop and start again to play an outage.
package chtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ugcstack/ugcstack/internal/servertest"

	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
)

// Binary is the server the tests run; `make analytics-deps` installs it.
const Binary = "/usr/sbin/clickhouse-server"

// owner is the account the server runs as when the test runs as root:
// the Debian package's own, which owns nothing of the caller's.
const owner = "clickhouse"

// Server is one clickhouse-server process and its data directory.
type Server struct {
	Addr string // native protocol, 127.0.0.1:port

	tcp, http int
	dir       string
	config    string
	cmd       *exec.Cmd
	exited    chan struct{}
}

// Start starts a server for the test and removes it when the test ends.
// Without clickhouse-server installed the test skips, naming the make
// target that installs it (make test installs it first); under CI it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	servertest.Short(t, "clickhouse-server")
	requireInstalled(t, Binary)
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// New starts a server with a fresh data directory under the default
// temporary directory; Close removes both.
func New() (*Server, error) { return NewIn("") }

// NewIn is New with the data directory under parent ("" for the default
// temporary directory): a benchmark may put it in memory (/dev/shm) to take
// the disk out of its numbers.
func NewIn(parent string) (*Server, error) {
	s, err := prepare(parent)
	if err != nil {
		return nil, err
	}
	err = retryPorts(func() error { return s.launch("") }, s)
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// requireInstalled ends the test, as servertest.Missing decides, when the
// server's binary or script is not installed.
func requireInstalled(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		servertest.Missing(t, path, "make analytics-deps")
	}
}

// errPortTaken is a start that failed because another socket took a port
// between freePort closing it and the server binding it: the ports come
// from the ephemeral range, where any test's outgoing connection can land.
var errPortTaken = errors.New("a port was taken before the server bound it")

// exitedAtStart is the error of a server that exited before answering,
// with its output: errPortTaken when it could not bind its port.
func exitedAtStart(name, output string) error {
	if strings.Contains(output, "Address already in use") {
		return fmt.Errorf("%s exited at start: %w:\n%s", name, errPortTaken, output)
	}
	return fmt.Errorf("%s exited at start:\n%s", name, output)
}

// portAttempts bounds the starts tried with fresh ports.
const portAttempts = 5

// retryPorts runs start, giving servers fresh ports and trying again while
// it fails on a taken port. A start for no servers picks its own ports.
func retryPorts(start func() error, servers ...*Server) error {
	for attempt := 1; ; attempt++ {
		err := start()
		if err == nil || !errors.Is(err, errPortTaken) || attempt == portAttempts {
			return err
		}
		for _, s := range servers {
			s.Stop()
			if err := s.pickPorts(); err != nil {
				return err
			}
		}
	}
}

// prepare makes the data directory, owned by the server's account, and
// picks the ports, without starting anything.
func prepare(parent string) (*Server, error) {
	if _, err := os.Stat(Binary); err != nil {
		return nil, fmt.Errorf("%s is missing: run `make analytics-deps` (Debian's clickhouse-server)", Binary)
	}
	dir, err := os.MkdirTemp(parent, "ugc-chtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, config: filepath.Join(dir, "config.xml")}
	if err := chownToOwner(dir); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.pickPorts(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// pickPorts chooses free native and HTTP ports.
func (s *Server) pickPorts() error {
	var err error
	if s.tcp, err = freePort(); err == nil {
		s.http, err = freePort()
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tcp))
	return err
}

// launch writes the configuration, with extra XML inside the root element,
// and starts the server.
func (s *Server) launch(extra string) error {
	cfg := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>%[1]s/server.log</log><errorlog>%[1]s/server.err.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <http_port>%[3]d</http_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
%[4]s
</yandex>
`, s.dir, s.tcp, s.http, extra)
	if err := os.WriteFile(s.config, []byte(cfg), 0o644); err != nil {
		return err
	}
	return s.Restart()
}

// Restart starts the server (again, after Stop) on the same port and data,
// and waits until it answers.
func (s *Server) Restart() error {
	argv := []string{Binary, "--config-file=" + s.config}
	if os.Geteuid() == 0 {
		argv = append([]string{"runuser", "-u", owner, "--"}, argv...)
	}
	out, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	// The server must not outlive a test binary that dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return fmt.Errorf("start clickhouse-server: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); _ = out.Close(); close(s.exited) }()

	probe, err := clickhouse.Open(clickhouse.Config{Addr: []string{s.Addr}, Database: "default", Timeout: time.Second})
	if err != nil {
		s.Stop()
		return err
	}
	defer probe.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		err := probe.Ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			s.cmd = nil
			return exitedAtStart("clickhouse-server", s.logTail())
		case <-ctx.Done():
			s.Stop()
			return fmt.Errorf("clickhouse-server did not answer within a minute: %w\n%s", err, s.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Sink returns a sink into database on this server, with the schema
// created, closed when the test ends.
func (s *Server) Sink(t testing.TB, database string) *clickhouse.Sink {
	t.Helper()
	sink, err := clickhouse.Open(clickhouse.Config{Addr: []string{s.Addr}, Database: database})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	if err := sink.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return sink
}

// Stop stops the server (SIGTERM, then SIGKILL after 20 s), keeping its
// data for Restart. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Close stops the server and removes its data.
func (s *Server) Close() {
	s.Stop()
	_ = os.RemoveAll(s.dir)
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.err.log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func chownToOwner(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(owner)
	if err != nil {
		return fmt.Errorf("the %s account (from Debian's clickhouse-server package): %w", owner, err)
	}
	uid, errU := strconv.Atoi(u.Uid)
	gid, errG := strconv.Atoi(u.Gid)
	if err := errors.Join(errU, errG); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
