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

// DefaultUserWriteLimit lets a person do at once what a page lets them do
// at once: bookmarking a catalogue page (24 films, as the batch summary
// read is sized) twice over, or rating a season's episodes, is 60 writes
// in a second or two. Sustained, 5 writes a second (300 a minute) is far
// above a person clicking and stops a script filling the store.
var DefaultUserWriteLimit = UserWriteLimit{PerSecond: 5, Burst: 60}

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

// wait is zero when user has a token for a write now, or else how long
// until one is free. It takes nothing: charge does, for an accepted write.
func (l *userLimiter) wait(user uuid.UUID, now time.Time) time.Duration {
	tokens := l.bucket(user, now).TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second))
}

// charge takes a token for an accepted write. Writes admitted together may
// take the bucket below zero; the user's next writes then wait for it.
func (l *userLimiter) charge(user uuid.UUID, now time.Time) {
	l.bucket(user, now).ReserveN(now, 1)
}

func (l *userLimiter) bucket(user uuid.UUID, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.users[user]
	if !ok {
		l.sweep(now)
		b = rate.NewLimiter(l.limit, l.burst)
		l.users[user] = b
	}
	return b
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
// Only accepted writes spend the budget: a write the API refuses (bad
// input, not found, a conflict) or fails to make (5xx) costs nothing, or a
// client's malformed retries would lock out its next valid write. So the
// check takes nothing, and an accepted write is charged.
func (s *Server) limitWrites(c *gin.Context) {
	user := currentUser(c)
	if d := s.writeLimiter.wait(user, time.Now()); d > 0 {
		s.fail(c, &statusError{
			status: http.StatusTooManyRequests, code: codeRateLimited,
			detail:     "too many writes by this user; retry after the time in Retry-After",
			retryAfter: strconv.Itoa(int(math.Ceil(d.Seconds()))),
		})
		return
	}
	c.Next()
	if c.Writer.Status() < http.StatusBadRequest {
		s.writeLimiter.charge(user, time.Now())
	}
}
