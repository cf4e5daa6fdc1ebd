// Command load is the benchmark behind `make bench`: it preloads the embedded
// store with a realistic dataset, starts the real `ugc serve` binary on a
// loopback port (access logging on, as in production), drives each endpoint
// with a closed-loop keep-alive load for a fixed time, and prints one line per
// endpoint:
//
//	BENCH <name> rps=<n> p50_ms=<n> p99_ms=<n>
//
// and a last line with the ratio of the API's summary read to a bare net/http
// baseline (bare.go) measured in the same run. Every loop is bounded by count
// and time, and all traffic goes to 127.0.0.1.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == bareFlag {
		if err := serveBare(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "load: baseline:", err)
			os.Exit(1)
		}
		return
	}
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

	eps := endpoints(ds, rng)
	body, err := summaryBody(srv.addr, eps[0])
	if err != nil {
		return err
	}
	base, err := startBare(body, tmp)
	if err != nil {
		return err
	}
	defer base.stop()
	// The baseline and the API's summary read take turns in short rounds,
	// so that both see the machine in the same state even while other work
	// on it comes and goes; each is reported over all its rounds.
	baseline := eps[0]
	baseline.name = "bare_summary"
	pair := []target{{base.addr, baseline}, {srv.addr, eps[0]}}
	// One unmeasured round first reads most films' summaries once, so the
	// rounds measure a running server, whose store has them cached, not
	// its first minute.
	if _, err := drive(srv.addr, eps[0], cfg.conns, cfg.duration/ratioRounds); err != nil {
		return fmt.Errorf("warming %s: %w", eps[0].name, err)
	}
	var rounds [2]*result
	for range ratioRounds {
		for i, run := range pair {
			res, err := drive(run.addr, run.ep, cfg.conns, cfg.duration/ratioRounds)
			if err != nil {
				return fmt.Errorf("%s: %w", run.ep.name, err)
			}
			rounds[i] = rounds[i].merge(res)
		}
	}
	for i, run := range pair {
		report(run.ep.name, rounds[i])
	}
	for _, run := range targets(srv.addr, eps[1:]) {
		res, err := drive(run.addr, run.ep, cfg.conns, cfg.duration)
		if err != nil {
			return fmt.Errorf("%s: %w", run.ep.name, err)
		}
		report(run.ep.name, res)
	}
	fmt.Printf("BENCH ratio get_summary/bare_summary=%.2f (goal >= 0.75: the API with access logging against a bare net/http handler sending the same bytes)\n",
		rounds[1].rps()/rounds[0].rps())
	return nil
}

// ratioRounds is how many turns the baseline and the summary read take.
const ratioRounds = 4

func report(name string, res *result) {
	fmt.Printf("BENCH %s rps=%.0f p50_ms=%.2f p99_ms=%.2f\n", name, res.rps(), res.percentile(50), res.percentile(99))
	if res.errors > 0 {
		fmt.Printf("  %s: %d of %d responses were not the expected status\n", name, res.errors, res.count())
	}
}

// target is an endpoint on a server.
type target struct {
	addr string
	ep   endpoint
}

func targets(addr string, eps []endpoint) []target {
	out := make([]target, len(eps))
	for i, ep := range eps {
		out[i] = target{addr, ep}
	}
	return out
}

// summaryBody fetches one answer of the summary endpoint, for the baseline
// to send.
func summaryBody(addr string, ep endpoint) ([]byte, error) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(ep.request(rand.New(rand.NewPCG(7, 8)), addr))))
	if err != nil {
		return nil, err
	}
	resp, err := http.Get("http://" + addr + req.URL.RequestURI())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close() // read-only
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("summary for the baseline: status %d", resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}
