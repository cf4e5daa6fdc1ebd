// Package replsettest simulates a MongoDB replica set for tests: commands
// take effect at once, and a command a real server refuses is refused.
package replsettest

import (
	"fmt"
	"slices"

	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
)

// Set is a replica set whose primary is wherever the last initiate,
// election or step-down put it. Until it is initiated, every one of Hosts
// answers NotYetInitialized.
type Set struct {
	Hosts     []string
	Config    replset.Config
	Primary   string
	StepDowns int
}

// State is what replSetGetStatus and replSetGetConfig would report: every
// member healthy, the primary PRIMARY and the others SECONDARY.
func (r *Set) State() replset.State {
	if r.Primary == "" {
		return replset.State{Uninitialized: r.Hosts}
	}
	st := replset.State{Initialized: true, Config: r.Config}
	for _, m := range r.Config.Members {
		state := "SECONDARY"
		if m.Host == r.Primary {
			state = "PRIMARY"
		}
		st.Status = append(st.Status, replset.MemberStatus{Host: m.Host, State: state, Healthy: true})
	}
	return st
}

// Apply carries out a, or returns the error the server would.
func (r *Set) Apply(a replset.Action) error {
	switch a.Kind {
	case replset.Initiate:
		if r.Primary != "" {
			return fmt.Errorf("AlreadyInitialized: already initialized")
		}
		r.Config, r.Primary = a.Config, a.Target
		return nil
	case replset.Reconfig:
		if err := r.checkReconfig(a); err != nil {
			return err
		}
		r.Config = a.Config
		return nil
	case replset.StepDown:
		return r.stepDown(a.Target)
	}
	return fmt.Errorf("%s is not a command", a.Kind)
}

// checkReconfig refuses what mongod refuses (mongodb/mongo
// src/mongo/db/repl/repl_set_config_checks.cpp,
// validateOldAndNewConfigsCompatible and validateSingleNodeChange): a
// command to a member that is not primary (NotWritablePrimary), a version
// not above the current one, a member whose host keeps a different _id, a
// change of more than one voting member, and a configuration without the
// primary that must execute it.
func (r *Set) checkReconfig(a replset.Action) error {
	if a.Target != r.Primary {
		return fmt.Errorf("NotWritablePrimary: %s is not primary", a.Target)
	}
	if a.Config.Version <= r.Config.Version {
		return fmt.Errorf("NewReplicaSetConfigurationIncompatible: version %d is not greater than %d", a.Config.Version, r.Config.Version)
	}
	if !a.Config.Has(r.Primary) {
		return fmt.Errorf("NodeNotFound: the new configuration does not contain the primary %s", r.Primary)
	}
	old := map[int]bool{}
	for _, m := range r.Config.Members {
		if i := slices.IndexFunc(a.Config.Members, func(n replset.Member) bool { return n.Host == m.Host }); i >= 0 && a.Config.Members[i].ID != m.ID {
			return fmt.Errorf("NewReplicaSetConfigurationIncompatible: %s changes _id %d to %d", m.Host, m.ID, a.Config.Members[i].ID)
		}
		if m.Votes > 0 {
			old[m.ID] = true
		}
	}
	diff := 0
	for _, m := range a.Config.Members {
		if m.Votes > 0 {
			if !old[m.ID] {
				diff++
			}
			delete(old, m.ID)
		}
	}
	if diff += len(old); diff > 1 {
		return fmt.Errorf("InvalidReplicaSetConfig: non force replica set reconfig can only add or remove at most 1 voting member (%d changed)", diff)
	}
	return nil
}

// stepDown hands the primary to the next voting member, as the election
// after replSetStepDown would.
func (r *Set) stepDown(target string) error {
	if target != r.Primary {
		return fmt.Errorf("NotWritablePrimary: %s is not primary", target)
	}
	r.StepDowns++
	for _, m := range r.Config.Members {
		if m.Host != r.Primary && m.Votes > 0 {
			r.Primary = m.Host
			return nil
		}
	}
	return fmt.Errorf("ExceededTimeLimit: no electable secondary caught up")
}
