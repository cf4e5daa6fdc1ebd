// Package servertest decides what a test does when a real server it starts
// (nginx, ClickHouse, ZooKeeper) is not installed: it skips, with the make
// target that installs the server, so that `go test ./...` and `make check`
// run anywhere; under CI (CI=true) it fails, so that no suite stops running
// silently on the machines that gate a change.
package servertest

import (
	"os"
	"testing"
)

// Short skips t under go test -short (make check): it starts a real
// server, which make test runs.
func Short(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("starts a real %s: make test runs it, make check (-short) does not", what)
	}
}

// Missing ends t because what (a server's binary) is not installed; target
// is the make target that installs it.
func Missing(t testing.TB, what, target string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed, and CI must run this test: run `%s`", what, target)
	}
	t.Skipf("%s is not installed: `%s` installs it (under CI=true this test fails instead)", what, target)
}
