package replsettest

import (
	"strings"
	"testing"

	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
)

// TestSetRefusesWhatMongodRefuses: the simulated set must fail a plan a
// real server would reject, or tests built on it could pass such a plan.
func TestSetRefusesWhatMongodRefuses(t *testing.T) {
	member := func(id int, host string) replset.Member {
		return replset.Member{ID: id, Host: host, Votes: 1, Priority: 1}
	}
	three := func() *Set {
		return &Set{Primary: "a", Config: replset.Config{Name: "rs", Version: 5, Members: []replset.Member{member(0, "a"), member(1, "b"), member(2, "c")}}}
	}
	cfg := func(version int, members ...replset.Member) replset.Config {
		return replset.Config{Name: "rs", Version: version, Members: members}
	}
	for _, tt := range []struct {
		name   string
		action replset.Action
		want   string // "" when accepted
	}{
		{"one voter removed", replset.Action{Kind: replset.Reconfig, Target: "a", Config: cfg(6, member(0, "a"), member(1, "b"))}, ""},
		{"sent to a secondary", replset.Action{Kind: replset.Reconfig, Target: "b", Config: cfg(6, member(0, "a"), member(1, "b"))}, "NotWritablePrimary"},
		{"version not above", replset.Action{Kind: replset.Reconfig, Target: "a", Config: cfg(5, member(0, "a"), member(1, "b"))}, "not greater"},
		{"two voters removed", replset.Action{Kind: replset.Reconfig, Target: "a", Config: cfg(6, member(0, "a"))}, "at most 1 voting member"},
		{"voter swapped", replset.Action{Kind: replset.Reconfig, Target: "a", Config: cfg(6, member(0, "a"), member(1, "b"), member(3, "d"), member(4, "e"))}, "at most 1 voting member"},
		{"host changes _id", replset.Action{Kind: replset.Reconfig, Target: "a", Config: cfg(6, member(0, "a"), member(7, "b"), member(2, "c"))}, "changes _id"},
		{"primary removed", replset.Action{Kind: replset.Reconfig, Target: "a", Config: cfg(6, member(1, "b"), member(2, "c"))}, "NodeNotFound"},
		{"initiated twice", replset.Action{Kind: replset.Initiate, Target: "a", Config: cfg(1, member(0, "a"))}, "AlreadyInitialized"},
		{"step-down of a secondary", replset.Action{Kind: replset.StepDown, Target: "c"}, "NotWritablePrimary"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := three().Apply(tt.action)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}
