package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// MaxVotingMembers is MongoDB's limit on voting members in a replica set.
const MaxVotingMembers = 7

// MaxCatchUpLag is how far behind the primary's last write a SECONDARY may
// be before Plan waits for it: a member that has just finished its initial
// sync reports SECONDARY while still replaying the oplog, and a reconfig
// that counts on its vote (or removes another) must wait until it has.
const MaxCatchUpLag = 10 * time.Second

// RSMember is one member of a replica-set configuration. Extra keeps the
// fields the planner does not decide (hidden, tags, ...) so a reconfig sends
// them back unchanged.
type RSMember struct {
	ID       int            `bson:"_id"`
	Host     string         `bson:"host"`
	Votes    int            `bson:"votes"`
	Priority float64        `bson:"priority"`
	Extra    map[string]any `bson:",inline"`
}

// RSConfig is the replica-set configuration (replSetGetConfig / replSetReconfig).
// Extra keeps settings (replicaSetId among them), protocolVersion and the
// like, which a reconfig must not drop.
type RSConfig struct {
	Name    string         `bson:"_id"`
	Version int            `bson:"version"`
	Members []RSMember     `bson:"members"`
	Extra   map[string]any `bson:",inline"`
}

// RSMemberStatus is one member as replSetGetStatus reports it.
type RSMemberStatus struct {
	Host    string
	State   string // PRIMARY, SECONDARY, STARTUP2, RECOVERING, ...
	Healthy bool
	// Optime is the time of the last operation the member applied
	// (optimeDate); zero when not reported.
	Optime time.Time
}

// RSState is what the controller observed of the replica set.
// Initialized is false when replSetGetStatus answers NotYetInitialized.
type RSState struct {
	Initialized bool
	Config      RSConfig
	Status      []RSMemberStatus
}

// ReplicaSetClient sends the replica-set commands, each to the member Plan
// names. The MongoDB-driver implementation talks to the members; tests use a
// fake.
type ReplicaSetClient interface {
	// GetState runs replSetGetStatus and replSetGetConfig on the first member
	// that answers. Initialized is false when no member has a configuration.
	GetState(ctx context.Context) (RSState, error)
	// Initiate runs replSetInitiate with cfg on host.
	Initiate(ctx context.Context, host string, cfg RSConfig) error
	// Reconfig runs replSetReconfig with cfg (version already bumped) on
	// host, the current primary; it fails when host is no longer primary.
	Reconfig(ctx context.Context, host string, cfg RSConfig) error
	// StepDown runs replSetStepDown on host, the current primary, which then
	// does not seek election again for a while.
	StepDown(ctx context.Context, host string) error
}

// RSActionKind is what Plan decided.
type RSActionKind string

// The decisions Plan makes.
const (
	RSNoop     RSActionKind = "Noop"     // configured as desired
	RSInitiate RSActionKind = "Initiate" // send replSetInitiate with Config
	RSReconfig RSActionKind = "Reconfig" // send replSetReconfig with Config
	RSStepDown RSActionKind = "StepDown" // send replSetStepDown to the primary
	RSWait     RSActionKind = "Wait"     // not safe to change anything now
)

// RSAction is one step towards the desired replica set. Target is the member
// the command goes to: the first member for Initiate, the primary otherwise.
type RSAction struct {
	Kind   RSActionKind
	Target string
	Config RSConfig
	Reason string
}

