// Package localsrv starts throwaway PostgreSQL, Redis and ClickHouse servers
// on 127.0.0.1 with free ports and temporary data directories, for the
// correctness tests and `make research`. Every server is a child process
// that Stop ends by its pid; nothing outlives the caller.
package localsrv

import (
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
	"time"
)

// Server is one running server.
type Server struct {
	Name string
	Port int
	Dir  string
	cmd  *exec.Cmd
}

// Addr is host:port on 127.0.0.1.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// Stop terminates the server (SIGTERM, then SIGKILL after 10 s) and removes its directory.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	_ = os.RemoveAll(s.Dir)
}

// withFreshPorts runs start again, up to five times, while the server fails
// because another socket took its port between FreePort and the server's
// bind: the port comes from the ephemeral range, where any test's outgoing
// connection can land.
func withFreshPorts(start func() (*Server, error)) (*Server, error) {
	for attempt := 1; ; attempt++ {
		s, err := start()
		if err == nil || attempt == 5 || !strings.Contains(err.Error(), "already in use") {
			return s, err
		}
	}
}

// FreePort asks the kernel for an unused TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ownedDir(prefix, owner string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // the server's own account must enter it
		return "", err
	}
	// Only root can give the directory away; anyone else runs the server
	// as themselves (see asUser).
	if owner != "" && os.Geteuid() == 0 {
		u, err := user.Lookup(owner)
		if err != nil {
			return "", fmt.Errorf("user %s: %w", owner, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// asUser runs argv as owner via runuser when we are root, directly otherwise.
func asUser(owner string, argv ...string) *exec.Cmd {
	if os.Geteuid() == 0 && owner != "" {
		return exec.Command("runuser", append([]string{"-u", owner, "--"}, argv...)...) //nolint:gosec // fixed server binaries, our own arguments
	}
	return exec.Command(argv[0], argv[1:]...) //nolint:gosec // fixed server binaries, our own arguments
}

func waitPort(port int, d time.Duration, cmd *exec.Cmd, log string) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			_ = c.Close() // a probe: only the dial mattered
			return nil
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(log) //nolint:gosec // the log file this package created
	return fmt.Errorf("server on port %d did not start in %s: %s", port, d, tail(b))
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func start(name, owner, dir string, port int, argv []string) (*Server, error) {
	logPath := filepath.Join(dir, name+".out")
	f, err := os.Create(logPath) //nolint:gosec // a path inside the server's own temporary directory
	if err != nil {
		return nil, err
	}
	cmd := asUser(owner, argv...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, errors.Join(err, f.Close()))
	}
	go func() { _ = cmd.Wait(); _ = f.Close() }()
	s := &Server{Name: name, Port: port, Dir: dir, cmd: cmd}
	if err := waitPort(port, 60*time.Second, cmd, logPath); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// PostgresBin is where the installed PostgreSQL keeps initdb and postgres:
// the newest major version under Debian's and Ubuntu's
// /usr/lib/postgresql/<major>/bin (Debian 12 ships 15, Ubuntu 24.04 16),
// else what pg_config reports, else "" (no PostgreSQL installed).
var PostgresBin = postgresBin("/usr/lib/postgresql")

func postgresBin(root string) string {
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "bin", "postgres"))
	best, bestMajor := "", -1
	for _, d := range dirs {
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(d))))
		if err == nil && major > bestMajor {
			best, bestMajor = filepath.Dir(d), major
		}
	}
	if best != "" {
		return best
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return ""
}

// Postgres initialises a cluster in a temp dir (trust auth, user postgres)
// and starts it. durable=false turns fsync off (tests only).
func Postgres(durable bool) (*Server, error) {
	return withFreshPorts(func() (*Server, error) { return postgres(durable) })
}

func postgres(durable bool) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := ownedDir("ugcres-pg-", "postgres")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	init := asUser("postgres", filepath.Join(PostgresBin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	if out, err := init.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", errors.Join(err, os.RemoveAll(dir)), tail(out))
	}
	args := []string{
		filepath.Join(PostgresBin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "shared_buffers=256MB",
		"-c", "max_connections=200", "-c", "max_wal_size=4GB", "-c", "logging_collector=off",
	}
	if !durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	return start("postgres", "postgres", dir, port, args)
}

// Redis starts redis-server without persistence.
func Redis() (*Server, error) { return withFreshPorts(redis) }

func redis() (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := ownedDir("ugcres-redis-", "")
	if err != nil {
		return nil, err
	}
	return start("redis", "", dir, port, []string{
		"redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "yes",
	})
}

// ClickHouse writes a config with its own ports and paths and starts
// Debian's clickhouse-server as the clickhouse user.
func ClickHouse() (*Server, error) { return withFreshPorts(clickHouse) }

func clickHouse() (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := ownedDir("ugcres-ch-", "clickhouse")
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>%[1]s/server.log</log><errorlog>%[1]s/server.err.log</errorlog><size>100M</size><count>2</count></logger>
  <tcp_port>%[2]d</tcp_port>
  <http_port>%[3]d</http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>/etc/clickhouse-server/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>536870912</mark_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
</yandex>
`, dir, port, httpPort)
	cfgPath := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil { //nolint:gosec // the server's own account must read it
		return nil, err
	}
	return start("clickhouse", "clickhouse", dir, port, []string{"/usr/sbin/clickhouse-server", "--config-file=" + cfgPath})
}
