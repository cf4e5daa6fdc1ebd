// Package redisstore is the Redis backend (go-redis/v9).
//
// Model: every read path is one key. r:u:{user} is a hash film→score (a
// user's ratings and the point lookup); r:t:{user} holds the rating times;
// fs:{film} is the precomputed summary hash (cnt, sum, likes, dislikes),
// kept exact by a Lua script that upserts the rating and applies the delta
// atomically; rv:{id} is a review hash and fr:{film} a sorted set of review
// ids scored by likes (ties broken by id through the member encoding);
// b:{user} is a sorted set of films scored by the bookmark time in ms.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// DefaultAddr matches research/docker-compose.yml.
const DefaultAddr = "127.0.0.1:6379"

// Store is the Redis backend.
type Store struct{ c *redis.Client }

// Open connects and waits up to 30 s for PING.
func Open(ctx context.Context, addr string, pool int) (*Store, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: pool})
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err = c.Ping(ctx).Err(); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return &Store{c: c}, nil
}

// Name implements ugcdata.Store.
func (s *Store) Name() string { return "redis" }

// Close implements ugcdata.Store.
func (s *Store) Close() error { return s.c.Close() }

// Version implements ugcdata.Store.
func (s *Store) Version(ctx context.Context) (string, error) {
	info, err := s.c.Info(ctx, "server").Result()
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
			return "Redis " + v, nil
		}
	}
	return "Redis", nil
}

// Reset implements ugcdata.Store.
func (s *Store) Reset(ctx context.Context) error { return s.c.FlushDB(ctx).Err() }

// Finish implements ugcdata.Store.
func (s *Store) Finish(context.Context) error { return nil }

func ms(t time.Time) int64 { return t.UnixMilli() }

// reviewMember orders equal-likes reviews by id ascending under ZREVRANGE:
// the member is a fixed-width inverted id, compared lexicographically.
func reviewMember(id int64) string { return fmt.Sprintf("%019d", int64(1<<62)-id) }

func memberID(m string) int64 {
	n, _ := strconv.ParseInt(m, 10, 64)
	return int64(1<<62) - n
}

// LoadRatings implements ugcdata.Store.
func (s *Store) LoadRatings(ctx context.Context, rs []ugcdata.Rating) error {
	p := s.c.Pipeline()
	type agg struct{ cnt, sum, likes, dislikes int64 }
	films := map[int64]*agg{}
	for _, r := range rs {
		p.HSet(ctx, "r:u:"+strconv.FormatInt(r.UserID, 10), strconv.FormatInt(r.FilmID, 10), int(r.Score))
		p.HSet(ctx, "r:t:"+strconv.FormatInt(r.UserID, 10), strconv.FormatInt(r.FilmID, 10), ms(r.At))
		a := films[r.FilmID]
		if a == nil {
			a = &agg{}
			films[r.FilmID] = a
		}
		a.cnt++
		a.sum += int64(r.Score)
		if r.Score == ugcdata.MaxScore {
			a.likes++
		}
		if r.Score == ugcdata.MinScore {
			a.dislikes++
		}
	}
	for f, a := range films {
		k := "fs:" + strconv.FormatInt(f, 10)
		p.HIncrBy(ctx, k, "cnt", a.cnt)
		p.HIncrBy(ctx, k, "sum", a.sum)
		p.HIncrBy(ctx, k, "likes", a.likes)
		p.HIncrBy(ctx, k, "dislikes", a.dislikes)
	}
	_, err := p.Exec(ctx)
	return err
}

// LoadReviews implements ugcdata.Store.
func (s *Store) LoadReviews(ctx context.Context, rs []ugcdata.Review) error {
	p := s.c.Pipeline()
	for _, r := range rs {
		p.HSet(ctx, "rv:"+strconv.FormatInt(r.ID, 10), "film", r.FilmID, "user", r.UserID, "text", r.Text, "at", ms(r.At), "likes", 0, "dislikes", 0)
		p.ZAdd(ctx, "fr:"+strconv.FormatInt(r.FilmID, 10), redis.Z{Score: 0, Member: reviewMember(r.ID)})
	}
	_, err := p.Exec(ctx)
	return err
}

// LoadVotes implements ugcdata.Store.
func (s *Store) LoadVotes(ctx context.Context, vs []ugcdata.Vote) error {
	p := s.c.Pipeline()
	for _, v := range vs {
		id := strconv.FormatInt(v.ReviewID, 10)
		p.HSet(ctx, "rvv:"+id, strconv.FormatInt(v.UserID, 10), int(v.Value))
		if v.Value > 0 {
			p.HIncrBy(ctx, "rv:"+id, "likes", 1)
			p.ZIncrBy(ctx, "fr:"+strconv.FormatInt(v.FilmID, 10), 1, reviewMember(v.ReviewID))
		} else {
			p.HIncrBy(ctx, "rv:"+id, "dislikes", 1)
		}
	}
	_, err := p.Exec(ctx)
	return err
}

// LoadBookmarks implements ugcdata.Store.
func (s *Store) LoadBookmarks(ctx context.Context, bs []ugcdata.Bookmark) error {
	p := s.c.Pipeline()
	for _, b := range bs {
		p.ZAdd(ctx, "b:"+strconv.FormatInt(b.UserID, 10), redis.Z{Score: float64(ms(b.At)), Member: strconv.FormatInt(b.FilmID, 10)})
	}
	_, err := p.Exec(ctx)
	return err
}

