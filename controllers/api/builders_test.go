package api

import (
	"testing"

	"github.com/ugcstack/ugcstack/controllers/common/commontest"
)

func TestGolden(t *testing.T) {
	for name, s := range commontest.Samples() {
		t.Run(name, func(t *testing.T) { commontest.Golden(t, name, Objects(s)) })
	}
}

// TestOutboxFollowsClickHouse: the API records analytics events exactly
// when the stack has a ClickHouse, whose relay drains them.
func TestOutboxFollowsClickHouse(t *testing.T) {
	s := commontest.Production()
	if got := ConfigMap(s).Data["UGC_OUTBOX"]; got != "on" {
		t.Errorf("managed ClickHouse: UGC_OUTBOX = %q, want on", got)
	}
	s.Spec.ClickHouse.Enabled = false
	if got := ConfigMap(s).Data["UGC_OUTBOX"]; got != "off" {
		t.Errorf("no ClickHouse: UGC_OUTBOX = %q, want off: nothing would drain it", got)
	}
}
