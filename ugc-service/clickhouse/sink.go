package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// Config locates the ClickHouse server (or cluster) and names the database
// the events go to.
type Config struct {
	Addr     []string // host:port of the native protocol, one or more
	Database string
	User     string
	Password string
	Cluster  string // set to create the tables ON CLUSTER with Distributed fronts
	Timeout  time.Duration
}

// ParseDSN reads a clickhouse://user:password@host:port[,host:port]/database
// DSN (the form an external ClickHouse's Secret holds) into a Config. The
// database defaults to "ugc".
func ParseDSN(dsn string) (Config, error) {
	o, err := ch.ParseDSN(dsn)
	if err != nil {
		return Config{}, fmt.Errorf("clickhouse: %w", err)
	}
	c := Config{Addr: o.Addr, Database: o.Auth.Database, User: o.Auth.Username, Password: o.Auth.Password}
	if c.Database == "" || c.Database == "default" {
		c.Database = "ugc"
	}
	if len(c.Addr) == 0 {
		return Config{}, errors.New("clickhouse: the DSN names no host")
	}
	return c, nil
}

// Sink writes events into ClickHouse over the native protocol.
type Sink struct {
	conn     driver.Conn
	schema   Schema
	cfg      Config
	migrated atomic.Bool
}

// Open validates cfg and returns a sink that connects on first use, so that
// a service can start while ClickHouse is down: its first insert creates the
// schema, and fails (to be retried) until the server answers.
func Open(cfg Config) (*Sink, error) {
	schema := Schema{Database: cfg.Database, Cluster: cfg.Cluster}
	if err := schema.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Addr) == 0 {
		return nil, errors.New("clickhouse: no address")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	conn, err := dial(cfg, cfg.Addr, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	return &Sink{conn: conn, schema: schema, cfg: cfg}, nil
}

// dial opens a connection pool to the servers at addr. A read that waits
// longer than readTimeout for the server fails.
func dial(cfg Config, addr []string, readTimeout time.Duration) (driver.Conn, error) {
	settings := ch.Settings{}
	if cfg.Cluster != "" {
		// An insert into a Distributed table returns once every shard has
		// its rows, not when they are queued on the node that took them:
		// the relay marks events sent only when they are where queries read.
		settings["insert_distributed_sync"] = 1
	}
	conn, err := ch.Open(&ch.Options{
		Addr:     addr,
		Settings: settings,
		// The session's database is the server's default one: the schema's
		// statements name their database, which may not exist yet.
		Auth:         ch.Auth{Database: "default", Username: cfg.User, Password: cfg.Password},
		DialTimeout:  cfg.Timeout,
		ReadTimeout:  readTimeout,
		MaxOpenConns: 4,
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open: %w", err)
	}
	return conn, nil
}

// Ping reports whether the server answers.
func (s *Sink) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("clickhouse: ping: %w", err)
	}
	return nil
}

// Migrate creates the database, tables and views that do not exist yet. On
// a cluster it first moves what each server kept while it ran alone (see
// grow.go); on one server it refuses the fronts a shrunk cluster left.
func (s *Sink) Migrate(ctx context.Context) error {
	var err error
	if s.schema.Cluster == "" {
		err = s.migrateServer(ctx)
	} else {
		err = s.migrateCluster(ctx)
	}
	if err != nil {
		return fmt.Errorf("clickhouse: migrate: %w", err)
	}
	s.migrated.Store(true)
	return nil
}

func (s *Sink) migrateServer(ctx context.Context) error {
	engines, err := s.schema.engines(ctx, s.conn)
	if err != nil {
		return err
	}
	if engines[TableEvents] == engineDistributed {
		return fmt.Errorf("%s %w", s.schema.q(TableEvents), errShrunk)
	}
	return run(ctx, s.conn, s.schema.Statements())
}

// copyTimeout bounds the wait for one answer while a server sends its
// set-aside events on to the shards: one INSERT ... SELECT of all of them.
const copyTimeout = 30 * time.Minute

func (s *Sink) migrateCluster(ctx context.Context) error {
	hosts, err := s.schema.hosts(ctx, s.conn)
	if err != nil {
		return err
	}
	conns := make([]driver.Conn, len(hosts))
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	for i, h := range hosts {
		if conns[i], err = dial(s.cfg, []string{h}, copyTimeout); err != nil {
			return err
		}
	}
	// on runs one step of the move on every server.
	on := func(step func(map[string]string) []string) error {
		for i, c := range conns {
			engines, err := s.schema.engines(ctx, c)
			if err == nil {
				err = run(ctx, c, step(engines))
			}
			if err != nil {
				return fmt.Errorf("server %s: %w", hosts[i], err)
			}
		}
		return nil
	}
	if err := on(s.schema.setAside); err != nil {
		return err
	}
	if err := run(ctx, s.conn, s.schema.Statements()); err != nil {
		return err
	}
	return on(s.schema.sendAgain)
}

// InsertEvents writes the batch in one INSERT. ClickHouse applies an
// INSERT of one block atomically, and the tables deduplicate by event id, so
// a batch sent again after a failure whose outcome was unknown counts once.
func (s *Sink) InsertEvents(ctx context.Context, events []ugc.Event) error {
	if len(events) == 0 {
		return nil
	}
	if !s.migrated.Load() {
		if err := s.Migrate(ctx); err != nil {
			return err
		}
	}
	batch, err := s.conn.PrepareBatch(ctx, s.schema.InsertEvents())
	if err != nil {
		return fmt.Errorf("clickhouse: prepare insert: %w", err)
	}
	for _, e := range events {
		err := batch.Append(e.ID, string(e.Type), e.UserID, e.FilmID, e.ReviewID,
			score(e.Score), score(e.PreviousScore), string(e.Vote), string(e.PreviousVote), e.OccurredAt.UTC())
		if err != nil {
			return errors.Join(fmt.Errorf("clickhouse: append event %s: %w", e.ID, err), batch.Abort())
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert %d events: %w", len(events), err)
	}
	return nil
}

func score(p *int) *uint8 {
	if p == nil {
		return nil
	}
	v := uint8(*p)
	return &v
}

// Query runs a read for operational tools and tests.
func (s *Sink) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	return s.conn.Query(ctx, query, args...)
}

// QueryRow runs a read of one row.
func (s *Sink) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	return s.conn.QueryRow(ctx, query, args...)
}

// Close closes the connections.
func (s *Sink) Close() error { return s.conn.Close() }
