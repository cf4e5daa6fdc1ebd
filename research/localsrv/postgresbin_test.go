package localsrv

import (
	"os"
	"path/filepath"
	"testing"
)

// Debian 12 ships PostgreSQL 15 and Ubuntu 24.04 (GitHub's runner) 16; a
// machine may hold several: the newest major version is used, whichever.
func TestPostgresBinPicksTheNewestMajor(t *testing.T) {
	root := t.TempDir()
	for _, major := range []string{"9", "15", "16", "common"} {
		dir := filepath.Join(root, major, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if major != "common" {
			if err := os.WriteFile(filepath.Join(dir, "postgres"), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := postgresBin(root), filepath.Join(root, "16", "bin"); got != want {
		t.Errorf("postgresBin = %q, want %q", got, want)
	}
}
