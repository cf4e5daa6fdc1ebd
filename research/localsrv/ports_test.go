package localsrv

import (
	"errors"
	"testing"
)

// TestWithFreshPorts: a start that failed on a taken port is tried again,
// up to five times; any other failure is returned at once.
func TestWithFreshPorts(t *testing.T) {
	starts := 0
	s, err := withFreshPorts(func() (*Server, error) {
		starts++
		if starts < 3 {
			return nil, errors.New("redis: server on port 41000 did not start: bind: Address already in use")
		}
		return &Server{Name: "redis"}, nil
	})
	if err != nil || s == nil || starts != 3 {
		t.Fatalf("%v, %v after %d starts", s, err, starts)
	}
	starts = 0
	if _, err := withFreshPorts(func() (*Server, error) { starts++; return nil, errors.New("initdb: permission denied") }); err == nil || starts != 1 {
		t.Fatalf("another failure: %v after %d starts", err, starts)
	}
	starts = 0
	if _, err := withFreshPorts(func() (*Server, error) { starts++; return nil, errors.New("Address already in use") }); err == nil || starts != 5 {
		t.Fatalf("always taken: %v after %d starts", err, starts)
	}
}
