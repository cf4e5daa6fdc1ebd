package api

import (
	"testing"
	"time"

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

// TestTrustedProxiesOnlyBehindThePolicy: the API believes forwarded client
// addresses only when the NetworkPolicy lets nothing but the gateway reach
// it; otherwise any pod could log under someone else's address.
func TestTrustedProxiesOnlyBehindThePolicy(t *testing.T) {
	s := commontest.Production()
	if got := ConfigMap(s).Data["UGC_TRUSTED_PROXIES"]; got != podNetworks {
		t.Errorf("gateway behind the policy: UGC_TRUSTED_PROXIES = %q, want %q", got, podNetworks)
	}
	s.Spec.NetworkPolicy.Enabled = false
	if got, ok := ConfigMap(s).Data["UGC_TRUSTED_PROXIES"]; ok {
		t.Errorf("no NetworkPolicy: UGC_TRUSTED_PROXIES = %q, want unset", got)
	}
	s = commontest.Production()
	s.Spec.Gateway.Enabled = false
	if got, ok := ConfigMap(s).Data["UGC_TRUSTED_PROXIES"]; ok {
		t.Errorf("no gateway: UGC_TRUSTED_PROXIES = %q, want unset", got)
	}
}

// TestRolloutDoesNotDropRequests: the pod outlives its removal from the
// endpoints (preStop) and then its drain (UGC_SHUTDOWN_TIMEOUT, which the
// ugc binary reads as a Go duration) within the grace period, after which
// the kubelet kills it.
func TestRolloutDoesNotDropRequests(t *testing.T) {
	s := commontest.Production()
	d := Deployment(s, "")
	c := d.Spec.Template.Spec.Containers[0]
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatalf("no preStop sleep: %+v", c.Lifecycle)
	}
	drain, err := time.ParseDuration(ConfigMap(s).Data["UGC_SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Fatal(err)
	}
	need := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds)*time.Second + drain
	if grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second; grace <= need {
		t.Errorf("grace period %v does not cover preStop + drain %v", grace, need)
	}
}
