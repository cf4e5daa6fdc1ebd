// Package delivery checks the delivery files that cannot run without a
// Docker engine and a cluster, as far as they can be checked: the Dockerfile's
// build commands run for real, and its images are inspected for the rules we
// hold them to.
package delivery

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is where go.mod of the product lives, two levels up.
const repoRoot = "../.."

// stage is one FROM block of the Dockerfile.
type stage struct {
	name, base string
	lines      []string // instructions after FROM, continuation lines joined
}

func parseDockerfile(t *testing.T) map[string]*stage {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stages := map[string]*stage{}
	var cur *stage
	var pending string
	from := regexp.MustCompile(`^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if m := from.FindStringSubmatch(line); m != nil {
			cur = &stage{name: m[2], base: m[1]}
			stages[cur.name] = cur
			continue
		}
		if cur != nil {
			cur.lines = append(cur.lines, line)
		}
	}
	return stages
}

func (s *stage) has(prefix string) []string {
	var out []string
	for _, l := range s.lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func TestImagesAreMinimalAndNonRoot(t *testing.T) {
	stages := parseDockerfile(t)
	for _, name := range []string{"ugc", "operator"} {
		s := stages[name]
		if s == nil {
			t.Fatalf("no stage %q: `docker build --target %s` would fail", name, name)
		}
		if !strings.HasPrefix(s.base, "gcr.io/distroless/static") && s.base != "scratch" {
			t.Errorf("%s: base %s is neither distroless/static nor scratch", name, s.base)
		}
		users := s.has("USER ")
		if len(users) != 1 || strings.Contains(users[0], " 0") || strings.Contains(users[0], "root") {
			t.Errorf("%s: USER = %v, want one non-root user", name, users)
		}
		labels := strings.Join(s.has("LABEL "), " ")
		for _, l := range []string{"org.opencontainers.image.title", "org.opencontainers.image.source", "org.opencontainers.image.version", "org.opencontainers.image.licenses"} {
			if !strings.Contains(labels, l) {
				t.Errorf("%s: missing OCI label %s", name, l)
			}
		}
		if len(s.has("ENTRYPOINT ")) != 1 {
			t.Errorf("%s: no ENTRYPOINT", name)
		}
		if len(s.has("RUN ")) != 0 {
			t.Errorf("%s: the final image runs commands; it has no shell to run them", name)
		}
	}
	if !strings.Contains(strings.Join(stages["ugc"].has("ENV "), " "), "UGC_HTTP_ADDR=0.0.0.0:8080") {
		t.Error("the ugc image would listen on loopback only")
	}
}

// TestBuildStageCommandsRun runs the build stage's RUN lines as plain shell,
// with its ENV, in a copy-free way: from the repository root, with /out
// pointing at a temporary directory. The binaries must come out static.
func TestBuildStageCommandsRun(t *testing.T) {
	build := parseDockerfile(t)["build"]
	if build == nil {
		t.Fatal("no build stage")
	}
	out := t.TempDir()
	env := append(os.Environ(), "VERSION=test")
	for _, e := range build.has("ENV ") {
		env = append(env, strings.Fields(strings.TrimPrefix(e, "ENV "))...)
	}
	for _, run := range build.has("RUN ") {
		script := strings.ReplaceAll(strings.TrimPrefix(run, "RUN "), "/out/", out+"/")
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir, cmd.Env = repoRoot, env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, b)
		}
	}
	for _, bin := range []string{"ugc", "manager"} {
		f, err := elf.Open(filepath.Join(out, bin))
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked: distroless/static has no loader", bin)
			}
		}
		_ = f.Close()
	}
}

// TestDockerignoreKeepsSources: the build context must still hold what the
// build stage compiles.
func TestDockerignoreKeepsSources(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		for _, needed := range []string{"go.mod", "go.sum", "main.go", "ugc-service", "api", "controllers", "deploy"} {
			if line == needed || line == needed+"/" || line == "*" {
				t.Errorf(".dockerignore drops %s, which the build needs", needed)
			}
		}
	}
}
