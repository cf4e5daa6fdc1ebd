package chdb

import (
	"context"
	"strings"
	"testing"

	"github.com/ugcstack/ugcstack/research/backendtest"
	"github.com/ugcstack/ugcstack/research/ugcdata"
)

var _ ugcdata.Store = (*Store)(nil)

// TestSuite runs the correctness suite on the current engine. The package
// cannot even start without libchdb.so (CHDB_LIB_PATH): `make
// test-research` fetches it first, so this test always runs there.
func TestSuite(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(t.TempDir()); err == nil {
		t.Fatal("a second store opened beside the first")
	}
	v, err := s.Version(context.Background())
	if err != nil || !strings.HasPrefix(v, "ClickHouse 26.") {
		t.Fatalf("version %q, %v: want the 26.x engine", v, err)
	}
	backendtest.Run(t, s)
}
