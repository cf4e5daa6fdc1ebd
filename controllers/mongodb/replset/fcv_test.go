package replset_test

import (
	"strings"
	"testing"

	. "github.com/ugcstack/ugcstack/controllers/mongodb/replset"
)

func TestImageRelease(t *testing.T) {
	for image, want := range map[string]string{
		"mongo:8.0": "8.0", "mongo:7.0.14-jammy": "7.0", "registry:5000/team/mongo:6.0.3": "6.0",
		"mongo": "", "mongo:latest": "", "mongo@sha256:abcd": "", "registry:5000/mongo": "",
	} {
		r, ok := ImageRelease(image)
		if got := map[bool]string{true: r.String(), false: ""}[ok]; got != want {
			t.Errorf("%s: %q, want %q", image, got, want)
		}
	}
}

// TestCheckUpgrade: one major release at a time, never below the
// featureCompatibilityVersion (the manual, "Upgrade a Replica Set to 8.0"
// and setFeatureCompatibilityVersion).
func TestCheckUpgrade(t *testing.T) {
	for _, tt := range []struct {
		fcv, target, refusal string
	}{
		{"", "8.0", ""},
		{"7.0", "7.0", ""},
		{"7.0", "8.0", ""},
		{"8.0", "8.2", ""},
		{"6.0", "8.0", "skips a major release"},
		{"5.0", "7.0", "upgrade to 6.x first"},
		{"8.0", "7.0", "lower it with setFeatureCompatibilityVersion"},
	} {
		target, _ := ParseRelease(tt.target)
		err := CheckUpgrade(tt.fcv, target)
		if (err == nil) != (tt.refusal == "") || (err != nil && !strings.Contains(err.Error(), tt.refusal)) {
			t.Errorf("fcv %s → %s: %v, want %q", tt.fcv, tt.target, err, tt.refusal)
		}
	}
}

// TestPlanFCV: featureCompatibilityVersion follows only once every member
// runs the new release, and goes to the primary.
func TestPlanFCV(t *testing.T) {
	st := healthy(3)
	st.FCV = "7.0"
	for i := range st.Status {
		st.Status[i].Version = "8.0.4"
	}
	if a := PlanFCV(st); a.Kind != SetFCV || a.FCV != "8.0" || a.Target != "m-0:27017" {
		t.Errorf("all on 8.0: %+v", a)
	}
	st.Status[2].Version = "7.0.14"
	if a := PlanFCV(st); a.Kind != Noop {
		t.Errorf("one member still on 7.0: %+v", a)
	}
	st.Status[2].Version = ""
	if a := PlanFCV(st); a.Kind != Noop {
		t.Errorf("one member's version unknown: %+v", a)
	}
	st.Status[2].Version, st.FCV = "8.0.4", "8.0"
	if a := PlanFCV(st); a.Kind != Noop {
		t.Errorf("already 8.0: %+v", a)
	}
}
