package http

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// TestSummaryEncodingMatchesEncodingJSON holds the hand-written encoder to
// encoding/json's bytes over many summaries, unrated films included.
func TestSummaryEncodingMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var items []*ugc.FilmSummary
	for i := range 2000 {
		var d ugc.Distribution
		for s := range d {
			if i%7 != 0 { // every seventh film is unrated
				d[s] = rng.Int64N([]int64{2, 10, 1000, 1 << 40}[i%4])
			}
		}
		items = append(items, ugc.NewFilmSummary(uuid.New(), d))
	}
	for _, s := range items {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := marshal(s); !bytes.Equal(got, want) {
			t.Fatalf("summary\n got %s\nwant %s", got, want)
		}
	}
	body := summariesBody{Items: items[:100]}
	want, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if got := marshal(body); !bytes.Equal(got, want) {
		t.Fatalf("batch differs\n got %.300s\nwant %.300s", got, want)
	}
}
