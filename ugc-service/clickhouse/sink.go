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
	settings := ch.Settings{}
	if cfg.Cluster != "" {
		// An insert into a Distributed table returns once every shard has
		// its rows, not when they are queued on the node that took them:
		// the relay marks events sent only when they are where queries read.
		settings["insert_distributed_sync"] = 1
	}
	conn, err := ch.Open(&ch.Options{
		Addr:     cfg.Addr,
		Settings: settings,
		// The session's database is the server's default one: the schema's
		// statements name their database, which may not exist yet.
		Auth:         ch.Auth{Database: "default", Username: cfg.User, Password: cfg.Password},
		DialTimeout:  cfg.Timeout,
		ReadTimeout:  cfg.Timeout,
		MaxOpenConns: 4,
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open: %w", err)
	}
	return &Sink{conn: conn, schema: schema}, nil
}

// Ping reports whether the server answers.
func (s *Sink) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("clickhouse: ping: %w", err)
	}
	return nil
}

// Migrate creates the database, tables and views that do not exist yet.
func (s *Sink) Migrate(ctx context.Context) error {
	for _, stmt := range s.schema.Statements() {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("clickhouse: migrate: %w\n%s", err, stmt)
		}
	}
	s.migrated.Store(true)
	return nil
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
