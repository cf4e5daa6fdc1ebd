package ugcdata

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Volumes is the dataset size. Default is the default dataset.
type Volumes struct {
	Users, Films, Ratings, Reviews, Votes, Bookmarks int64
}

// Default is the default dataset at scale 1.
var Default = Volumes{Users: 500_000, Films: 100_000, Ratings: 10_000_000, Reviews: 1_000_000, Votes: 5_000_000, Bookmarks: 2_000_000}

// Scaled multiplies every volume by f, keeping at least a handful of each.
func (v Volumes) Scaled(f float64) Volumes {
	s := func(n int64, min int64) int64 {
		x := int64(float64(n) * f)
		if x < min {
			x = min
		}
		return x
	}
	out := Volumes{Users: s(v.Users, 50), Films: s(v.Films, 20)}
	out.Ratings = s(v.Ratings, 200)
	out.Reviews = s(v.Reviews, 40)
	out.Votes = s(v.Votes, 100)
	out.Bookmarks = s(v.Bookmarks, 100)
	// Per-user and per-review fan-out must fit the distinct-pair space.
	if out.Ratings > out.Users*out.Films {
		out.Ratings = out.Users * out.Films
	}
	if out.Bookmarks > out.Users*out.Films {
		out.Bookmarks = out.Users * out.Films
	}
	if out.Votes > out.Reviews*out.Users {
		out.Votes = out.Reviews * out.Users
	}
	return out
}

func (v Volumes) String() string {
	return fmt.Sprintf("%d users, %d films, %d ratings, %d reviews, %d votes, %d bookmarks",
		v.Users, v.Films, v.Ratings, v.Reviews, v.Votes, v.Bookmarks)
}

// Epoch is the generator's time origin; all timestamps are whole milliseconds after it.
var Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Generator produces the dataset deterministically from a seed (and skew).
// Entities are produced in id order so a batch loop can stream them without
// holding the whole dataset in memory. Skew shapes which films ratings and
// reviews go to; bookmarks stay uniform (they are read per user).
type Generator struct {
	V    Volumes
	Seed uint64
	Skew Skew
}

// share splits total over n owners: owner i gets base or base+1 items.
func share(total, n, i int64) int64 {
	b := total / n
	if i < total%n {
		b++
	}
	return b
}

// distinct returns the j-th of a user's distinct films: an affine walk
// with a step coprime to films, offset per owner.
func distinct(owner, j, films int64) int64 {
	step := int64(1)
	for _, c := range []int64{7919, 104729, 15485863, 31, 7, 3} {
		if films%c != 0 && c < films {
			step = c
			break
		}
	}
	base := (owner * 2654435761) % films
	return (base+j*step)%films + 1
}

func ts(r *rand.Rand) time.Time {
	return Epoch.Add(time.Duration(r.Int64N(365*24*3600*1000)) * time.Millisecond)
}

// Ratings calls emit with batches of at most batch ratings.
func (g Generator) Ratings(batch int, emit func([]Rating) error) error {
	r := rand.New(rand.NewPCG(g.Seed, 1)) //nolint:gosec // a seeded, reproducible dataset: nothing secret
	buf := make([]Rating, 0, batch)
	films := newDistinctFilms(g.Skew, r, g.V.Films)
	for u := int64(0); u < g.V.Users; u++ {
		n := share(g.V.Ratings, g.V.Users, u)
		for j := int64(0); j < n; j++ {
			buf = append(buf, Rating{UserID: u + 1, FilmID: films.next(u, j), Score: int8(r.IntN(MaxScore + 1)), At: ts(r)})
			if len(buf) == batch {
				if err := emit(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		return emit(buf)
	}
	return nil
}

// ReviewsAndVotes calls emit with batches of reviews and the votes for
// exactly those reviews; each review's Likes/Dislikes count its votes.
func (g Generator) ReviewsAndVotes(batch int, emit func([]Review, []Vote) error) error {
	r := rand.New(rand.NewPCG(g.Seed, 2)) //nolint:gosec // a seeded, reproducible dataset: nothing secret
	rs := make([]Review, 0, batch)
	var vs []Vote
	film := g.Skew.Films(r, g.V.Films)
	for id := int64(1); id <= g.V.Reviews; id++ {
		rv := Review{ID: id, FilmID: film(), UserID: r.Int64N(g.V.Users) + 1, At: ts(r)}
		rv.Text = fmt.Sprintf("review %d of film %d: %x", id, rv.FilmID, r.Uint64())
		n := share(g.V.Votes, g.V.Reviews, id-1)
		// Every review gets its even share of the votes.
		for j := int64(0); j < n; j++ {
			v := Vote{ReviewID: id, FilmID: rv.FilmID, UserID: distinct(id, j, g.V.Users), Value: 1}
			if r.IntN(3) == 0 {
				v.Value = -1
				rv.Dislikes++
			} else {
				rv.Likes++
			}
			vs = append(vs, v)
		}
		rs = append(rs, rv)
		if len(rs) == batch {
			if err := emit(rs, vs); err != nil {
				return err
			}
			rs, vs = rs[:0], vs[:0]
		}
	}
	if len(rs) > 0 {
		return emit(rs, vs)
	}
	return nil
}

// Bookmarks calls emit with batches of at most batch bookmarks.
func (g Generator) Bookmarks(batch int, emit func([]Bookmark) error) error {
	r := rand.New(rand.NewPCG(g.Seed, 3)) //nolint:gosec // a seeded, reproducible dataset: nothing secret
	buf := make([]Bookmark, 0, batch)
	for u := int64(0); u < g.V.Users; u++ {
		n := share(g.V.Bookmarks, g.V.Users, u)
		for j := int64(0); j < n; j++ {
			buf = append(buf, Bookmark{UserID: u + 1, FilmID: distinct(u*31+7, j, g.V.Films), At: ts(r)})
			if len(buf) == batch {
				if err := emit(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		return emit(buf)
	}
	return nil
}
