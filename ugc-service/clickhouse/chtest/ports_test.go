package chtest

import (
	"errors"
	"fmt"
	"testing"
)

// TestRetryPortsRepicks: a start that fails on a taken port is tried again
// with fresh ports for every server; other failures end it at once.
func TestRetryPortsRepicks(t *testing.T) {
	servers := []*Server{{}, {}}
	for _, s := range servers {
		if err := s.pickPorts(); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	err := retryPorts(func() error {
		seen = append(seen, servers[0].Addr+" "+servers[1].Addr)
		if len(seen) < 3 {
			return fmt.Errorf("start: %w", errPortTaken)
		}
		return nil
	}, servers...)
	if err != nil || len(seen) != 3 || seen[0] == seen[1] || seen[1] == seen[2] {
		t.Fatalf("err %v after %d starts on %q", err, len(seen), seen)
	}

	starts := 0
	other := errors.New("bad config")
	if err := retryPorts(func() error { starts++; return other }, servers...); !errors.Is(err, other) || starts != 1 {
		t.Fatalf("another failure: %v after %d starts", err, starts)
	}
	starts = 0
	if err := retryPorts(func() error { starts++; return errPortTaken }, servers...); !errors.Is(err, errPortTaken) || starts != portAttempts {
		t.Fatalf("ports always taken: %v after %d starts, want %d", err, starts, portAttempts)
	}
}
