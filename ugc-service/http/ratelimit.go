package http

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/time/rate"
)

// UserWriteLimit is the rate at which one user may write, per API process:
// a token bucket refilled at PerSecond up to Burst. A zero PerSecond turns
// the limit off.
type UserWriteLimit struct {
	PerSecond float64
	Burst     int
}

// DefaultUserWriteLimit is generous for a person clicking (a like, a
// bookmark, a review a minute) and stops a script filling the store.
var DefaultUserWriteLimit = UserWriteLimit{PerSecond: 5, Burst: 20}

// userLimiter keeps one bucket per user that wrote recently.
type userLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	users   map[uuid.UUID]*rate.Limiter
	sweepAt int // map size that triggers dropping idle buckets
}

// minSweep is the map size below which idle buckets are not worth dropping.
const minSweep = 4096

func newUserLimiter(l UserWriteLimit) *userLimiter {
	return &userLimiter{limit: rate.Limit(l.PerSecond), burst: l.Burst, users: map[uuid.UUID]*rate.Limiter{}, sweepAt: minSweep}
}

// wait is zero when user may write now (and takes a token), or else how long
// until a token is free.
func (l *userLimiter) wait(user uuid.UUID, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.users[user]
	if !ok {
		l.sweep(now)
		b = rate.NewLimiter(l.limit, l.burst)
		l.users[user] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// sweep drops the buckets that have refilled, which are no different from
// new ones, once the map has doubled since the last sweep: memory follows
// the users active in the last Burst/PerSecond seconds, not all users ever.
func (l *userLimiter) sweep(now time.Time) {
	if len(l.users) < l.sweepAt {
		return
	}
	for u, b := range l.users {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.users, u)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.users))
}

// limitWrites answers 429 with Retry-After to a user over their write rate.
func (s *Server) limitWrites(c *gin.Context) {
	if d := s.writeLimiter.wait(currentUser(c), time.Now()); d > 0 {
		s.fail(c, &statusError{
			status: http.StatusTooManyRequests, code: codeRateLimited,
			detail:     "too many writes by this user; retry after the time in Retry-After",
			retryAfter: strconv.Itoa(int(math.Ceil(d.Seconds()))),
		})
		return
	}
	c.Next()
}
