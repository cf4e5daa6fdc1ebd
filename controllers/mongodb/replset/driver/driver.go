// Package driver is replset.Client over the official MongoDB driver, one
// direct connection per member.
package driver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
)

// commandTimeout bounds every command; a reconfig waits for a majority of
// the new configuration to accept it, which takes seconds, not minutes.
const commandTimeout = 30 * time.Second

// userNotFound is mongod's UserNotFound error code (mongodb/mongo
// src/mongo/base/error_codes.yml).
const userNotFound = 11

// stepDownSeconds keeps a stepped-down primary from standing for election
// again while the controller removes it from the configuration.
const stepDownSeconds = 60

// driver sends replica-set commands through the MongoDB driver with one
// direct connection per member, so each command reaches the member Plan
// chose (the primary for reconfigurations) rather than whichever member a
// replica-set connection would pick, and works before the set is initiated.
type driver struct {
	hosts          []string
	user, password string

	mu    sync.Mutex
	conns map[string]*mongo.Client
}

// Connect is the production replset.Connect: connections open lazily,
// one per member asked.
func Connect(_ context.Context, hosts []string, user, password string) (replset.Client, func(), error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("no members")
	}
	m := &driver{hosts: hosts, user: user, password: password, conns: map[string]*mongo.Client{}}
	return m, m.close, nil
}

func (m *driver) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.conns {
		_ = c.Disconnect(context.Background())
	}
}

func (m *driver) admin(host string) (*mongo.Database, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.conns[host]
	if !ok {
		// Short timeouts: a member that is down must cost a reconcile
		// seconds, not the driver's 30 s server selection per member.
		uri := fmt.Sprintf("mongodb://%s:%s@%s/admin?directConnection=true&authSource=admin&serverSelectionTimeoutMS=5000&connectTimeoutMS=5000",
			url.QueryEscape(m.user), url.QueryEscape(m.password), host)
		var err error
		if c, err = mongo.Connect(options.Client().ApplyURI(uri)); err != nil {
			return nil, err
		}
		m.conns[host] = c
	}
	return c.Database("admin"), nil
}

// run sends cmd to host within commandTimeout: one member that accepts the
// connection and never answers must not hold the operator's only worker.
func (m *driver) run(ctx context.Context, host string, cmd bson.D, out any) error {
	db, err := m.admin(host)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	res := db.RunCommand(ctx, cmd)
	if out == nil {
		return res.Err()
	}
	return res.Decode(out)
}

// GetState asks the members in ordinal order for the first initialized view:
// a member that is down, or new and not yet added (it answers
// NotYetInitialized), must not hide the configuration the others hold. The
// configuration is then read from the primary that view names, whose
// version a reconfig must exceed; a lagging secondary's would be refused.
func (m *driver) GetState(ctx context.Context) (replset.State, error) {
	var errs []error
	var uninitialized []string
	for _, h := range m.hosts {
		st, err := m.statusFrom(ctx, h)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", h, err))
		case !st.Initialized:
			uninitialized = append(uninitialized, h)
		default:
			st.Config, err = m.config(ctx, primaryOr(st, h))
			if err != nil {
				return replset.State{}, err
			}
			m.versions(ctx, &st)
			return st, nil
		}
	}
	if len(uninitialized) > 0 {
		return replset.State{Uninitialized: uninitialized}, nil
	}
	return replset.State{}, errors.Join(errs...)
}

// primaryOr is the member st reports as PRIMARY, or host when none is.
func primaryOr(st replset.State, host string) string {
	return cmp.Or(st.Primary(), host)
}

func (m *driver) statusFrom(ctx context.Context, host string) (replset.State, error) {
	var status struct {
		Members []struct {
			Name       string    `bson:"name"`
			StateStr   string    `bson:"stateStr"`
			Health     float64   `bson:"health"`
			OptimeDate time.Time `bson:"optimeDate"`
		} `bson:"members"`
	}
	if err := m.run(ctx, host, bson.D{{Key: "replSetGetStatus", Value: 1}}, &status); err != nil {
		if strings.Contains(err.Error(), "NotYetInitialized") || strings.Contains(err.Error(), "no replset config") {
			return replset.State{}, nil
		}
		return replset.State{}, err
	}
	st := replset.State{Initialized: true}
	for _, mm := range status.Members {
		st.Status = append(st.Status, replset.MemberStatus{Host: mm.Name, State: mm.StateStr, Healthy: mm.Health == 1, Optime: mm.OptimeDate})
	}
	return st, nil
}

