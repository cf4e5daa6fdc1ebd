package delivery

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type workflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]struct {
		If              string            `yaml:"if"`
		ContinueOnError bool              `yaml:"continue-on-error"`
		TimeoutMinutes  int               `yaml:"timeout-minutes"`
		Needs           []string          `yaml:"needs"`
		Services        map[string]any    `yaml:"services"`
		Env             map[string]string `yaml:"env"`
		Strategy        struct {
			Matrix struct {
				Include []map[string]string `yaml:"include"`
			} `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Name           string            `yaml:"name"`
			Uses           string            `yaml:"uses"`
			Run            string            `yaml:"run"`
			If             string            `yaml:"if"`
			TimeoutMinutes int               `yaml:"timeout-minutes"`
			Env            map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func readWorkflow(t *testing.T, name string) workflow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".github", "workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w
}

// TestWorkflowHygiene holds the rules a fork's first run depends on: every
// job bounded in time, a Telegram job that neither reports superseded runs
// nor turns a green run red, actions pinned to majors that run on Node 24.
func TestWorkflowHygiene(t *testing.T) {
	// Majors that still declare Node 20, which GitHub retires.
	node20 := map[string]bool{"actions/checkout@v4": true, "actions/setup-go@v5": true, "actions/upload-artifact@v4": true, "actions/cache@v4": true}
	for _, name := range []string{"ci.yml", "e2e.yml"} {
		w := readWorkflow(t, name)
		for id, job := range w.Jobs {
			if job.TimeoutMinutes == 0 {
				t.Errorf("%s job %s has no timeout-minutes", name, id)
			}
			if id == "notify" && (job.If != "${{ !cancelled() }}" || !job.ContinueOnError) {
				t.Errorf("%s notify: if %q, continue-on-error %v; want ${{ !cancelled() }} and true", name, job.If, job.ContinueOnError)
			}
			if len(job.Services) > 0 {
				t.Errorf("%s job %s starts service containers %v: the tests start their own servers", name, id, job.Services)
			}
			for _, st := range job.Steps {
				if node20[st.Uses] {
					t.Errorf("%s job %s uses %s, which runs on Node 20", name, id, st.Uses)
				}
				if st.TimeoutMinutes > 0 && job.TimeoutMinutes > 0 && st.TimeoutMinutes >= job.TimeoutMinutes {
					t.Errorf("%s job %s: step %q may run %d min, the job only %d", name, id, st.Name, st.TimeoutMinutes, job.TimeoutMinutes)
				}
			}
		}
	}
}

// TestE2EPinsWhatItRuns: the kind node images by tag and digest, one leg on
// the chart's minimum Kubernetes, the ECK chart at the version the
// simulated cluster runs, and the suite's own timeout inside its step's.
func TestE2EPinsWhatItRuns(t *testing.T) {
	w := readWorkflow(t, "e2e.yml")
	kind := w.Jobs["kind"]
	chart, err := os.ReadFile(filepath.Join(repoRoot, "charts", "ugcstack", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	minimum := regexp.MustCompile(`kubeVersion: ">=(\d+\.\d+)`).FindSubmatch(chart)
	if minimum == nil {
		t.Fatal("Chart.yaml has no kubeVersion lower bound")
	}
	legs := map[string]bool{}
	for _, leg := range kind.Strategy.Matrix.Include {
		if !regexp.MustCompile(`^kindest/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$`).MatchString(leg["image"]) {
			t.Errorf("node image %q is not pinned by tag and digest", leg["image"])
		}
		if !strings.HasPrefix(leg["image"], "kindest/node:v"+leg["kubernetes"]+".") || !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(leg["kind"]) {
			t.Errorf("leg %v: its image and kind release must be pinned and agree with its name", leg)
		}
		legs[leg["kubernetes"]] = true
	}
	if !legs[string(minimum[1])] {
		t.Errorf("no e2e leg on the chart's minimum Kubernetes %s: %v", minimum[1], legs)
	}

	gomod, err := os.ReadFile(filepath.Join(repoRoot, "hack", "eck", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	eck := regexp.MustCompile(`github.com/elastic/cloud-on-k8s/v3 v(\S+)`).FindSubmatch(gomod)
	if eck == nil || w.Env["ECK_VERSION"] != string(eck[1]) {
		t.Errorf("e2e installs ECK %q, the tests run %q", w.Env["ECK_VERSION"], eck)
	}
	installsPinned := false
	for _, st := range kind.Steps {
		installsPinned = installsPinned || strings.Contains(st.Run, `elastic/eck-operator --version "$ECK_VERSION"`)
		if st.Run == "make e2e" {
			suite, err := strconv.Atoi(strings.TrimSuffix(st.Env["E2E_TIMEOUT"], "m"))
			if err != nil || st.TimeoutMinutes == 0 || suite >= st.TimeoutMinutes {
				t.Errorf("make e2e: E2E_TIMEOUT %q must sit inside the step's timeout-minutes %d", st.Env["E2E_TIMEOUT"], st.TimeoutMinutes)
			}
		}
	}
	if !installsPinned {
		t.Error("the ECK chart is not installed with --version $ECK_VERSION")
	}
}
