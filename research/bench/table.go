package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// Row is one store's measured results on one workload.
type Row struct {
	Store, Version string
	Mode           string // e.g. "server, 127.0.0.1"
	Workload       string // the dataset's skew: "uniform" or "zipf:S"
	Volumes        ugcdata.Volumes
	Counts         ugcdata.LoadCounts
	LoadSeconds    float64
	Idle, Loaded   ReadResult
	Started        time.Time
	WallSeconds    float64 // load and both read passes
}

// Missing is a store and workload a run was asked for but has no result for.
type Missing struct{ Store, Workload, Why string }

// NotMeasured are the rows a local run cannot produce: their servers are not installable without a Docker engine.
var NotMeasured = []struct{ Store, Why string }{
	{"MongoDB 8 sharded cluster (mongo-driver/v2)", "no MongoDB server can be installed here; peers' published numbers are quoted, as theirs, in README.md §3"},
	{"ClickHouse 24+ cluster, 2 shards × 2 replicas", "the chdb row is the current engine in one process, not a cluster"},
	{"Vertica CE (vertica-sql-go)", "no Vertica server here"},
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func secs(f float64) string {
	return time.Duration(f * float64(time.Second)).Round(time.Second).String()
}

// Markdown renders the results: one table per workload, uniform first,
// stores in name order, then what was asked for but not measured. runs are
// the invocations that measured the rows.
func Markdown(rows []Row, missing []Missing, machine string, runs []Run) string {
	var b strings.Builder
	b.WriteString("# Storage research results\n\nProduced by ")
	var wall time.Duration
	for i, r := range runs {
		if i > 0 {
			b.WriteString(", then ")
		}
		fmt.Fprintf(&b, "`%s`", r.Command)
		if !r.Finished.IsZero() {
			d := r.Finished.Sub(r.Started)
			wall += d
			fmt.Fprintf(&b, " (%s to %s UTC, %s)", r.Started.UTC().Format("2006-01-02 15:04"), r.Finished.UTC().Format("15:04"), d.Round(time.Second))
		}
	}
	b.WriteString(" — do not edit by hand.\n\n")
	fmt.Fprintf(&b, "Machine: %s\n\n", machine)
	if wall > 0 {
		fmt.Fprintf(&b, "Wall time: %s, start to end of the invocations above (the last column gives each store's own share).\n\n", wall.Round(time.Second))
	}
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b Row) int {
		if c := strings.Compare(workloadKey(a.Workload), workloadKey(b.Workload)); c != 0 {
			return c
		}
		return strings.Compare(a.Store, b.Store)
	})
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].Workload == rows[i].Workload {
			j++
		}
		section(&b, rows[i:j])
		i = j
	}
	if len(missing) > 0 {
		b.WriteString("\n## Not finished\n\n| store | workload | why |\n|---|---|---|\n")
		for _, m := range missing {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", m.Store, m.Workload, m.Why)
		}
	}
	return b.String()
}

// workloadKey sorts the uniform workload first.
func workloadKey(w string) string {
	if w == "" || w == "uniform" {
		return ""
	}
	return w
}

func section(b *strings.Builder, rows []Row) {
	r0 := rows[0]
	uniform := workloadKey(r0.Workload) == ""
	if uniform {
		fmt.Fprintf(b, "## Uniform dataset\n\nDataset: %s (seed-deterministic). ", r0.Volumes)
	} else {
		fmt.Fprintf(b, "\n## Hot film (%s)\n\nDataset: %s with films drawn by %s: film %d, the premiere, has %d ratings and %d reviews. Readers draw films from the same law; every write rates film %d. ",
			r0.Workload, r0.Volumes, r0.Workload, ugcdata.HotFilm, r0.Counts.HotRatings, r0.Counts.HotReviews, ugcdata.HotFilm)
	}
	fmt.Fprintf(b, "Latencies in ms; \"p99 @ writes\" is the p99 while a concurrent writer targets %d rating upserts/s (achieved rate in the last column).\n\n", r0.Loaded.WriteRate)
	b.WriteString("| store (server version) | read path | load rows/s (load time) | p50 | p95 | p99 | p99 @ writes | writes/s achieved (p99 of a write) | wall |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---|---:|\n")
	for _, r := range rows {
		for i, p := range r.Idle.Paths {
			lp := "—"
			if i < len(r.Loaded.Paths) {
				lp = ms(r.Loaded.Paths[i].P99)
			}
			name, load, wr, wall := "", "", "", ""
			if i == 0 {
				name = fmt.Sprintf("**%s** (%s; %s)", r.Store, r.Version, r.Mode)
				load = fmt.Sprintf("%.0f (%s)", float64(r.Counts.Total())/r.LoadSeconds, secs(r.LoadSeconds))
				wall = secs(r.WallSeconds)
				if r.Loaded.WriteRate > 0 {
					wr = fmt.Sprintf("%.0f of %d (%s ms, %d errors)", r.Loaded.WritesPerSec, r.Loaded.WriteRate, ms(r.Loaded.WriteP99), r.Loaded.WriteErrors)
				}
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, p.Path, load, ms(p.P50), ms(p.P95), ms(p.P99), lp, wr, wall)
		}
	}
	if uniform {
		for _, n := range NotMeasured {
			fmt.Fprintf(b, "| **%s** | all | not measured locally — run `ugc-research generate` and `read` against the compose cluster (%s) | | | | | | |\n", n.Store, n.Why)
		}
	}
}
