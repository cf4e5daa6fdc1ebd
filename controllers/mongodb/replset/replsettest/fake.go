package replsettest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
)

// Fakes stands in for the MongoDB driver behind replset.Client where no
// MongoDB server runs: one simulated Set per stack, whose commands take
// effect at once and which refuses what mongod refuses. Its Connect is a
// replset.Connect.
type Fakes struct {
	mu   sync.Mutex
	sets map[string]*Fake
}

// Fake is one stack's simulated replica set and the commands it received.
type Fake struct {
	parent *Fakes
	sim    Set
	log    []Command
	users  map[string]replset.User
	// root is the user the official entrypoint created on the first start
	// on empty volumes, from the admin Secret of that moment: the first
	// login's. The set outlives a stack's deletion, as retained volumes do.
	root *[2]string
	// userWrites counts EnsureUser calls that reached the primary.
	userWrites int
	// observe is called with every command, before it takes effect.
	observe func(Command)
}

// Command is one command the controller sent.
type Command struct {
	Kind    replset.ActionKind
	Target  string
	Members int // members of the configuration sent (Initiate, Reconfig)
}

// Of returns the replica set whose members are hosts, created on first
// use; a stack's members share the domain of its headless Service.
func (f *Fakes) Of(hosts []string) *Fake {
	_, key, _ := strings.Cut(hosts[0], ".")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sets == nil {
		f.sets = map[string]*Fake{}
	}
	if f.sets[key] == nil {
		f.sets[key] = &Fake{parent: f}
	}
	return f.sets[key]
}

// Connect answers for the members asked: every one of them answers, as
// every pod the StatefulSet runs would. Like mongod, it refuses a user or
// password other than the root user's.
func (f *Fakes) Connect(_ context.Context, hosts []string, user, password string) (replset.Client, func(), error) {
	r := f.Of(hosts)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.root == nil {
		r.root = &[2]string{user, password}
	}
	if *r.root != [2]string{user, password} {
		return nil, nil, fmt.Errorf("connection() error occurred during connection handshake: auth error: sasl conversation error: unable to authenticate using mechanism \"SCRAM-SHA-256\": (AuthenticationFailed) Authentication failed")
	}
	r.sim.Hosts = hosts
	return r, func() {}, nil
}

// Commands returns a copy of what was sent so far.
func (r *Fake) Commands() []Command {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return append([]Command(nil), r.log...)
}

// Elect makes host primary, as an election would.
func (r *Fake) Elect(host string) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	r.sim.Primary = host
}

// Members is the size of the current configuration.
func (r *Fake) Members() int {
	return len(r.Config().Members)
}

// Config is the current configuration.
func (r *Fake) Config() replset.Config {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return r.sim.Config
}

// OnCommand sets a hook called with every command before it takes effect.
func (r *Fake) OnCommand(observe func(Command)) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	r.observe = observe
}

// User returns the named user and how many user writes the set received.
func (r *Fake) User(name string) (replset.User, int) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return r.users[name], r.userWrites
}

// GetState reports the simulated set.
func (r *Fake) GetState(context.Context) (replset.State, error) {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	return r.sim.State(), nil
}

func (r *Fake) send(a replset.Action) error {
	r.parent.mu.Lock()
	observe := r.observe
	r.parent.mu.Unlock()
	cmd := Command{Kind: a.Kind, Target: a.Target, Members: len(a.Config.Members)}
	if observe != nil {
		observe(cmd)
	}
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	r.log = append(r.log, cmd)
	return r.sim.Apply(a)
}

// Initiate applies replSetInitiate.
func (r *Fake) Initiate(_ context.Context, host string, cfg replset.Config) error {
	return r.send(replset.Action{Kind: replset.Initiate, Target: host, Config: cfg})
}

// Reconfig applies replSetReconfig.
func (r *Fake) Reconfig(_ context.Context, host string, cfg replset.Config) error {
	return r.send(replset.Action{Kind: replset.Reconfig, Target: host, Config: cfg})
}

// StepDown applies replSetStepDown.
func (r *Fake) StepDown(_ context.Context, host string) error {
	return r.send(replset.Action{Kind: replset.StepDown, Target: host})
}

// EnsureUser refuses, as mongod does, a user command sent to a member
// that is not primary (NotWritablePrimary).
func (r *Fake) EnsureUser(_ context.Context, host string, u replset.User) error {
	r.parent.mu.Lock()
	defer r.parent.mu.Unlock()
	if host != r.sim.Primary {
		return fmt.Errorf("NotWritablePrimary: %s is not primary", host)
	}
	if r.users == nil {
		r.users = map[string]replset.User{}
	}
	r.users[u.Name] = u
	r.userWrites++
	return nil
}

// SetFCV is never asked for: the simulated set reports no versions, so
// PlanFCV waits.
func (r *Fake) SetFCV(context.Context, string, string) error {
	return fmt.Errorf("the simulated set reports no versions")
}
