package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestCgroupMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v2, v1 := write("memory.max", "536870912\n"), write("limit_in_bytes", "268435456\n")
	unlimitedV2, unlimitedV1 := write("max", "max\n"), write("huge", "9223372036854771712\n")
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		files []string
		want  int64
	}{
		{[]string{v2, v1}, 512 << 20},
		{[]string{missing, v1}, 256 << 20},
		{[]string{unlimitedV2, v1}, 0},
		{[]string{missing, unlimitedV1}, 0},
		{[]string{missing, missing}, 0},
	} {
		if got := cgroupMemoryLimit(c.files); got != c.want {
			t.Errorf("%v: %d, want %d", c.files, got, c.want)
		}
	}
}

func TestTuneGCLeavesExplicitSettings(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // -1 reads it
	tuneGC(func(k string) string { return map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"}[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set, yet the percent became %d", got)
	}
	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Fatalf("no GOGC: percent %d, want %d", got, gcPercent)
	}
}
