// Command ugc-research generates the UGC dataset into a store and benchmarks
// the API's read paths against it.
//
//	ugc-research generate --backend postgres --scale 0.1 --seed 1
//	ugc-research read     --backend postgres --scale 0.1 --duration 10s --concurrency 4 --write-rate 1000
//	ugc-research local    --scale 0.05 --out RESULTS.md   # what `make research` runs
//
// Connection defaults match research/docker-compose.yml.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ugcstack/ugcstack/research/bench"
	"github.com/ugcstack/ugcstack/research/clickhouse"
	"github.com/ugcstack/ugcstack/research/localsrv"
	"github.com/ugcstack/ugcstack/research/mongo"
	"github.com/ugcstack/ugcstack/research/postgres"
	"github.com/ugcstack/ugcstack/research/redisstore"
	"github.com/ugcstack/ugcstack/research/sqlite"
	"github.com/ugcstack/ugcstack/research/ugcdata"
	"github.com/ugcstack/ugcstack/research/vertica"
)

// Defaults are the connection defaults; research/docker-compose.yml
// publishes exactly these ports (a test holds the two together).
var Defaults = map[string]string{
	"mongo":      mongo.DefaultURI,
	"clickhouse": clickhouse.DefaultAddr,
	"postgres":   postgres.DefaultDSN,
	"redis":      redisstore.DefaultAddr,
	"vertica":    vertica.DefaultDSN,
	"sqlite":     "ugc-research.db",
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch os.Args[1] {
	case "generate":
		err = generate(ctx, os.Args[2:])
	case "read":
		err = read(ctx, os.Args[2:])
	case "local":
		err = local(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ugc-research:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ugc-research generate|read|local [flags]  (-h for flags)")
	os.Exit(2)
}

type common struct {
	backend, addr string
	scale         float64
	seed          uint64
	pool          int
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.backend, "backend", "postgres", "mongo|clickhouse|postgres|redis|vertica|sqlite")
	fs.StringVar(&c.addr, "addr", "", "address/DSN/URI/file (default: the compose cluster's, see Defaults)")
	fs.Float64Var(&c.scale, "scale", 1, "dataset scale; 1 = 500k users, 100k films, 10M ratings, 1M reviews, 5M votes, 2M bookmarks")
	fs.Uint64Var(&c.seed, "seed", 1, "generator seed (same seed, same dataset)")
	fs.IntVar(&c.pool, "pool", 16, "connection pool size")
}

func open(ctx context.Context, backend, addr string, pool int) (ugcdata.Store, error) {
	if addr == "" {
		addr = Defaults[backend]
	}
	switch backend {
	case "postgres":
		return postgres.Open(ctx, addr, pool)
	case "redis":
		return redisstore.Open(ctx, addr, pool)
	case "clickhouse":
		return clickhouse.Open(ctx, addr, pool)
	case "sqlite":
		return sqlite.Open(addr, pool)
	case "mongo":
		return mongo.Open(ctx, addr, pool)
	case "vertica":
		return vertica.Open(ctx, addr, pool)
	}
	return nil, fmt.Errorf("unknown backend %q", backend)
}

func progress() ugcdata.Progress {
	last := time.Now()
	return func(entity string, done, total int64) {
		if time.Since(last) > 2*time.Second || done == total {
			last = time.Now()
			fmt.Fprintf(os.Stderr, "  %-9s %10d / %d (%.0f%%)\n", entity, done, total, 100*float64(done)/float64(max(total, 1)))
		}
	}
}

func doGenerate(ctx context.Context, s ugcdata.Store, v ugcdata.Volumes, seed uint64, batch int) (ugcdata.LoadCounts, time.Duration, error) {
	fmt.Fprintf(os.Stderr, "generate into %s: %s\n", s.Name(), v)
	t := time.Now()
	c, err := ugcdata.Load(ctx, s, ugcdata.Generator{V: v, Seed: seed}, batch, progress())
	d := time.Since(t)
	if err == nil {
		fmt.Fprintf(os.Stderr, "  loaded %d rows in %v (%.0f rows/s, summaries and indexes included)\n", c.Total(), d.Round(time.Millisecond), float64(c.Total())/d.Seconds())
	}
	return c, d, err
}

func generate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("generate", flag.ExitOnError)
	var c common
	c.flags(fs)
	batch := fs.Int("batch", 10000, "rows per batch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := open(ctx, c.backend, c.addr, c.pool)
	if err != nil {
		return err
	}
	defer s.Close()
	_, _, err = doGenerate(ctx, s, ugcdata.Default.Scaled(c.scale), c.seed, *batch)
	return err
}

func readFlags(fs *flag.FlagSet, o *bench.Options) {
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "warm-up per path (not recorded)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time per path (0: use --count)")
	fs.IntVar(&o.Count, "count", 0, "calls per path when --duration is 0")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "concurrent readers")
	fs.IntVar(&o.WriteRate, "write-rate", 1000, "concurrent writer target in rating upserts/s for the second pass (0: skip it)")
}