// putRating: KEYS r:u:{user}, r:t:{user}, fs:{film}; ARGV film, score, ms.
var putRating = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
local new = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], new)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if old then
  old = tonumber(old)
  redis.call('HINCRBY', KEYS[3], 'sum', new - old)
  if old == 10 then redis.call('HINCRBY', KEYS[3], 'likes', -1) end
  if old == 0 then redis.call('HINCRBY', KEYS[3], 'dislikes', -1) end
else
  redis.call('HINCRBY', KEYS[3], 'cnt', 1)
  redis.call('HINCRBY', KEYS[3], 'sum', new)
end
if new == 10 then redis.call('HINCRBY', KEYS[3], 'likes', 1) end
if new == 0 then redis.call('HINCRBY', KEYS[3], 'dislikes', 1) end
return 1`)

// PutRating implements ugcdata.Store.
func (s *Store) PutRating(ctx context.Context, r ugcdata.Rating) error {
	u := strconv.FormatInt(r.UserID, 10)
	return putRating.Run(ctx, s.c, []string{"r:u:" + u, "r:t:" + u, "fs:" + strconv.FormatInt(r.FilmID, 10)},
		r.FilmID, int(r.Score), ms(r.At)).Err()
}

// UserBookmarks implements ugcdata.Store.
func (s *Store) UserBookmarks(ctx context.Context, user int64, limit int) ([]ugcdata.Bookmark, error) {
	// Ties on time are ordered by member descending by ZREVRANGE; fetch a
	// little more and re-sort so equal times come out film id ascending.
	zs, err := s.c.ZRevRangeWithScores(ctx, "b:"+strconv.FormatInt(user, 10), 0, int64(limit)).Result()
	if err != nil {
		return nil, err
	}
	out := make([]ugcdata.Bookmark, 0, len(zs))
	for _, z := range zs {
		f, _ := strconv.ParseInt(z.Member.(string), 10, 64)
		out = append(out, ugcdata.Bookmark{UserID: user, FilmID: f, At: time.UnixMilli(int64(z.Score)).UTC()})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].FilmID < out[j].FilmID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// FilmSummary implements ugcdata.Store.
func (s *Store) FilmSummary(ctx context.Context, film int64) (ugcdata.Summary, error) {
	v, err := s.c.HMGet(ctx, "fs:"+strconv.FormatInt(film, 10), "cnt", "sum", "likes", "dislikes").Result()
	sm := ugcdata.Summary{FilmID: film}
	if err != nil {
		return sm, err
	}
	get := func(i int) int64 {
		if v[i] == nil {
			return 0
		}
		n, _ := strconv.ParseInt(v[i].(string), 10, 64)
		return n
	}
	sm.Count, sm.Sum, sm.Likes, sm.Dislikes = get(0), get(1), get(2), get(3)
	return sm, nil
}

// FilmReviews implements ugcdata.Store.
func (s *Store) FilmReviews(ctx context.Context, film int64, limit int) ([]ugcdata.Review, error) {
	// ZREVRANGE orders equal scores by member descending; members are
	// inverted ids, so equal likes come out id ascending.
	ids, err := s.c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "fr:" + strconv.FormatInt(film, 10), Start: 0, Stop: int64(limit - 1), Rev: true}).Result()
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	p := s.c.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, m := range ids {
		cmds[i] = p.HMGet(ctx, "rv:"+strconv.FormatInt(memberID(m), 10), "user", "text", "at", "likes", "dislikes")
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, err
	}
	out := make([]ugcdata.Review, len(ids))
	for i, c := range cmds {
		v := c.Val()
		n := func(k int) int64 { x, _ := strconv.ParseInt(fmt.Sprint(v[k]), 10, 64); return x }
		out[i] = ugcdata.Review{ID: memberID(ids[i]), FilmID: film, UserID: n(0), Text: fmt.Sprint(v[1]), At: time.UnixMilli(n(2)).UTC(), Likes: n(3), Dislikes: n(4)}
	}
	return out, nil
}

// UserRatings implements ugcdata.Store.
func (s *Store) UserRatings(ctx context.Context, user int64) ([]ugcdata.Rating, error) {
	u := strconv.FormatInt(user, 10)
	p := s.c.Pipeline()
	sc := p.HGetAll(ctx, "r:u:"+u)
	at := p.HGetAll(ctx, "r:t:"+u)
	if _, err := p.Exec(ctx); err != nil {
		return nil, err
	}
	out := make([]ugcdata.Rating, 0, len(sc.Val()))
	for f, v := range sc.Val() {
		fid, _ := strconv.ParseInt(f, 10, 64)
		n, _ := strconv.Atoi(v)
		t, _ := strconv.ParseInt(at.Val()[f], 10, 64)
		out = append(out, ugcdata.Rating{UserID: user, FilmID: fid, Score: int8(n), At: time.UnixMilli(t).UTC()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FilmID < out[j].FilmID })
	return out, nil
}

// UserFilmRating implements ugcdata.Store.
func (s *Store) UserFilmRating(ctx context.Context, user, film int64) (int8, bool, error) {
	n, err := s.c.HGet(ctx, "r:u:"+strconv.FormatInt(user, 10), strconv.FormatInt(film, 10)).Int()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	return int8(n), err == nil, err
}
