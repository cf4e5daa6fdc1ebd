package chtest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ugcstack/ugcstack/internal/servertest"
)

// ZooKeeperScript starts Debian's ZooKeeper, which ClickHouse 18.16 needs to
// run ON CLUSTER statements; `make analytics-deps` installs it.
const ZooKeeperScript = "/usr/share/zookeeper/bin/zkServer.sh"

// Cluster is a ClickHouse cluster of one-replica shards on 127.0.0.1, each
// server listing every shard under Name in remote_servers, coordinated by
// one ZooKeeper.
type Cluster struct {
	Name   string
	Shards []*Server
}

// StartCluster starts ZooKeeper and the given number of shards for the test
// and removes them all when it ends. The servers in first, if any, become
// the first shards, restarted with the cluster's configuration on their data,
// as a server that ran alone does when it is grown into a cluster.
func StartCluster(t testing.TB, shards int, first ...*Server) *Cluster {
	t.Helper()
	servertest.Short(t, "ClickHouse cluster")
	requireInstalled(t, Binary)
	zk := startZooKeeper(t)
	c := &Cluster{Name: "ugc_test_cluster"}
	for _, s := range first {
		s.Stop()
		c.Shards = append(c.Shards, s)
	}
	for range shards - len(first) {
		s, err := prepare("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		c.Shards = append(c.Shards, s)
	}
	// Every server lists every shard's port, so a taken port means new
	// ports, and a new configuration, for all of them.
	err := retryPorts(func() error {
		var remote strings.Builder
		for _, s := range c.Shards {
			fmt.Fprintf(&remote, "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", s.tcp)
		}
		for i, s := range c.Shards {
			extra := fmt.Sprintf(`  <zookeeper><node><host>127.0.0.1</host><port>%[1]d</port></node></zookeeper>
  <remote_servers><%[2]s>%[3]s</%[2]s></remote_servers>
  <macros><shard>%[4]d</shard><replica>r1</replica></macros>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>`, zk, c.Name, remote.String(), i+1)
			if err := s.launch(extra); err != nil {
				return err
			}
		}
		return nil
	}, c.Shards...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Addrs lists every shard's native address.
func (c *Cluster) Addrs() []string {
	var a []string
	for _, s := range c.Shards {
		a = append(a, s.Addr)
	}
	return a
}

// startZooKeeper runs a standalone ZooKeeper on a free loopback port until
// the test ends and returns the port. Like the servers, it gets a fresh port
// when another socket took its own before it bound it.
func startZooKeeper(t testing.TB) int {
	t.Helper()
	requireInstalled(t, ZooKeeperScript)
	var port int
	err := retryPorts(func() (err error) {
		port, err = tryZooKeeper(t)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// tryZooKeeper starts ZooKeeper on a free port and returns the port, or why
// it exited before answering.
func tryZooKeeper(t testing.TB) (int, error) {
	t.Helper()
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "zoo.cfg")
	err = os.WriteFile(cfg, []byte(fmt.Sprintf(`tickTime=500
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
`, dir, port)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ZooKeeperScript, "start-foreground", cfg)
	cmd.Env = append(os.Environ(), "ZOO_LOG_DIR="+dir)
	log, err := os.Create(filepath.Join(dir, "zookeeper.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start zookeeper: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = log.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(time.Minute)
	for !zkOK(port) {
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "zookeeper.out"))
			return 0, exitedAtStart("zookeeper", string(b))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("zookeeper did not answer within a minute")
		}
	}
	return port, nil
}

// zkOK asks ZooKeeper's four-letter health command.
func zkOK(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ruok")); err != nil {
		return false
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.HasPrefix(line, "imok")
}
