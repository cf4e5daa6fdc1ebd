package bench

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStateResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := OpenState(path, "scale=1", "local --backends redis")
	if err != nil || len(s.Rows) != 0 {
		t.Fatalf("new state: %v, %v", s, err)
	}
	row := Row{Store: "redis", Workload: "uniform", LoadSeconds: 2, Idle: ReadResult{Paths: []PathResult{{Path: "film_summary", P99: 3 * time.Millisecond}}}}
	if err := s.Add(row); err != nil {
		t.Fatal(err)
	}
	again, err := OpenState(path, "scale=1", "local --backends postgres")
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Runs) != 2 || again.Runs[0].Command != "local --backends redis" || again.Runs[1].Command != "local --backends postgres" {
		t.Fatalf("runs %+v, want the first invocation and this one", again.Runs)
	}
	if err := again.Finish(); err != nil {
		t.Fatal(err)
	}
	if third, err := OpenState(path, "scale=1", "local"); err != nil || third.Runs[1].Finished.IsZero() {
		t.Fatalf("the finished run was not saved: %+v, %v", third, err)
	}
	if !again.Has("redis", "uniform") || again.Has("redis", "zipf:1.1") || again.Has("postgres", "uniform") {
		t.Fatalf("reopened state has the wrong rows: %+v", again.Rows)
	}
	if got := again.Rows[0].Idle.Paths[0].P99; got != 3*time.Millisecond {
		t.Fatalf("p99 came back as %v", got)
	}
	if _, err := OpenState(path, "scale=0.1", "local"); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("a state from other parameters was accepted: %v", err)
	}
}
