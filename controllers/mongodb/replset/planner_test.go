package replset_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/ugcstack/ugcstack/controllers/mongodb/replset"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset/replsettest"
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
func healthy(n int) State {
	st := State{Initialized: true, Config: Config{Name: "rs", Version: 3}}
	for i, h := range hosts(n) {
		st.Config.Members = append(st.Config.Members, Member{ID: i, Host: h, Votes: 1, Priority: 1})
		state := "SECONDARY"
		if i == 0 {
			state = "PRIMARY"
		}
		st.Status = append(st.Status, MemberStatus{Host: h, State: state, Healthy: true})
	}
	return st
}

func TestPlan(t *testing.T) {
	withNonVoters := healthy(8)
	withNonVoters.Config.Members[7].Votes, withNonVoters.Config.Members[7].Priority = 0, 0
	lostPrimary := healthy(3)
	lostPrimary.Status[0] = MemberStatus{Host: hosts(1)[0], State: "(not reachable/healthy)", Healthy: false}
	catchingUp := healthy(3)
	catchingUp.Status[2].State = "STARTUP2"
	lagging := healthy(3)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for i := range lagging.Status {
		lagging.Status[i].Optime = now
	}
	lagging.Status[2].Optime = now.Add(-time.Minute)
	slightlyBehind := healthy(3)
	for i := range slightlyBehind.Status {
		slightlyBehind.Status[i].Optime = now.Add(-time.Duration(i) * time.Second)
	}
	primaryLast := healthy(3)
	primaryLast.Status[0].State, primaryLast.Status[2].State = "SECONDARY", "PRIMARY"
	sevenVoters := healthy(7)
	nonVoterAfterShrink := healthy(8)
	nonVoterAfterShrink.Config.Members[7].Votes, nonVoterAfterShrink.Config.Members[7].Priority = 0, 0
	nonVoterAfterShrink.Config.Members = append(nonVoterAfterShrink.Config.Members[:6], nonVoterAfterShrink.Config.Members[7])
	nonVoterAfterShrink.Status = append(nonVoterAfterShrink.Status[:6], nonVoterAfterShrink.Status[7])

	down := func(st State, members ...int) State {
		st.Status = slices.Clone(st.Status)
		for _, i := range members {
			st.Status[i].State, st.Status[i].Healthy = "(not reachable/healthy)", false
		}
		return st
	}
	deadLast := down(healthy(3), 2)
	twoOfFiveDown := down(healthy(5), 1, 2)
	lastTwoDown := down(healthy(5), 3, 4)

	onlyPrimaryToRemove := healthy(2)
	onlyPrimaryToRemove.Status[0].State, onlyPrimaryToRemove.Status[1].State = "SECONDARY", "PRIMARY"
	noOtherElectable := healthy(2)
	noOtherElectable.Status[0].State, noOtherElectable.Status[1].State = "SECONDARY", "PRIMARY"
	noOtherElectable.Config.Members[0].Votes, noOtherElectable.Config.Members[0].Priority = 0, 0

	tests := []struct {
		name    string
		state   State
		desired []string
		ready   map[string]bool
		kind    ActionKind
		members int    // members in the new config (Initiate/Reconfig)
		voters  int    // voting members in the new config
		changed string // reason must mention
		target  string // member the command goes to; "" for Wait/Noop
	}{
		{"new, pod not ready", State{}, hosts(3), map[string]bool{}, Wait, 0, 0, "first member", ""},
		{"new: initiate with one member", State{Uninitialized: hosts(3)}, hosts(3), readyAll(hosts(3)), Initiate, 1, 1, "m-0", "m-0:27017"},
		{"lost volume, the rest unreachable: no new set", State{Uninitialized: hosts(1)}, hosts(3), readyAll(hosts(3)), Wait, 0, 0, "m-1:27017 to answer", ""},
		{"every member empty but the stack recorded a set: no new set", State{Uninitialized: hosts(3), Recorded: true}, hosts(3), readyAll(hosts(3)), Wait, 0, 0, "recorded", ""},
		{"one dead member of 3 leaving: removed", deadLast, hosts(2), readyAll(hosts(3)), Reconfig, 2, 2, "removing m-2", "m-0:27017"},
		{"5 members, 2 down, removal would lose the majority", twoOfFiveDown, hosts(3), readyAll(hosts(5)), Wait, 0, 0, "no majority", ""},
		{"5 members, the 2 leaving are down: removed", lastTwoDown, hosts(3), readyAll(hosts(5)), Reconfig, 4, 4, "removing m-4", "m-0:27017"},
		{"dead member stays desired: no change, and what to do", deadLast, hosts(3), readyAll(hosts(3)), Wait, 0, 0, "m-2:27017 is (not reachable/healthy): waiting for it to come back (if its node or volume is lost, delete its pod", ""},
		{"grown while a member is dead: joins without a vote", deadLast, hosts(5), readyAll(hosts(5)), Reconfig, 4, 3, "adding m-3:27017 without a vote, to get one once every member serves: member m-2:27017 is (not reachable/healthy)", "m-0:27017"},
		{"grown while 2 of 5 are dead: a majority serves, joins without a vote", twoOfFiveDown, hosts(6), readyAll(hosts(6)), Reconfig, 6, 5, "adding m-5:27017 without a vote", "m-0:27017"},
		{"grown while a new member catches up: waits", catchingUp, hosts(6), readyAll(hosts(6)), Wait, 0, 0, "catch up", ""},
		{"healthy and as desired", healthy(3), hosts(3), readyAll(hosts(3)), Noop, 0, 0, "configured", ""},
		{"member added: one at a time", healthy(1), hosts(3), readyAll(hosts(3)), Reconfig, 2, 2, "adding m-1", "m-0:27017"},
		{"member added while m-2 is primary: sent to m-2", primaryLast, hosts(5), readyAll(hosts(5)), Reconfig, 4, 4, "adding m-3", "m-2:27017"},
		{"member added but its pod not ready", healthy(1), hosts(3), readyAll(hosts(1)), Wait, 0, 0, "m-1", ""},
		{"new member still catching up", catchingUp, hosts(5), readyAll(hosts(5)), Wait, 0, 0, "catch up", ""},
		{"secondary a minute behind the primary", lagging, hosts(5), readyAll(hosts(5)), Wait, 0, 0, "1m0s behind", ""},
		{"secondaries seconds behind: caught up", slightlyBehind, hosts(5), readyAll(hosts(5)), Reconfig, 4, 4, "adding m-3", "m-0:27017"},
		{"member removed: highest first, one at a time", healthy(5), hosts(3), readyAll(hosts(5)), Reconfig, 4, 4, "removing m-4", "m-0:27017"},
		{"primary among those to remove: the others go first", primaryLast, hosts(1), readyAll(hosts(3)), Reconfig, 2, 2, "removing m-1", "m-2:27017"},
		{"primary to be removed: stepped down first", onlyPrimaryToRemove, hosts(1), readyAll(hosts(2)), StepDown, 0, 0, "stepping down m-1", "m-1:27017"},
		{"primary to be removed but nobody else electable", noOtherElectable, hosts(1), readyAll(hosts(2)), Wait, 0, 0, "no other member", ""},
		{"primary lost: no change", lostPrimary, hosts(5), readyAll(hosts(5)), Wait, 0, 0, "no primary", ""},
		{"eighth member joins non-voting", sevenVoters, hosts(8), readyAll(hosts(8)), Reconfig, 8, 7, "adding m-7", "m-0:27017"},
		{"eight members as desired", withNonVoters, hosts(8), readyAll(hosts(8)), Noop, 0, 0, "configured", ""},
		{"non-voter promoted when a vote frees up", nonVoterAfterShrink, append(hosts(6), hosts(8)[7]), readyAll(hosts(8)), Reconfig, 7, 7, "vote", "m-0:27017"},
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
			if a.Target != tt.target {
				t.Errorf("target = %q, want %q", a.Target, tt.target)
			}
			checkConfig(t, a, tt.state.Config, tt.members, tt.voters)
		})
	}
}

