package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ugcstack/ugcstack/research/bench"
	"github.com/ugcstack/ugcstack/research/localsrv"
	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// local starts the stores installed locally (servers on 127.0.0.1, or
// in-process), runs generate and read on each for every workload, and
// writes the Markdown table. With --state it resumes: a store and workload
// already measured are not measured again, and one that fails is reported
// in the table and left for the next run instead of ending this one.
func local(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("local", flag.ExitOnError)
	scale := fs.Float64("scale", 0.05, "dataset scale")
	seed := fs.Uint64("seed", 1, "generator seed")
	out := fs.String("out", "RESULTS.md", "Markdown table to write")
	only := fs.String("backends", "sqlite,postgres,postgres-buckets,redis,clickhouse,chdb", "backends to run")
	workloads := fs.String("workloads", "uniform", "comma-separated datasets: uniform, zipf:S (the hot film: film-keyed paths, every write rates film 1)")
	statePath := fs.String("state", "", "partial-results file to resume from and save to after every store (empty: none)")
	var o bench.Options
	readFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var skews []ugcdata.Skew
	for _, w := range strings.Split(*workloads, ",") {
		k, err := ugcdata.ParseSkew(w)
		if err != nil {
			return err
		}
		skews = append(skews, k)
	}
	v := ugcdata.Default.Scaled(*scale)
	o.Volumes, o.Seed = v, *seed
	params := fmt.Sprintf("scale=%g seed=%d warmup=%v duration=%v count=%d concurrency=%d write-rate=%d",
		*scale, *seed, o.Warmup, o.Duration, o.Count, o.Concurrency, o.WriteRate)
	command := strings.TrimSpace("ugc-research local " + strings.Join(args, " "))
	st, err := bench.OpenState(*statePath, params, command)
	if err != nil {
		return err
	}
	var missing []bench.Missing
	for _, k := range skews {
		for _, b := range strings.Split(*only, ",") {
			if st.Has(b, k.String()) {
				fmt.Fprintf(os.Stderr, "%s (%s): already in %s, skipped\n", b, k, *statePath)
				continue
			}
			if ctx.Err() != nil {
				missing = append(missing, bench.Missing{Store: b, Workload: k.String(), Why: "not started: the run was interrupted"})
				continue
			}
			row, err := localOne(ctx, b, ugcdata.Generator{V: v, Seed: *seed, Skew: k}, o)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s (%s): %v\n", b, k, err)
				missing = append(missing, bench.Missing{Store: b, Workload: k.String(), Why: err.Error()})
				continue
			}
			if err := st.Add(row); err != nil {
				return err
			}
		}
	}
	if err := st.Finish(); err != nil {
		return err
	}
	md := bench.Markdown(st.Rows, missing, machine(), st.Runs)
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil { //nolint:gosec // a report for people to read
		return fmt.Errorf("write table: %w", err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	if len(missing) > 0 {
		return fmt.Errorf("%d store runs did not finish (listed in %s); rerun to resume", len(missing), *out)
	}
	return nil
}

// localStore is a store started for one local run, with how to stop it.
type localStore struct {
	addr, mode string
	stop       func()
}

func startLocal(backend string) (localStore, error) {
	server := func(srv *localsrv.Server, err error, addr func(*localsrv.Server) string, mode string) (localStore, error) {
		if err != nil {
			return localStore{}, err
		}
		return localStore{addr: addr(srv), mode: mode, stop: srv.Stop}, nil
	}
	hostPort := (*localsrv.Server).Addr
	switch backend {
	case "postgres", "postgres-buckets":
		srv, err := localsrv.Postgres(true)
		mode := "server on 127.0.0.1, fsync on, synchronous_commit on"
		if backend == "postgres-buckets" {
			mode += fmt.Sprintf("; each film's summary split into %d rows by user, summed on read", SummaryBuckets)
		}
		return server(srv, err, func(s *localsrv.Server) string {
			return "postgres://postgres@" + s.Addr() + "/postgres?sslmode=disable"
		}, mode)
	case "redis":
		srv, err := localsrv.Redis()
		return server(srv, err, hostPort, "server on 127.0.0.1, no persistence")
	case "clickhouse":
		srv, err := localsrv.ClickHouse()
		return server(srv, err, hostPort, "Debian's 2018 package, native protocol, single node, single-row inserts (18.16 has no async inserts)")
	case "sqlite", "chdb":
		dir, err := os.MkdirTemp("", "ugcres-"+backend+"-")
		if err != nil {
			return localStore{}, fmt.Errorf("data directory: %w", err)
		}
		stop := func() { _ = os.RemoveAll(dir) } // a temporary directory: nothing to keep
		if backend == "sqlite" {
			return localStore{addr: filepath.Join(dir, "ugc.db"), mode: "embedded, in-process, WAL", stop: stop}, nil
		}
		return localStore{addr: dir, mode: "embedded, in-process; upserts as async inserts (async_insert=1, wait_for_async_insert=1)", stop: stop}, nil
	}
	return localStore{}, errors.New("not runnable here")
}

func localOne(ctx context.Context, backend string, g ugcdata.Generator, o bench.Options) (row bench.Row, err error) {
	started := time.Now()
	ls, err := startLocal(backend)
	if err != nil {
		return bench.Row{}, err
	}
	// A store's wall time includes stopping it and removing its data: 18.16
	// leaves hundreds of thousands of part files after the write check.
	defer func() { row.WallSeconds = time.Since(started).Seconds() }()
	defer ls.stop()
	s, err := open(ctx, backend, ls.addr, 16)
	if err != nil {
		return bench.Row{}, err
	}
	defer s.Close()
	c, d, err := doGenerate(ctx, s, g, 10000)
	if err != nil {
		return bench.Row{}, err
	}
	ver, err := s.Version(ctx)
	if err != nil {
		return bench.Row{}, fmt.Errorf("version: %w", err)
	}
	o.Skew = g.Skew
	if g.Skew.Zipf != 0 {
		o.Paths = bench.HotPaths
	}
	idle, loaded, err := readBoth(ctx, s, o)
	if err != nil {
		return bench.Row{}, err
	}
	return bench.Row{
		Store: backend, Version: ver, Mode: ls.mode, Workload: g.Skew.String(), Volumes: g.V, Counts: c,
		LoadSeconds: d.Seconds(), Idle: idle, Loaded: loaded, Started: started,
	}, nil
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1] + " kB RAM"
	}
	osr := ""
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		osr = "Debian " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d CPUs (%s), %s, %s, %s/%s, %s; client and servers on the same host, the cores shared with other builds", runtime.NumCPU(), model, mem, osr, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
