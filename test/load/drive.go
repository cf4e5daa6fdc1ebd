package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/ugcstack/ugcstack/ugc-service/jwt"
)

// endpoint makes requests of one kind.
type endpoint struct {
	name   string
	status int
	// request writes one raw HTTP/1.1 request drawn with rng.
	request func(rng *rand.Rand, host string) []byte
}

func endpoints(ds *dataset, rng *rand.Rand) []endpoint {
	pick := func(r *rand.Rand, ids []uuid.UUID) uuid.UUID { return ids[r.IntN(len(ids))] }
	// A pool of signed-in users; minting is not what is measured.
	tokens := map[uuid.UUID]string{}
	var raters []uuid.UUID
	for range 1000 {
		u := pick(rng, ds.bookmarkUsers)
		t, err := jwt.Mint([]byte(loadSecret), u, 24*time.Hour, "", "")
		if err != nil {
			panic(err) // a constant secret and a valid id cannot fail
		}
		tokens[u] = t
		raters = append(raters, u)
	}
	get := func(host, path, token string) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, host)
		if token != "" {
			fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
		}
		b.WriteString("\r\n")
		return b.Bytes()
	}
	return []endpoint{
		{"get_summary", 200, func(r *rand.Rand, host string) []byte {
			return get(host, "/api/v1/films/"+pick(r, ds.films).String()+"/summary", "")
		}},
		{"put_rating", 200, func(r *rand.Rand, host string) []byte {
			u := pick(r, raters)
			body := fmt.Sprintf(`{"score":%d}`, score(r))
			return fmt.Appendf(nil, "PUT /api/v1/films/%s/rating HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
				pick(r, ds.films), host, tokens[u], len(body), body)
		}},
		{"list_reviews", 200, func(r *rand.Rand, host string) []byte {
			return get(host, "/api/v1/films/"+pick(r, ds.reviewedFilms).String()+"/reviews?limit=20", "")
		}},
		{"list_bookmarks", 200, func(r *rand.Rand, host string) []byte {
			return get(host, "/api/v1/users/me/bookmarks?limit=20", tokens[pick(r, raters)])
		}},
		// A catalogue page: 24 films' summaries in one call.
		{"get_summaries_24", 200, func(r *rand.Rand, host string) []byte {
			var q strings.Builder
			for i := range 24 {
				if i > 0 {
					q.WriteByte('&')
				}
				q.WriteString("film_id=" + pick(r, ds.films).String())
			}
			return get(host, "/api/v1/films/summaries?"+q.String(), "")
		}},
	}
}

// result holds the latencies of one endpoint's run.
type result struct {
	latencies []time.Duration
	elapsed   time.Duration
	errors    int
}

func (r *result) count() int { return len(r.latencies) }

// merge adds o's requests to r (nil for none yet) and returns the sum.
func (r *result) merge(o *result) *result {
	if r == nil {
		return o
	}
	r.latencies = append(r.latencies, o.latencies...)
	slices.Sort(r.latencies)
	r.elapsed += o.elapsed
	r.errors += o.errors
	return r
}

func (r *result) rps() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

// percentile returns the p-th percentile latency in milliseconds.
func (r *result) percentile(p float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies)-1) * p / 100)
	return float64(r.latencies[i].Microseconds()) / 1000
}

const warmUp = 2 * time.Second

// drive runs conns closed-loop clients against addr for warm-up plus d and
// measures the requests after warm-up.
func drive(addr string, ep endpoint, conns int, d time.Duration) (*result, error) {
	var (
		mu  sync.Mutex
		res result
		wg  sync.WaitGroup
	)
	errs := make(chan error, conns)
	start := time.Now()
	measureFrom, stop := start.Add(warmUp), start.Add(warmUp+d)
	for i := range conns {
		wg.Go(func() {
			lat, bad, err := client(addr, ep, uint64(i), measureFrom, stop)
			if err != nil {
				errs <- err
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	res.elapsed = time.Since(measureFrom)
	slices.Sort(res.latencies)
	return &res, nil
}

// client is one keep-alive connection sending requests back to back until stop.
func client(addr string, ep endpoint, seed uint64, measureFrom, stop time.Time) (lat []time.Duration, bad int, err error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close() // done with it
	rng := rand.New(rand.NewPCG(seed, seed+1))
	br := bufio.NewReaderSize(conn, 64<<10)
	for {
		t0 := time.Now()
		if t0.After(stop) {
			return lat, bad, nil
		}
		if _, err := conn.Write(ep.request(rng, addr)); err != nil {
			return lat, bad, err
		}
		status, err := readResponse(br)
		if err != nil {
			return lat, bad, err
		}
		if t0.After(measureFrom) {
			lat = append(lat, time.Since(t0))
			if status != ep.status {
				bad++
			}
		}
	}
}

// readResponse reads one HTTP/1.1 response with a Content-Length body (all
// this API sends) and returns its status.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, errors.New("short status line")
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("status line %q", line)
	}
	length := 0
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return 0, fmt.Errorf("content-length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			return 0, errors.New("chunked response: the API is expected to send Content-Length")
		}
	}
	_, err = br.Discard(length)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return status, err
}
