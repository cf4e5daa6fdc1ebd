// Package replset decides and sends the changes that move a MongoDB replica
// set towards the members a stack asks for. Plan is a pure function of the
// observed state; Client sends its decisions through the MongoDB driver.
package replset

import (
	"cmp"
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

// Member is one member of a replica-set configuration. Extra keeps the
// fields the planner does not decide (hidden, tags, ...) so a reconfig sends
// them back unchanged.
type Member struct {
	ID       int            `bson:"_id"`
	Host     string         `bson:"host"`
	Votes    int            `bson:"votes"`
	Priority float64        `bson:"priority"`
	Extra    map[string]any `bson:",inline"`
}

// Config is the replica-set configuration (replSetGetConfig / replSetReconfig).
// Extra keeps settings (replicaSetId among them), protocolVersion and the
// like, which a reconfig must not drop.
type Config struct {
	Name    string         `bson:"_id"`
	Version int            `bson:"version"`
	Members []Member       `bson:"members"`
	Extra   map[string]any `bson:",inline"`
}

// Voters counts the members with a vote.
func (c Config) Voters() int {
	n := 0
	for _, m := range c.Members {
		if m.Votes > 0 {
			n++
		}
	}
	return n
}

// Has reports whether host is a member.
func (c Config) Has(host string) bool {
	return slices.ContainsFunc(c.Members, func(m Member) bool { return m.Host == host })
}

// MemberStatus is one member as replSetGetStatus reports it.
type MemberStatus struct {
	Host    string
	State   string // PRIMARY, SECONDARY, STARTUP2, RECOVERING, ...
	Healthy bool
	// Optime is the time of the last operation the member applied
	// (optimeDate); zero when not reported.
	Optime time.Time
	// Version is the member's binary (buildInfo), "" when not reported.
	Version string
}

// State is what the controller observed of the replica set.
// Initialized is false when no member answered with a configuration.
type State struct {
	Initialized bool
	Config      Config
	Status      []MemberStatus
	// Uninitialized are the members that answered NotYetInitialized; a
	// member in neither Status nor here did not answer.
	Uninitialized []string
	// Recorded: the stack's status says its set was initialized before.
	Recorded bool
	// FCV is the set's featureCompatibilityVersion, "" when not reported.
	FCV string
}

// Primary is the healthy member reporting PRIMARY, "" when there is none.
func (st State) Primary() string {
	for _, m := range st.Status {
		if m.State == "PRIMARY" && m.Healthy {
			return m.Host
		}
	}
	return ""
}

// Role grants a built-in role on one database.
type Role struct {
	Role string `bson:"role"`
	DB   string `bson:"db"`
}

// User is a user of the admin database (authSource=admin).
type User struct {
	Name     string
	Password string
	Roles    []Role
}

// Client sends the replica-set commands, each to the member Plan names.
// The MongoDB-driver implementation talks to the members; tests use a
// simulated set that refuses what a real server refuses.
type Client interface {
	// GetState runs replSetGetStatus and replSetGetConfig on the first member
	// that answers. Initialized is false when no member has a configuration.
	GetState(ctx context.Context) (State, error)
	// Initiate runs replSetInitiate with cfg on host.
	Initiate(ctx context.Context, host string, cfg Config) error
	// Reconfig runs replSetReconfig with cfg (version already bumped) on
	// host, the current primary; it fails when host is no longer primary.
	Reconfig(ctx context.Context, host string, cfg Config) error
	// StepDown runs replSetStepDown on host, the current primary, which then
	// does not seek election again for a while.
	StepDown(ctx context.Context, host string) error
	// EnsureUser creates u on host, the current primary, or sets its
	// password and roles when it exists.
	EnsureUser(ctx context.Context, host string, u User) error
	// SetFCV runs setFeatureCompatibilityVersion with version on host, the
	// current primary.
	SetFCV(ctx context.Context, host, version string) error
}

// Connect opens a Client to the members hosts as user; close releases it.
type Connect func(ctx context.Context, hosts []string, user, password string) (c Client, close func(), err error)

// ActionKind is what Plan decided.
type ActionKind string

// The decisions Plan makes.
const (
	Noop     ActionKind = "Noop"     // configured as desired
	Initiate ActionKind = "Initiate" // send replSetInitiate with Config
	Reconfig ActionKind = "Reconfig" // send replSetReconfig with Config
	StepDown ActionKind = "StepDown" // send replSetStepDown to the primary
	SetFCV   ActionKind = "SetFCV"   // send setFeatureCompatibilityVersion FCV to the primary
	Wait     ActionKind = "Wait"     // not safe to change anything now
)

// Action is one step towards the desired replica set. Target is the member
// the command goes to: the first member for Initiate, the primary otherwise.
type Action struct {
	Kind   ActionKind
	Target string
	Config Config
	FCV    string // for SetFCV
	Reason string
}

func wait(format string, args ...any) Action {
	return Action{Kind: Wait, Reason: fmt.Sprintf(format, args...)}
}

// Plan decides the single next step that moves the replica set towards the
// desired hosts (ordinal order). ready tells which hosts' pods are ready.
// Rules: initiate with the first member only, and only when every member
// answered that it has no configuration; at most one voting-member change
// per reconfig; only when a primary exists and every member is healthy and
// caught up (PRIMARY or SECONDARY), except that an undesired member may be
// removed while the members serving stay a majority; members beyond the
// 7th join with votes 0 and priority 0; removal happens here, before the StatefulSet
// shrinks; a primary that must be removed is first stepped down, and removed
// by a later step once another member has been elected.
func Plan(name string, st State, desired []string, ready map[string]bool) Action {
	if !st.Initialized {
		return planInitiate(name, st, desired, ready)
	}
	primary, serving, lagging := health(st)
	if primary == "" {
		return wait("no primary: waiting for an election before any change")
	}
	if a, ok := planRemoval(st.Config, primary, desired, serving, lagging); ok {
		return a
	}
	if lagging != "" {
		if onlyDown(st, serving) && servingVoters(st.Config, serving) > st.Config.Voters()/2 {
			// A member lost with its node must not stop the set from
			// growing: the new member joins without a vote, so the
			// majority is what it was, and gets one (planVote) once every
			// member serves again.
			if a := planAddition(st.Config, primary, desired, ready, false); a.Kind != Noop {
				a.Reason += fmt.Sprintf(" without a vote, to get one once every member serves: %s", lagging)
				return a
			}
		}
		return wait("%s", lagging)
	}
	if a, ok := planVote(st.Config, primary); ok {
		return a
	}
	return planAddition(st.Config, primary, desired, ready, true)
}

// onlyDown reports whether every member not serving is down (unreachable
// or unhealthy), not catching up: a member in initial sync or behind is
// waited for before anything else changes.
func onlyDown(st State, serving map[string]bool) bool {
	for _, m := range st.Status {
		if !serving[m.Host] && m.Healthy {
			return false
		}
	}
	return true
}

// planInitiate starts a new set, but only when it is certainly new: every
// desired member answered that it has no configuration, and the stack never
// recorded one. A member back on an empty volume while the others are
// unreachable (a drain, a zone outage, a slow attach) answers the same
// NotYetInitialized; initiating there would start a second set beside the
// real one.
func planInitiate(name string, st State, desired []string, ready map[string]bool) Action {
	if len(desired) == 0 || !ready[desired[0]] {
		return wait("waiting for the first member's pod to be ready")
	}
	if st.Recorded {
		return wait("no member answered with the replica set's configuration, which the stack recorded before: waiting for the members that hold it (a member on a lost volume must not start a new set)")
	}
	for _, h := range desired {
		if !slices.Contains(st.Uninitialized, h) {
			return wait("waiting for %s to answer before initiating: the set is new only if every member has no configuration", h)
		}
	}
	return Action{Kind: Initiate, Target: desired[0], Reason: "initiating with " + desired[0], Config: Config{
		Name: name, Version: 1, Members: []Member{{ID: 0, Host: desired[0], Votes: 1, Priority: 1}},
	}}
}

// health finds the healthy primary and the members serving with it
// (PRIMARY or SECONDARY, healthy, within MaxCatchUpLag of the primary's last
// write). lagging is why the first member that is not serving isn't, "" when
// every member serves.
func health(st State) (primary string, serving map[string]bool, lagging string) {
	var p MemberStatus
	for _, m := range st.Status {
		if m.State == "PRIMARY" && m.Healthy {
			p = m
		}
	}
	serving = map[string]bool{}
	for _, m := range st.Status {
		lag := p.Optime.Sub(m.Optime)
		switch {
		case !m.Healthy:
			lagging = cmp.Or(lagging, fmt.Sprintf("member %s is %s: waiting for it to come back "+
				"(if its node or volume is lost, delete its pod, and its claim with the volume, to start it again empty; or lower the member count to remove it)", m.Host, m.State))
		case m.State != "PRIMARY" && m.State != "SECONDARY":
			lagging = cmp.Or(lagging, fmt.Sprintf("member %s is %s: waiting for it to catch up", m.Host, m.State))
		case !m.Optime.IsZero() && !p.Optime.IsZero() && lag > MaxCatchUpLag:
			lagging = cmp.Or(lagging, fmt.Sprintf("member %s is %s behind the primary: waiting for it to catch up", m.Host, lag.Round(time.Second)))
		default:
			serving[m.Host] = true
		}
	}
	return p.Host, serving, lagging
}

// next is cfg with its version bumped and its members copied, ready to change.
func next(cfg Config) Config {
	n := cfg
	n.Version = cfg.Version + 1
	n.Members = slices.Clone(cfg.Members)
	return n
}

func reconfig(cfg Config, primary, reason string) Action {
	return Action{Kind: Reconfig, Target: primary, Config: cfg, Reason: reason}
}

// planRemoval removes members no longer desired, the last added first; the
// primary only after it has stepped down. A member that is down or stuck
// (a lost node, RECOVERING for good) can be removed while others are not
// serving, as long as the members serving stay a majority of the new
// configuration's voters: that is all a reconfig needs to commit.
func planRemoval(cfg Config, primary string, desired []string, serving map[string]bool, lagging string) (Action, bool) {
	primaryUndesired := false
	for i := len(cfg.Members) - 1; i >= 0; i-- {
		m := cfg.Members[i]
		switch {
		case slices.Contains(desired, m.Host):
		case m.Host == primary:
			primaryUndesired = true
		default:
			n := next(cfg)
			n.Members = slices.Delete(n.Members, i, i+1)
			if up, voters := servingVoters(n, serving), n.Voters(); up <= voters/2 {
				return wait("removing %s would leave %d of %d voters serving, no majority: waiting", m.Host, up, voters), true
			}
			return reconfig(n, primary, "removing "+m.Host), true
		}
	}
	if !primaryUndesired {
		return Action{}, false
	}
	if lagging != "" {
		return wait("%s", lagging), true
	}
	electable := slices.ContainsFunc(cfg.Members, func(m Member) bool {
		return m.Host != primary && m.Votes > 0 && m.Priority > 0
	})
	if !electable {
		return wait("member %s is primary and no other member can be elected", primary), true
	}
	return Action{Kind: StepDown, Target: primary, Reason: fmt.Sprintf("stepping down %s, the primary, before removing it", primary)}, true
}

func servingVoters(cfg Config, serving map[string]bool) int {
	n := 0
	for _, m := range cfg.Members {
		if m.Votes > 0 && serving[m.Host] {
			n++
		}
	}
	return n
}

// planVote keeps up to seven voters: a non-voting member is promoted when a
// vote is free.
func planVote(cfg Config, primary string) (Action, bool) {
	if cfg.Voters() >= MaxVotingMembers {
		return Action{}, false
	}
	for i, m := range cfg.Members {
		if m.Votes == 0 {
			n := next(cfg)
			n.Members[i].Votes, n.Members[i].Priority = 1, 1
			return reconfig(n, primary, "granting a vote to "+m.Host), true
		}
	}
	return Action{}, false
}

// planAddition adds the first desired host that is missing, once its pod is
// ready; beyond seven voters, or without vote, it joins without a vote.
func planAddition(cfg Config, primary string, desired []string, ready map[string]bool, vote bool) Action {
	for _, h := range desired {
		if cfg.Has(h) {
			continue
		}
		if !ready[h] {
			return wait("waiting for %s to be ready before adding it", h)
		}
		id := 0
		for _, m := range cfg.Members {
			id = max(id, m.ID+1)
		}
		m := Member{ID: id, Host: h, Votes: 1, Priority: 1}
		if !vote || cfg.Voters() >= MaxVotingMembers {
			m.Votes, m.Priority = 0, 0
		}
		n := next(cfg)
		n.Members = append(n.Members, m)
		return reconfig(n, primary, "adding "+h)
	}
	return Action{Kind: Noop, Reason: "replica set configured"}
}
