package common

import (
	"errors"
	"testing"
	"time"
)

// TestAndLetsTheFirstPartNotReadySpeak: two parts behind one condition
// report the first that is not ready, keep both errors and the sooner
// requeue, and join the messages when both are ready.
func TestAndLetsTheFirstPartNotReadySpeak(t *testing.T) {
	errA, errB := errors.New("a broke"), errors.New("b broke")
	for _, tt := range []struct {
		name       string
		a, b       Result
		reason     string
		message    string
		errs       []error
		requeue    time.Duration
		wantsReady bool
	}{
		{"both ready", Ready("A", "a ok"), Ready("B", "b ok"), "A", "a ok; b ok", nil, 0, true},
		{"second not ready", Ready("A", "a ok"), Polling("B", "b waits", time.Minute), "B", "b waits", nil, time.Minute, false},
		{"first failed, second failed", Failed("A", errA), Failed("B", errB), "A", "a broke", []error{errA, errB}, 0, false},
		{"sooner requeue wins", Polling("A", "a waits", time.Minute), Polling("B", "b waits", time.Second), "A", "a waits", nil, time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.a.And(tt.b)
			if got.IsReady() != tt.wantsReady || got.Condition.Reason != tt.reason || got.Condition.Message != tt.message {
				t.Errorf("condition %+v, want ready=%v %s %q", got.Condition, tt.wantsReady, tt.reason, tt.message)
			}
			for _, e := range tt.errs {
				if !errors.Is(got.Err, e) {
					t.Errorf("error %v lost", e)
				}
			}
			if tt.errs == nil && got.Err != nil {
				t.Errorf("unexpected error %v", got.Err)
			}
			if got.RequeueAfter != tt.requeue {
				t.Errorf("requeue %v, want %v", got.RequeueAfter, tt.requeue)
			}
		})
	}
}
