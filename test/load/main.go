// Command load is the benchmark behind `make bench`: it preloads the embedded
// store with a realistic dataset, starts the real `ugc serve` binary on a
// loopback port (access logging on, as in production), drives each endpoint
// with a closed-loop keep-alive load for a fixed time, and prints one line per
// endpoint:
//
//	BENCH <name> rps=<n> p50_ms=<n> p99_ms=<n>
//
// Every loop is bounded by count and time, and all traffic goes to 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

func main() {
	var cfg config
	flag.IntVar(&cfg.ratings, "ratings", 1_000_000, "ratings to preload")
	flag.IntVar(&cfg.films, "films", 100_000, "films the ratings spread over")
	flag.IntVar(&cfg.users, "users", 200_000, "users the ratings come from")
	flag.IntVar(&cfg.reviews, "reviews", 100_000, "reviews to preload")
	flag.IntVar(&cfg.bookmarks, "bookmarks", 200_000, "bookmarks to preload")
	flag.DurationVar(&cfg.duration, "duration", 20*time.Second, "load time per endpoint")
	flag.IntVar(&cfg.conns, "c", 32, "concurrent keep-alive connections")
	flag.StringVar(&cfg.binary, "ugc", "", "the ugc binary (default: build it)")
	flag.StringVar(&cfg.dataDir, "data", "", "data directory: preloaded unless it already holds a store made with the same flags (default: a fresh temporary one)")
	flag.Uint64Var(&cfg.seed, "seed", 1, "random seed of the dataset and the request mix")
	flag.Parse()
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type config struct {
	ratings, films, users, reviews, bookmarks int
	duration                                  time.Duration
	conns                                     int
	binary, dataDir                           string
	seed                                      uint64
}

func run(ctx context.Context, cfg config) error {
	tmp, err := os.MkdirTemp("", "ugc-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // best-effort clean-up

	if cfg.binary == "" {
		cfg.binary = filepath.Join(tmp, "ugc")
		build := exec.Command("go", "build", "-trimpath", "-o", cfg.binary, "github.com/ugcstack/ugcstack/ugc-service/cmd/ugc")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build ugc: %w", err)
		}
	}
	if cfg.dataDir == "" {
		cfg.dataDir = filepath.Join(tmp, "data")
	}
	// The seed makes the dataset's ids the same on every run, so a kept
	// directory matches the requests drawn below.
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
	ds := newDataset(cfg, rng)
	if _, err := os.Stat(filepath.Join(cfg.dataDir, sqlite.FileName)); errors.Is(err, fs.ErrNotExist) {
		if err := ds.preload(ctx, cfg.dataDir); err != nil {
			return err
		}
	}

	srv, err := startServer(cfg.binary, cfg.dataDir, filepath.Join(tmp, "access.log"))
	if err != nil {
		return err
	}
	defer srv.stop()

	for _, ep := range endpoints(ds, rng) {
		res, err := drive(srv.addr, ep, cfg.conns, cfg.duration)
		if err != nil {
			return fmt.Errorf("%s: %w", ep.name, err)
		}
		fmt.Printf("BENCH %s rps=%.0f p50_ms=%.2f p99_ms=%.2f\n", ep.name, res.rps(), res.percentile(50), res.percentile(99))
		if res.errors > 0 {
			fmt.Printf("  %s: %d of %d responses were not the expected status\n", ep.name, res.errors, res.count())
		}
	}
	return nil
}