func read(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("read", flag.ExitOnError)
	var c common
	c.flags(fs)
	var o bench.Options
	readFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := open(ctx, c.backend, c.addr, c.pool)
	if err != nil {
		return err
	}
	defer s.Close()
	o.Volumes, o.Seed = ugcdata.Default.Scaled(c.scale), c.seed
	_, _, err = readBoth(ctx, s, o)
	return err
}

func readBoth(ctx context.Context, s ugcdata.Store, o bench.Options) (idle, loaded bench.ReadResult, err error) {
	rate := o.WriteRate
	o.WriteRate = 0
	fmt.Fprintf(os.Stderr, "read %s: concurrency %d, %v per path\n", s.Name(), o.Concurrency, o.Duration)
	if idle, err = bench.Read(ctx, s, o, os.Stderr); err != nil || rate == 0 {
		return
	}
	o.WriteRate, o.Warmup = rate, 0
	fmt.Fprintf(os.Stderr, "read %s with a concurrent writer at %d writes/s\n", s.Name(), rate)
	loaded, err = bench.Read(ctx, s, o, os.Stderr)
	return
}

// local starts the servers installed locally on 127.0.0.1, runs generate
// and read against each, and writes the Markdown table.
func local(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("local", flag.ExitOnError)
	scale := fs.Float64("scale", 0.05, "dataset scale")
	seed := fs.Uint64("seed", 1, "generator seed")
	out := fs.String("out", "RESULTS.md", "Markdown table to write")
	only := fs.String("backends", "sqlite,postgres,redis,clickhouse", "backends to run")
	var o bench.Options
	readFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	v := ugcdata.Default.Scaled(*scale)
	o.Volumes, o.Seed = v, *seed
	var rows []bench.Row
	for _, b := range strings.Split(*only, ",") {
		row, err := localOne(ctx, b, v, *seed, o)
		if err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		rows = append(rows, row)
	}
	cmd := "ugc-research local " + strings.Join(args, " ")
	md := bench.Markdown(rows, machine(), strings.TrimSpace(cmd))
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil { //nolint:gosec // a report for people to read
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	return nil
}

func localOne(ctx context.Context, backend string, v ugcdata.Volumes, seed uint64, o bench.Options) (bench.Row, error) {
	var srv *localsrv.Server
	var err error
	var addr, mode string
	switch backend {
	case "postgres":
		srv, err = localsrv.Postgres(true)
		if srv != nil {
			addr = "postgres://postgres@" + srv.Addr() + "/postgres?sslmode=disable"
		}
		mode = "server on 127.0.0.1, fsync on, synchronous_commit on"
	case "redis":
		srv, err = localsrv.Redis()
		if srv != nil {
			addr = srv.Addr()
		}
		mode = "server on 127.0.0.1, no persistence"
	case "clickhouse":
		srv, err = localsrv.ClickHouse()
		if srv != nil {
			addr = srv.Addr()
		}
		mode = "Debian package, native protocol, single node"
	case "sqlite":
		dir, derr := os.MkdirTemp("", "ugcres-sqlite-")
		if derr != nil {
			return bench.Row{}, derr
		}
		defer os.RemoveAll(dir)
		addr, mode = filepath.Join(dir, "ugc.db"), "embedded, in-process, WAL"
	default:
		return bench.Row{}, errors.New("not runnable here")
	}
	if err != nil {
		return bench.Row{}, err
	}
	defer srv.Stop()
	s, err := open(ctx, backend, addr, 16)
	if err != nil {
		return bench.Row{}, err
	}
	defer s.Close()
	c, d, err := doGenerate(ctx, s, v, seed, 10000)
	if err != nil {
		return bench.Row{}, err
	}
	ver, err := s.Version(ctx)
	if err != nil {
		return bench.Row{}, err
	}
	idle, loaded, err := readBoth(ctx, s, o)
	if err != nil {
		return bench.Row{}, err
	}
	return bench.Row{Store: backend, Version: ver, Mode: mode, Volumes: v, LoadRows: c.Total(), LoadSeconds: d.Seconds(), Idle: idle, Loaded: loaded}, nil
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
