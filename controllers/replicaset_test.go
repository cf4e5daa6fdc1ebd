package controllers

import (
	"fmt"
	"strings"
	"testing"
)

func hosts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("m-%d:27017", i)
	}
	return out
}

func readyAll(hs []string) map[string]bool {
	r := map[string]bool{}
	for _, h := range hs {
		r[h] = true
	}
	return r
}

// healthy builds an initialized state of n voting members with m-0 primary.
func healthy(n int) RSState {
	st := RSState{Initialized: true, Config: RSConfig{Name: "rs", Version: 3}}
	for i, h := range hosts(n) {
		st.Config.Members = append(st.Config.Members, RSMember{ID: i, Host: h, Votes: 1, Priority: 1})
		state := "SECONDARY"
		if i == 0 {
			state = "PRIMARY"
		}
		st.Status = append(st.Status, RSMemberStatus{Host: h, State: state, Healthy: true})
	}
	return st
}

func TestPlan(t *testing.T) {
	withNonVoters := healthy(8)
	withNonVoters.Config.Members[7].Votes, withNonVoters.Config.Members[7].Priority = 0, 0
	lostPrimary := healthy(3)
	lostPrimary.Status[0] = RSMemberStatus{Host: hosts(1)[0], State: "(not reachable/healthy)", Healthy: false}
	catchingUp := healthy(3)
	catchingUp.Status[2].State = "STARTUP2"
	primaryLast := healthy(3)
	primaryLast.Status[0].State, primaryLast.Status[2].State = "SECONDARY", "PRIMARY"
	sevenVoters := healthy(7)
	nonVoterAfterShrink := healthy(8)
	nonVoterAfterShrink.Config.Members[7].Votes, nonVoterAfterShrink.Config.Members[7].Priority = 0, 0
	nonVoterAfterShrink.Config.Members = append(nonVoterAfterShrink.Config.Members[:6], nonVoterAfterShrink.Config.Members[7])
	nonVoterAfterShrink.Status = append(nonVoterAfterShrink.Status[:6], nonVoterAfterShrink.Status[7])

	tests := []struct {
		name    string
		state   RSState
		desired []string
		ready   map[string]bool
		kind    RSActionKind
		members int    // members in the new config (Initiate/Reconfig)
		voters  int    // voting members in the new config
		changed string // reason must mention
	}{
		{"new, pod not ready", RSState{}, hosts(3), map[string]bool{}, RSWait, 0, 0, "first member"},
		{"new: initiate with one member", RSState{}, hosts(3), readyAll(hosts(3)), RSInitiate, 1, 1, "m-0"},
		{"healthy and as desired", healthy(3), hosts(3), readyAll(hosts(3)), RSNoop, 0, 0, "configured"},
		{"member added: one at a time", healthy(1), hosts(3), readyAll(hosts(3)), RSReconfig, 2, 2, "adding m-1"},
		{"member added but its pod not ready", healthy(1), hosts(3), readyAll(hosts(1)), RSWait, 0, 0, "m-1"},
		{"new member still catching up", catchingUp, hosts(5), readyAll(hosts(5)), RSWait, 0, 0, "catch up"},
		{"member removed: highest first, one at a time", healthy(5), hosts(3), readyAll(hosts(5)), RSReconfig, 4, 4, "removing m-4"},
		{"member to remove is primary", primaryLast, hosts(1), readyAll(hosts(3)), RSReconfig, 2, 2, "removing m-1"},
		{"only the primary left to remove", func() RSState {
			s := healthy(2)
			s.Status[0].State, s.Status[1].State = "SECONDARY", "PRIMARY"
			return s
		}(), hosts(1), readyAll(hosts(2)), RSWait, 0, 0, "step down"},
		{"primary lost: no change", lostPrimary, hosts(5), readyAll(hosts(5)), RSWait, 0, 0, "no primary"},
		{"eighth member joins non-voting", sevenVoters, hosts(8), readyAll(hosts(8)), RSReconfig, 8, 7, "adding m-7"},
		{"eight members as desired", withNonVoters, hosts(8), readyAll(hosts(8)), RSNoop, 0, 0, "configured"},
		{"non-voter promoted when a vote frees up", nonVoterAfterShrink, append(hosts(6), hosts(8)[7]), readyAll(hosts(8)), RSReconfig, 7, 7, "vote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Plan("rs", tt.state, tt.desired, tt.ready)
			if a.Kind != tt.kind {
				t.Fatalf("kind = %s (%s), want %s", a.Kind, a.Reason, tt.kind)
			}
			if !contains(a.Reason, tt.changed) {
				t.Errorf("reason %q does not mention %q", a.Reason, tt.changed)
			}
			if a.Kind != RSInitiate && a.Kind != RSReconfig {
				return
			}
			voters := 0
			for _, m := range a.Config.Members {
				voters += m.Votes
			}
			if len(a.Config.Members) != tt.members || voters != tt.voters {
				t.Errorf("config has %d members / %d voters, want %d / %d", len(a.Config.Members), voters, tt.members, tt.voters)
			}
			if a.Kind == RSReconfig {
				if a.Config.Version != tt.state.Config.Version+1 {
					t.Errorf("version = %d, want %d", a.Config.Version, tt.state.Config.Version+1)
				}
				before := 0
				for _, m := range tt.state.Config.Members {
					before += m.Votes
				}
				if d := voters - before; d > 1 || d < -1 {
					t.Errorf("voting members changed by %d in one reconfig", d)
				}
			}
		})
	}
}

// TestPlanScalesWithoutLosingPrimary walks 1→3→5→3→1 applying each step to a
// simulated replica set and checks every step keeps the primary and changes
// at most one vote.
func TestPlanScalesWithoutLosingPrimary(t *testing.T) {
	st := RSState{}
	apply := func(a RSAction) {
		st.Initialized, st.Config = true, a.Config
		st.Status = nil
		for i, m := range a.Config.Members {
			state := "SECONDARY"
			if i == 0 {
				state = "PRIMARY"
			}
			st.Status = append(st.Status, RSMemberStatus{Host: m.Host, State: state, Healthy: true})
		}
	}
	for _, n := range []int{1, 3, 5, 3, 1} {
		for steps := 0; ; steps++ {
			if steps > 10 {
				t.Fatalf("scaling to %d did not converge", n)
			}
			a := Plan("rs", st, hosts(n), readyAll(hosts(5)))
			if a.Kind == RSNoop {
				break
			}
			if a.Kind == RSWait {
				t.Fatalf("scaling to %d waits: %s", n, a.Reason)
			}
			if a.Config.Members[0].Host != "m-0:27017" {
				t.Fatalf("primary removed while scaling to %d", n)
			}
			apply(a)
		}
		if len(st.Config.Members) != n {
			t.Fatalf("have %d members, want %d", len(st.Config.Members), n)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