// versions fills in each member's binary release and the set's
// featureCompatibilityVersion. They only gate the last step of an upgrade,
// so a member that does not answer leaves its version empty (PlanFCV then
// waits) rather than failing the whole observation.
func (m *driver) versions(ctx context.Context, st *replset.State) {
	for i, mm := range st.Status {
		var info struct {
			Version string `bson:"version"`
		}
		if mm.Healthy && m.run(ctx, mm.Host, bson.D{{Key: "buildInfo", Value: 1}}, &info) == nil {
			st.Status[i].Version = info.Version
		}
	}
	var fcv struct {
		FCV struct {
			Version string `bson:"version"`
		} `bson:"featureCompatibilityVersion"`
	}
	if p := st.Primary(); p != "" && m.run(ctx, p, bson.D{{Key: "getParameter", Value: 1}, {Key: "featureCompatibilityVersion", Value: 1}}, &fcv) == nil {
		st.FCV = fcv.FCV.Version
	}
}

func (m *driver) config(ctx context.Context, host string) (replset.Config, error) {
	var cfg struct {
		Config replset.Config `bson:"config"`
	}
	if err := m.run(ctx, host, bson.D{{Key: "replSetGetConfig", Value: 1}}, &cfg); err != nil {
		return replset.Config{}, fmt.Errorf("replSetGetConfig on %s: %w", host, err)
	}
	// The primary sets the configuration's term itself.
	delete(cfg.Config.Extra, "term")
	return cfg.Config, nil
}

func (m *driver) Initiate(ctx context.Context, host string, cfg replset.Config) error {
	return m.run(ctx, host, bson.D{{Key: "replSetInitiate", Value: cfg}}, nil)
}

func (m *driver) Reconfig(ctx context.Context, host string, cfg replset.Config) error {
	return m.run(ctx, host, bson.D{{Key: "replSetReconfig", Value: cfg}}, nil)
}

// StepDown gives the secondaries up to 10 s to catch up, so the new primary
// has every acknowledged write.
func (m *driver) StepDown(ctx context.Context, host string) error {
	return m.run(ctx, host, bson.D{{Key: "replSetStepDown", Value: stepDownSeconds}, {Key: "secondaryCatchUpPeriodSecs", Value: 10}}, nil)
}

// EnsureUser updates the user, or creates it when updateUser reports
// UserNotFound (code 11): both set the password and the roles.
func (m *driver) EnsureUser(ctx context.Context, host string, u replset.User) error {
	err := m.run(ctx, host, bson.D{{Key: "updateUser", Value: u.Name}, {Key: "pwd", Value: u.Password}, {Key: "roles", Value: u.Roles}}, nil)
	if ce := (mongo.CommandError{}); errors.As(err, &ce) && ce.Code == userNotFound {
		err = m.run(ctx, host, bson.D{{Key: "createUser", Value: u.Name}, {Key: "pwd", Value: u.Password}, {Key: "roles", Value: u.Roles}}, nil)
	}
	if err != nil {
		return fmt.Errorf("user %s: %w", u.Name, err)
	}
	return nil
}

// SetFCV sends setFeatureCompatibilityVersion; from 7.0 on mongod requires
// confirm: true (the manual's setFeatureCompatibilityVersion page, "Changed
// in version 7.0"), which earlier releases do not know.
func (m *driver) SetFCV(ctx context.Context, host, version string) error {
	cmd := bson.D{{Key: "setFeatureCompatibilityVersion", Value: version}}
	if r, ok := replset.ParseRelease(version); ok && r.Major >= 7 {
		cmd = append(cmd, bson.E{Key: "confirm", Value: true})
	}
	return m.run(ctx, host, cmd, nil)
}
