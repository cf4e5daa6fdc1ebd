package backendtest_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ugcstack/ugcstack/research/backendtest"
	"github.com/ugcstack/ugcstack/research/clickhouse"
	"github.com/ugcstack/ugcstack/research/localsrv"
	"github.com/ugcstack/ugcstack/research/postgres"
	"github.com/ugcstack/ugcstack/research/redisstore"
	"github.com/ugcstack/ugcstack/research/sqlite"
	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// need fails the test when a server binary is missing: `make test-research`
// installs them first (research-deps), so a missing binary is a setup bug.
func need(t *testing.T, bin string) {
	if _, err := exec.LookPath(bin); err != nil {
		t.Fatalf("%s not installed: run `make research-deps`", bin)
	}
}

func TestOracle(t *testing.T) { backendtest.Run(t, ugcdata.NewOracle()) }

func TestSQLite(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "ugc.db"), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	backendtest.Run(t, s)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	testPostgres(t, 1)
}

// TestPostgresBuckets: summaries split over rows must add up to the same truth.
func TestPostgresBuckets(t *testing.T) {
	t.Parallel()
	testPostgres(t, 16)
}

func testPostgres(t *testing.T, buckets int) {
	need(t, filepath.Join(localsrv.PostgresBin, "postgres"))
	srv, err := localsrv.Postgres(false)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	s, err := postgres.OpenBucketed(context.Background(), "postgres://postgres@"+srv.Addr()+"/postgres?sslmode=disable", 4, buckets)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	backendtest.Run(t, s)
}

func TestRedis(t *testing.T) {
	t.Parallel()
	need(t, "redis-server")
	srv, err := localsrv.Redis()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	s, err := redisstore.Open(context.Background(), srv.Addr(), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	backendtest.Run(t, s)
}

func TestClickHouse(t *testing.T) {
	t.Parallel()
	need(t, "/usr/sbin/clickhouse-server")
	srv, err := localsrv.ClickHouse()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	s, err := clickhouse.Open(context.Background(), srv.Addr(), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	backendtest.Run(t, s)
}
