package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

func TestMarkdownSectionsAndMissing(t *testing.T) {
	started := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	paths := func(names ...string) ReadResult {
		var r ReadResult
		for _, n := range names {
			r.Paths = append(r.Paths, PathResult{Path: n, P50: time.Millisecond, P95: 2 * time.Millisecond, P99: 3 * time.Millisecond})
		}
		return r
	}
	loaded := paths("film_summary", "film_reviews")
	loaded.WriteRate, loaded.WritesPerSec, loaded.WriteP99 = 1000, 788, 270*time.Millisecond
	rows := []Row{
		{Store: "redis", Workload: "zipf:1.1", Counts: ugcdata.LoadCounts{Ratings: 90, HotRatings: 48111, HotReviews: 15071}, LoadSeconds: 1, Idle: paths("film_summary", "film_reviews"), Loaded: loaded, Started: started.Add(time.Hour), WallSeconds: 60},
		{Store: "postgres", Workload: "uniform", Counts: ugcdata.LoadCounts{Ratings: 100}, LoadSeconds: 2, Idle: paths(Paths...), Loaded: paths(Paths...), Started: started, WallSeconds: 90},
	}
	md := Markdown(rows, []Missing{{Store: "chdb", Workload: "zipf:1.1", Why: "interrupted"}}, "2 CPUs", []Run{{Command: "ugc-research local --scale 1", Started: started, Finished: started.Add(150 * time.Second)}})
	for _, want := range []string{
		"Wall time: 2m30s", "`ugc-research local --scale 1` (2026-01-02 03:04 to 03:06 UTC, 2m30s)",
		"film 1, the premiere, has 48111 ratings and 15071 reviews",
		"| **redis** (", "788 of 1000 (270.00 ms, 0 errors)", "| 1m0s |",
		"| **postgres** (", "| 50 (2s) |",
		"| chdb | zipf:1.1 | interrupted |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	uniform, hot, missing := strings.Index(md, "## Uniform dataset"), strings.Index(md, "## Hot film (zipf:1.1)"), strings.Index(md, "## Not finished")
	if uniform < 0 || hot < uniform || missing < hot {
		t.Errorf("sections out of order (uniform %d, hot %d, not finished %d)", uniform, hot, missing)
	}
	if n := strings.Count(md, "not measured locally"); n != len(NotMeasured) {
		t.Errorf("%d not-measured rows, want %d (once, in the uniform table)", n, len(NotMeasured))
	}
}
