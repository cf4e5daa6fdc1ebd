package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

func TestLoadProgressETA(t *testing.T) {
	var out strings.Builder
	v := ugcdata.Volumes{Ratings: 1000, Reviews: 100, Votes: 500, Bookmarks: 400} // 2,000 rows
	p := newLoadProgress(&out, v)
	clock := p.start
	p.now = func() time.Time { return clock }

	clock = clock.Add(time.Second)
	p.report("ratings", 100, 1000) // too soon: nothing printed
	if out.Len() != 0 {
		t.Fatalf("printed before the interval: %q", out.String())
	}
	clock = clock.Add(9 * time.Second) // 10 s for 1,000 ratings: 100 rows/s
	p.report("ratings", 1000, 1000)
	if !strings.Contains(out.String(), "all rows  50%") || !strings.Contains(out.String(), "ETA 10s") {
		t.Fatalf("half the rows in 10 s: %q", out.String())
	}
	out.Reset()
	clock = clock.Add(6 * time.Second) // 50 reviews stand for 250 votes too: 1,300 rows in 16 s
	p.report("reviews", 50, 100)
	if !strings.Contains(out.String(), "all rows  65%") {
		t.Fatalf("reviews must count their votes: %q", out.String())
	}
}
