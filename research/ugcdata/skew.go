package ugcdata

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// HotFilm is the film a Zipfian dataset concentrates on: films are ranked
// by id, so film 1 is the most rated, reviewed and, in the benchmark's hot
// workload, the one every write goes to (a premiere).
const HotFilm = 1

// Skew is how films are chosen for ratings and reviews. The zero value is
// uniform; Zipf > 1 draws films with P(rank k) ∝ 1/k^Zipf.
type Skew struct{ Zipf float64 }

// ParseSkew reads "uniform" (or "") and "zipf:S" with S > 1.
func ParseSkew(s string) (Skew, error) {
	if s == "" || s == "uniform" {
		return Skew{}, nil
	}
	v, ok := strings.CutPrefix(s, "zipf:")
	if !ok {
		return Skew{}, fmt.Errorf("skew %q: want uniform or zipf:S", s)
	}
	z, err := strconv.ParseFloat(v, 64)
	if err != nil || z <= 1 {
		return Skew{}, fmt.Errorf("skew %q: the Zipf exponent must be a number above 1", s)
	}
	return Skew{Zipf: z}, nil
}

// String is the form ParseSkew reads.
func (k Skew) String() string {
	if k.Zipf == 0 {
		return "uniform"
	}
	return "zipf:" + strconv.FormatFloat(k.Zipf, 'f', -1, 64)
}

// Films returns a film picker over 1..films drawing from r: uniform, or
// Zipfian with HotFilm the most likely.
func (k Skew) Films(r *rand.Rand, films int64) func() int64 {
	if k.Zipf == 0 || films < 2 {
		return func() int64 { return r.Int64N(films) + 1 }
	}
	z := rand.NewZipf(r, k.Zipf, 1, uint64(films-1))
	return func() int64 { return int64(z.Uint64()) + 1 }
}

// distinctFilms picks n distinct films for one owner. Uniform data keeps
// the affine walk (every film equally likely, no bookkeeping); skewed data
// draws from the picker and, on a repeat, takes the next film not yet
// taken, so a user rates a hot film once and the loop is bounded even
// when n comes close to the number of films.
type distinctFilms struct {
	skew  Skew
	films int64
	pick  func() int64
	taken map[int64]bool
}

func newDistinctFilms(k Skew, r *rand.Rand, films int64) *distinctFilms {
	return &distinctFilms{skew: k, films: films, pick: k.Films(r, films), taken: map[int64]bool{}}
}

// next returns the j-th film of owner (j counts from 0 for each owner).
func (d *distinctFilms) next(owner, j int64) int64 {
	if d.skew.Zipf == 0 {
		return distinct(owner, j, d.films)
	}
	if j == 0 {
		clear(d.taken)
	}
	f := d.pick()
	for d.taken[f] {
		f = f%d.films + 1
	}
	d.taken[f] = true
	return f
}
