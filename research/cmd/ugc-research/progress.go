package main

import (
	"fmt"
	"io"
	"time"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// loadProgress reports a load every few seconds with its rate and an ETA
// over all the dataset's rows, so a scale-1 run (18M rows, minutes per
// store) says when it will be done. The ETA covers the rows; building the
// indexes and summaries afterwards is not in it.
type loadProgress struct {
	out   io.Writer
	v     ugcdata.Volumes
	every time.Duration
	now   func() time.Time
	start time.Time
	last  time.Time
	done  map[string]int64
}

func newLoadProgress(out io.Writer, v ugcdata.Volumes) *loadProgress {
	p := &loadProgress{out: out, v: v, every: 5 * time.Second, now: time.Now, done: map[string]int64{}}
	p.start = p.now()
	p.last = p.start
	return p
}

// rows is how many of the dataset's rows are loaded: the reviews counter
// stands for the votes loaded with them too.
func (p *loadProgress) rows() int64 {
	n := p.done["ratings"] + p.done["reviews"] + p.done["bookmarks"]
	if p.v.Reviews > 0 {
		n += p.done["reviews"] * p.v.Votes / p.v.Reviews
	}
	return n
}

// report is a ugcdata.Progress.
func (p *loadProgress) report(entity string, done, total int64) {
	p.done[entity] = done
	now := p.now()
	if now.Sub(p.last) < p.every && done != total {
		return
	}
	p.last = now
	all := p.v.Ratings + p.v.Reviews + p.v.Votes + p.v.Bookmarks
	rows, el := p.rows(), now.Sub(p.start)
	rate := float64(rows) / el.Seconds()
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(all-rows)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(p.out, "  %-9s %10d / %-10d  all rows %3.0f%%  %7.0f rows/s  elapsed %v  ETA %s\n",
		entity, done, total, 100*float64(rows)/float64(max(all, 1)), rate, el.Round(time.Second), eta)
}
