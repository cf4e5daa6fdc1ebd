package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// Paths are the read paths in report order.
var Paths = []string{"user_bookmarks", "film_summary", "film_reviews", "user_ratings", "user_film_rating"}

// HotPaths are the paths the hot-film workload measures: the two keyed by film.
var HotPaths = []string{"film_summary", "film_reviews"}

// Options bound one read run: every loop stops by itself after Duration or Count.
type Options struct {
	Volumes ugcdata.Volumes
	// Skew, when not uniform, draws the readers' films from the dataset's
	// Zipf law and sends every write to ugcdata.HotFilm (a premiere).
	Skew        ugcdata.Skew
	Paths       []string // nil: Paths
	Warmup      time.Duration
	Duration    time.Duration // per path; 0 means use Count
	Count       int           // per path when Duration is 0
	Concurrency int
	WriteRate   int // concurrent writer target in writes/s; 0 = off
	Seed        uint64
}

// PathResult is the latency of one path.
type PathResult struct {
	Path          string
	N             uint64
	Errors        uint64
	P50, P95, P99 time.Duration
}

// ReadResult is one read run.
type ReadResult struct {
	Paths         []PathResult
	WriteRate     int
	WritesDone    uint64
	WriteErrors   uint64
	WritesPerSec  float64
	WriteP99      time.Duration
	WriterElapsed time.Duration
}

func call(ctx context.Context, s ugcdata.Reader, path string, r *rand.Rand, film func() int64, v ugcdata.Volumes) error {
	u, f := r.Int64N(v.Users)+1, film()
	var err error
	switch path {
	case "user_bookmarks":
		_, err = s.UserBookmarks(ctx, u, ugcdata.PageSize)
	case "film_summary":
		_, err = s.FilmSummary(ctx, f)
	case "film_reviews":
		_, err = s.FilmReviews(ctx, f, ugcdata.PageSize)
	case "user_ratings":
		_, err = s.UserRatings(ctx, u)
	case "user_film_rating":
		_, _, err = s.UserFilmRating(ctx, u, f)
	default:
		err = fmt.Errorf("unknown path %q", path)
	}
	return err
}

// Read runs every path in turn; with WriteRate > 0 a writer applies rating
// upserts at that rate for the whole run.
func Read(ctx context.Context, s ugcdata.Store, o Options, log io.Writer) (ReadResult, error) {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Duration == 0 && o.Count == 0 {
		o.Duration = 5 * time.Second
	}
	res := ReadResult{WriteRate: o.WriteRate}
	wctx, stopWriter := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var wh Hist
	var wdone, werr atomic.Uint64
	wstart := time.Now()
	if o.WriteRate > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); writer(wctx, s, o, &wh, &wdone, &werr) }()
	}
	paths := o.Paths
	if paths == nil {
		paths = Paths
	}
	for _, p := range paths {
		if o.Warmup > 0 {
			if _, err := runPath(ctx, s, p, o, o.Warmup, 0); err != nil {
				stopWriter()
				wg.Wait()
				return res, err
			}
		}
		pr, err := runPath(ctx, s, p, o, o.Duration, o.Count)
		if err != nil {
			stopWriter()
			wg.Wait()
			return res, err
		}
		fmt.Fprintf(log, "  %-17s n=%-7d p50=%-9v p95=%-9v p99=%-9v errors=%d\n", p, pr.N, pr.P50, pr.P95, pr.P99, pr.Errors)
		res.Paths = append(res.Paths, pr)
	}
	stopWriter()
	wg.Wait()
	res.WriterElapsed = time.Since(wstart)
	res.WritesDone, res.WriteErrors = wdone.Load(), werr.Load()
	if o.WriteRate > 0 {
		res.WritesPerSec = float64(res.WritesDone) / res.WriterElapsed.Seconds()
		res.WriteP99 = wh.Quantile(0.99)
		fmt.Fprintf(log, "  writer: %d writes (%.0f/s, target %d/s), p99 %v, errors %d\n", res.WritesDone, res.WritesPerSec, o.WriteRate, res.WriteP99, res.WriteErrors)
	}
	return res, nil
}

func runPath(ctx context.Context, s ugcdata.Store, path string, o Options, d time.Duration, count int) (PathResult, error) {
	var h Hist
	var errs atomic.Uint64
	var firstErr atomic.Value
	var left atomic.Int64
	left.Store(int64(count))
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(o.Seed, uint64(w)+100)) //nolint:gosec // a seeded, reproducible load: nothing secret
			film := o.Skew.Films(r, o.Volumes.Films)
			for ctx.Err() == nil {
				if d > 0 && time.Now().After(deadline) {
					return
				}
				if d == 0 && left.Add(-1) < 0 {
					return
				}
				t := time.Now()
				if err := call(ctx, s, path, r, film, o.Volumes); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				h.Record(time.Since(t))
			}
		}(w)
	}
	wg.Wait()
	pr := PathResult{Path: path, N: h.Count(), Errors: errs.Load(), P50: h.Quantile(0.50), P95: h.Quantile(0.95), P99: h.Quantile(0.99)}
	if pr.N == 0 && pr.Errors > 0 {
		return pr, fmt.Errorf("%s: every call failed: %v", path, firstErr.Load())
	}
	return pr, nil
}

// writer issues rating upserts at o.WriteRate per second from a small
// pool, each paced by a shared ticker; it stops when ctx ends.
func writer(ctx context.Context, s ugcdata.Store, o Options, h *Hist, done, errs *atomic.Uint64) {
	const workers = 64
	interval := time.Second / time.Duration(o.WriteRate)
	tokens := make(chan struct{}, workers*4)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(o.Seed^0x5eed, uint64(w))) //nolint:gosec // a seeded, reproducible load: nothing secret
			film := func() int64 { return r.Int64N(o.Volumes.Films) + 1 }
			if o.Skew.Zipf != 0 {
				film = func() int64 { return ugcdata.HotFilm }
			}
			for range tokens {
				rt := ugcdata.Rating{
					UserID: r.Int64N(o.Volumes.Users) + 1, FilmID: film(),
					Score: int8(r.IntN(ugcdata.MaxScore + 1)), At: time.Now().UTC().Truncate(time.Millisecond),
				}
				t := time.Now()
				if err := s.PutRating(ctx, rt); err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				h.Record(time.Since(t))
				done.Add(1)
			}
		}(w)
	}
	// The pacer issues writes by the clock, not by ticks (a busy 2-core host
	// drops ticks): on each wake-up it releases every write due since start.
	tk := time.NewTicker(interval)
	defer func() { tk.Stop(); close(tokens); wg.Wait() }()
	start, issued := time.Now(), int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			due := int64(time.Since(start) / interval)
			for issued < due {
				select {
				case tokens <- struct{}{}:
					issued++
				default: // writers saturated: the shortfall shows in the achieved rate
					issued = due
				}
			}
		}
	}
}
