package http

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// delay is how long user waits for a write at now; an admitted write is
// charged, as an accepted one is.
func delay(l *userLimiter, user uuid.UUID, now time.Time) time.Duration {
	d := l.wait(user, now)
	if d == 0 {
		l.charge(user, now)
	}
	return d
}

func TestUserLimiter(t *testing.T) {
	l := newUserLimiter(UserWriteLimit{PerSecond: 2, Burst: 2})
	alice, bob := uuid.New(), uuid.New()
	now := time.Now()
	for range 2 {
		if delay(l, alice, now) != 0 {
			t.Fatal("the burst was refused")
		}
	}
	if d := delay(l, alice, now); d != 500*time.Millisecond {
		t.Fatalf("third write waits %v, want 500ms", d)
	}
	if delay(l, bob, now) != 0 {
		t.Fatal("another user was held back")
	}
	// A refused write takes no token: the wait does not grow by asking.
	if d := delay(l, alice, now); d != 500*time.Millisecond {
		t.Fatalf("after a refusal the wait is %v, want 500ms", d)
	}
	if delay(l, alice, now.Add(500*time.Millisecond)) != 0 {
		t.Fatal("refilled token refused")
	}
}

// TestUserLimiterForgetsIdleUsers: memory follows the users writing now, not
// every user that ever wrote.
func TestUserLimiterForgetsIdleUsers(t *testing.T) {
	l := newUserLimiter(UserWriteLimit{PerSecond: 1000, Burst: 1})
	now := time.Now()
	for range 100_000 {
		now = now.Add(time.Millisecond) // each bucket has refilled by the next write
		delay(l, uuid.New(), now)
	}
	if n := len(l.users); n > 2*minSweep {
		t.Fatalf("%d buckets kept for 100,000 users who each wrote once, want at most %d", n, 2*minSweep)
	}
}