// Plan decides the single next step that moves the replica set towards the
// desired hosts (ordinal order). ready tells which hosts' pods are ready.
// Rules: initiate with the first member only; at most one voting-member
// change per reconfig; only when a primary exists and every member is healthy
// and caught up (PRIMARY or SECONDARY); members beyond the 7th join with
// votes 0 and priority 0; removal happens here, before the StatefulSet
// shrinks; a primary that must be removed is first stepped down, and removed
// by a later step once another member has been elected.
func Plan(name string, st RSState, desired []string, ready map[string]bool) RSAction {
	if !st.Initialized {
		if len(desired) == 0 || !ready[desired[0]] {
			return RSAction{Kind: RSWait, Reason: "waiting for the first member's pod to be ready"}
		}
		return RSAction{Kind: RSInitiate, Target: desired[0], Reason: "initiating with " + desired[0], Config: RSConfig{
			Name: name, Version: 1, Members: []RSMember{{ID: 0, Host: desired[0], Votes: 1, Priority: 1}},
		}}
	}
	var primary string
	var primaryOptime time.Time
	for _, m := range st.Status {
		if m.State == "PRIMARY" && m.Healthy {
			primary, primaryOptime = m.Host, m.Optime
		}
	}
	if primary == "" {
		return RSAction{Kind: RSWait, Reason: "no primary: waiting for an election before any change"}
	}
	for _, m := range st.Status {
		if !m.Healthy || (m.State != "PRIMARY" && m.State != "SECONDARY") {
			return RSAction{Kind: RSWait, Reason: fmt.Sprintf("member %s is %s: waiting for it to catch up", m.Host, m.State)}
		}
		if lag := primaryOptime.Sub(m.Optime); !m.Optime.IsZero() && !primaryOptime.IsZero() && lag > MaxCatchUpLag {
			return RSAction{Kind: RSWait, Reason: fmt.Sprintf("member %s is %s behind the primary: waiting for it to catch up", m.Host, lag.Round(time.Second))}
		}
	}
	cfg := st.Config
	next := cfg
	next.Version = cfg.Version + 1
	next.Members = slices.Clone(cfg.Members)
	reconfig := func(reason string) RSAction {
		return RSAction{Kind: RSReconfig, Target: primary, Config: next, Reason: reason}
	}
	voters := 0
	for _, m := range cfg.Members {
		if m.Votes > 0 {
			voters++
		}
	}
	// Remove members that are no longer desired, the last added first; the
	// primary only after it has stepped down.
	primaryUndesired := false
	for i := len(cfg.Members) - 1; i >= 0; i-- {
		m := cfg.Members[i]
		if slices.Contains(desired, m.Host) {
			continue
		}
		if m.Host == primary {
			primaryUndesired = true
			continue
		}
		next.Members = slices.Delete(next.Members, i, i+1)
		return reconfig("removing " + m.Host)
	}
	if primaryUndesired {
		electable := slices.ContainsFunc(cfg.Members, func(m RSMember) bool {
			return m.Host != primary && m.Votes > 0 && m.Priority > 0
		})
		if !electable {
			return RSAction{Kind: RSWait, Reason: fmt.Sprintf("member %s is primary and no other member can be elected", primary)}
		}
		return RSAction{Kind: RSStepDown, Target: primary, Reason: fmt.Sprintf("stepping down %s, the primary, before removing it", primary)}
	}
	// Keep up to seven voters: promote a non-voting member when a vote is free.
	if voters < MaxVotingMembers {
		for i, m := range cfg.Members {
			if m.Votes == 0 {
				next.Members[i].Votes, next.Members[i].Priority = 1, 1
				return reconfig("granting a vote to " + m.Host)
			}
		}
	}
	// Add the first desired host that is missing, once its pod is ready.
	for _, h := range desired {
		if slices.ContainsFunc(cfg.Members, func(m RSMember) bool { return m.Host == h }) {
			continue
		}
		if !ready[h] {
			return RSAction{Kind: RSWait, Reason: "waiting for " + h + " to be ready before adding it"}
		}
		id := 0
		for _, m := range cfg.Members {
			id = max(id, m.ID+1)
		}
		m := RSMember{ID: id, Host: h, Votes: 1, Priority: 1}
		if voters >= MaxVotingMembers {
			m.Votes, m.Priority = 0, 0
		}
		next.Members = append(next.Members, m)
		return reconfig("adding " + h)
	}
	return RSAction{Kind: RSNoop, Reason: "replica set configured"}
}