// checkConfig holds a new configuration to its expected size and to the
// rules a reconfig must keep: the version bumped, one vote changed at most.
func checkConfig(t *testing.T, a Action, old Config, members, voters int) {
	t.Helper()
	if a.Kind != Initiate && a.Kind != Reconfig {
		return
	}
	if len(a.Config.Members) != members || a.Config.Voters() != voters {
		t.Errorf("config has %d members / %d voters, want %d / %d", len(a.Config.Members), a.Config.Voters(), members, voters)
	}
	if a.Kind != Reconfig {
		return
	}
	if a.Config.Version != old.Version+1 {
		t.Errorf("version = %d, want %d", a.Config.Version, old.Version+1)
	}
	if d := a.Config.Voters() - old.Voters(); d > 1 || d < -1 {
		t.Errorf("voting members changed by %d in one reconfig", d)
	}
}

// TestPlanScalesWithoutLosingPrimary walks 1→3→5→3→1 applying each step to a
// simulated replica set whose primary is wherever the last election put it
// (the highest member after scale-up, so scale-down meets it), and checks
// that every command goes to the primary, no reconfig removes it, and each
// changes at most one vote.
func TestPlanScalesWithoutLosingPrimary(t *testing.T) {
	sim := replsettest.Set{Hosts: hosts(5)}
	for _, n := range []int{1, 3, 5, 3, 1} {
		for steps := 0; ; steps++ {
			if steps > 12 {
				t.Fatalf("scaling to %d did not converge", n)
			}
			a := Plan("rs", sim.State(), hosts(n), readyAll(hosts(5)))
			if a.Kind == Noop {
				break
			}
			if a.Kind == Wait {
				t.Fatalf("scaling to %d waits: %s", n, a.Reason)
			}
			if a.Kind != Initiate && a.Target != sim.Primary {
				t.Fatalf("%s sent to %s, primary is %s", a.Kind, a.Target, sim.Primary)
			}
			if err := sim.Apply(a); err != nil {
				t.Fatalf("scaling to %d: %v", n, err)
			}
		}
		if len(sim.Config.Members) != n {
			t.Fatalf("have %d members, want %d", len(sim.Config.Members), n)
		}
		// an election after every scale moves the primary to the newest member
		sim.Primary = sim.Config.Members[len(sim.Config.Members)-1].Host
	}
	if sim.StepDowns == 0 {
		t.Error("scale-down never met the primary: the step-down path went untested")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
