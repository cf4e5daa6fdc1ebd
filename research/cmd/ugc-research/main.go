// Command ugc-research generates the UGC dataset into a store and benchmarks
// the API's read paths against it.
//
//	ugc-research generate --backend postgres --scale 0.1 --seed 1
//	ugc-research read     --backend postgres --scale 0.1 --duration 10s --concurrency 4 --write-rate 1000
//	ugc-research local    --scale 0.05 --out RESULTS.md   # what `make research` runs
//
// Connection defaults match research/docker-compose.yml. The binary links
// chDB, which loads libchdb.so at start-up from CHDB_LIB_PATH (`make
// research-chdb` fetches it into bin/chdb).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/ugcstack/ugcstack/research/bench"
	"github.com/ugcstack/ugcstack/research/chdb"
	"github.com/ugcstack/ugcstack/research/clickhouse"
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
	"mongo":            mongo.DefaultURI,
	"clickhouse":       clickhouse.DefaultAddr,
	"postgres":         postgres.DefaultDSN,
	"redis":            redisstore.DefaultAddr,
	"vertica":          vertica.DefaultDSN,
	"sqlite":           "ugc-research.db",
	"postgres-buckets": postgres.DefaultDSN,
	"chdb":             "ugc-research-chdb",
}

// SummaryBuckets is how many summary rows per film postgres-buckets keeps:
// enough that the hot workload's 64 writers rarely wait on one another.
const SummaryBuckets = 16

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
	skew          string
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.backend, "backend", "postgres", "mongo|clickhouse|chdb|postgres|postgres-buckets|redis|vertica|sqlite")
	fs.StringVar(&c.skew, "skew", "uniform", "how ratings and reviews pick films: uniform, or zipf:S (S > 1; film 1 the hottest, and read's writer rates only film 1)")
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
	case "postgres-buckets":
		return postgres.OpenBucketed(ctx, addr, pool, SummaryBuckets)
	case "redis":
		return redisstore.Open(ctx, addr, pool)
	case "clickhouse":
		return clickhouse.Open(ctx, addr, pool)
	case "sqlite":
		return sqlite.Open(addr, pool)
	case "chdb":
		return chdb.Open(addr)
	case "mongo":
		return mongo.Open(ctx, addr, pool)
	case "vertica":
		return vertica.Open(ctx, addr, pool)
	}
	return nil, fmt.Errorf("unknown backend %q", backend)
}

func doGenerate(ctx context.Context, s ugcdata.Store, g ugcdata.Generator, batch int) (ugcdata.LoadCounts, time.Duration, error) {
	fmt.Fprintf(os.Stderr, "generate into %s: %s, %s\n", s.Name(), g.V, g.Skew)
	t := time.Now()
	c, err := ugcdata.Load(ctx, s, g, batch, newLoadProgress(os.Stderr, g.V).report)
	d := time.Since(t)
	if err != nil {
		return c, d, fmt.Errorf("generate into %s: %w", s.Name(), err)
	}
	fmt.Fprintf(os.Stderr, "  loaded %d rows in %v (%.0f rows/s, summaries and indexes included)\n", c.Total(), d.Round(time.Millisecond), float64(c.Total())/d.Seconds())
	return c, d, nil
}

func generate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("generate", flag.ExitOnError)
	var c common
	c.flags(fs)
	batch := fs.Int("batch", 10000, "rows per batch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	skew, err := ugcdata.ParseSkew(c.skew)
	if err != nil {
		return err
	}
	s, err := open(ctx, c.backend, c.addr, c.pool)
	if err != nil {
		return err
	}
	defer s.Close()
	_, _, err = doGenerate(ctx, s, ugcdata.Generator{V: ugcdata.Default.Scaled(c.scale), Seed: c.seed, Skew: skew}, *batch)
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
	skew, err := ugcdata.ParseSkew(c.skew)
	if err != nil {
		return err
	}
	s, err := open(ctx, c.backend, c.addr, c.pool)
	if err != nil {
		return err
	}
	defer s.Close()
	o.Volumes, o.Seed, o.Skew = ugcdata.Default.Scaled(c.scale), c.seed, skew
	if skew.Zipf != 0 {
		o.Paths = bench.HotPaths
	}
	_, _, err = readBoth(ctx, s, o)
	return err
}

func readBoth(ctx context.Context, s ugcdata.Store, o bench.Options) (idle, loaded bench.ReadResult, err error) {
	rate := o.WriteRate
	o.WriteRate = 0
	fmt.Fprintf(os.Stderr, "read %s (%s): concurrency %d, %v per path\n", s.Name(), o.Skew, o.Concurrency, o.Duration)
	if idle, err = bench.Read(ctx, s, o, os.Stderr); err != nil || rate == 0 {
		return
	}
	o.WriteRate, o.Warmup = rate, 0
	fmt.Fprintf(os.Stderr, "read %s with a concurrent writer at %d writes/s\n", s.Name(), rate)
	loaded, err = bench.Read(ctx, s, o, os.Stderr)
	return
}
