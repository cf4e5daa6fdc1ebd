package servertest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ugcstack/ugcstack/internal/servertest"
)

// TestMissingSkipsButFailsUnderCI runs a test that misses its server, as a
// subprocess, once as a developer and once as CI.
func TestMissingSkipsButFailsUnderCI(t *testing.T) {
	if os.Getenv("SERVERTEST_CHILD") == "1" {
		servertest.Missing(t, "frobd", "make frob-deps")
		return
	}
	for ci, want := range map[string]string{"": "--- SKIP", "true": "--- FAIL"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingSkipsButFailsUnderCI$", "-test.v")
		cmd.Env = append(os.Environ(), "SERVERTEST_CHILD=1", "CI="+ci)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), want) || !strings.Contains(string(out), "make frob-deps") {
			t.Errorf("CI=%q: want %s naming the target, got:\n%s", ci, want, out)
		}
	}
}
