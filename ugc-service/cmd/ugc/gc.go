package main

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// gcPercent replaces Go's default GOGC of 100. The API's live heap is small
// (tens of MB, mostly the summary cache) while each request allocates a few
// KB, so at 100 the collector ran dozens of times a second and took a third
// of a cached read's CPU; at 400 it runs a quarter as often. The memory
// limit below keeps the larger heap inside the container.
const gcPercent = 400

// memoryLimitShare is the part of the container's memory limit the Go heap
// may use before the collector works harder; the rest is for SQLite's page
// cache and maps, goroutine stacks and the runtime.
const memoryLimitShare = 0.8

// cgroupMemoryFiles hold the container's memory limit: cgroup v2, then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// tuneGC applies gcPercent and a memory limit from the container's cgroup,
// unless GOGC or GOMEMLIMIT say otherwise (the runtime has read them).
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		if limit := cgroupMemoryLimit(cgroupMemoryFiles); limit > 0 {
			debug.SetMemoryLimit(int64(float64(limit) * memoryLimitShare))
		}
	}
}

// cgroupMemoryLimit reads the first of files that holds a limit, in bytes;
// 0 when none does ("max", or v1's huge number for no limit).
func cgroupMemoryLimit(files []string) int64 {
	for _, f := range files {
		b, err := os.ReadFile(f) //nolint:gosec // G304: fixed kernel paths, or a test's
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0
		}
		return n
	}
	return 0
}
