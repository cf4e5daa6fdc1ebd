// Package relay moves events from a store's outbox to the analytics sink
// (ClickHouse): it reads a batch in order, inserts it, and only then marks it
// sent. A crash or error between the insert and the mark sends the batch
// again, which the sink's deduplication by event id absorbs; nothing is
// marked sent before the sink has it, so nothing is lost.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// Sink receives batches of events. InsertEvents must be all-or-nothing or
// idempotent per event id: the relay sends a batch again whenever it cannot
// tell whether the last attempt landed.
type Sink interface {
	InsertEvents(ctx context.Context, events []ugc.Event) error
}

// Config bounds batches and says when to alert.
type Config struct {
	// BatchSize is the most events one insert carries.
	BatchSize int
	// Interval is how long the relay waits, after finding fewer than
	// BatchSize events, before it looks again: the bound on how long an
	// event waits when the outbox is nearly idle.
	Interval time.Duration
	// Retention is the age of the oldest unsent event beyond which the relay
	// alerts (it never drops events: the alert asks a person to act).
	Retention time.Duration
	// MaxBackoff caps the wait between failed attempts.
	MaxBackoff time.Duration
	// InsertTimeout bounds one insert.
	InsertTimeout time.Duration
}

// DefaultConfig is what `ugc relay` runs with unless configured otherwise.
var DefaultConfig = Config{
	BatchSize:     5000,
	Interval:      500 * time.Millisecond,
	Retention:     time.Hour,
	MaxBackoff:    30 * time.Second,
	InsertTimeout: 30 * time.Second,
}

// Validate reports a configuration the relay cannot run with.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("batch size must be at least 1, got %d", c.BatchSize))
	}
	for name, d := range map[string]time.Duration{
		"interval": c.Interval, "retention": c.Retention, "max backoff": c.MaxBackoff, "insert timeout": c.InsertTimeout,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %v", name, d))
		}
	}
	return errors.Join(errs...)
}

// statsEvery is how often the relay checks the backlog's age for the
// retention alert, and alertEvery how often it repeats an alert that holds.
const (
	statsEvery = 10 * time.Second
	alertEvery = 5 * time.Minute
	minBackoff = 100 * time.Millisecond
)

// gather is how long the relay lets events gather before it reads them,
// while they keep coming (the last batch was not empty) and after a Wake:
// short against the 100 ms an event may take to reach ClickHouse, long
// enough that a busy API makes at most 40 inserts a second, not one per
// write (ClickHouse merges every insert's part in the background).
const gather = 25 * time.Millisecond

// Relay is one relay loop. Run several only against outboxes of different
// stores: two relays on one outbox would send every batch twice (harmless to
// the counts, wasteful to the sink).
type Relay struct {
	outbox ugc.Outbox
	sink   Sink
	cfg    Config
	log    *slog.Logger
	alert  func(error)
	m      *relayMetrics

	lastStats, lastAlert time.Time
	// wake cuts an idle wait short: an event was just recorded.
	wake chan struct{}
}

// New returns a relay from outbox to sink. alert is called, besides an error
// log line, when the backlog outgrows cfg.Retention (Sentry in production);
// it may be nil. Metrics are registered with reg.
func New(outbox ugc.Outbox, sink Sink, cfg Config, logger *slog.Logger, alert func(error), reg prometheus.Registerer) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if alert == nil {
		alert = func(error) {}
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	return &Relay{outbox: outbox, sink: sink, cfg: cfg, log: logger, alert: alert, m: m, wake: make(chan struct{}, 1)}, nil
}

// Wake tells the relay that an event was just recorded, so that it does not
// wait out its Interval: a relay in the API's process (serve --relay) is
// woken by every write. It never blocks.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends, retrying failures with capped exponential
// backoff. It returns nil when ctx ends: whatever was not marked sent stays
// in the outbox for the next run.
//
// How long it waits between batches follows the work: none after a full
// batch (a backlog); while events keep coming (the last batch was not
// empty), it looks again gather after the last look began, so that a slow
// insert does not add its own time to the wait; after looks that found
// nothing, the wait doubles from gather up to Interval, unless Wake says an
// event arrived. So an idle outbox costs one read per Interval, and an event
// waits about gather plus an insert, not up to Interval.
func (r *Relay) Run(ctx context.Context) error {
	failures := 0
	empty := min(gather, r.cfg.Interval) // the wait after the next empty look
	for {
		started := time.Now()
		n, err := r.Flush(ctx)
		var wait time.Duration
		idle := false
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failures++
			wait = backoff(failures, r.cfg.MaxBackoff)
			r.log.WarnContext(ctx, "relay: batch failed; retrying", "error.message", err.Error(),
				"ugc.relay.attempt", failures, "ugc.relay.retry_in", wait.String())
		case n == r.cfg.BatchSize:
			failures = 0 // a backlog: go straight on
		case n > 0:
			failures = 0
			empty = min(gather, r.cfg.Interval)
			wait = empty - time.Since(started)
		default:
			failures = 0
			wait, idle = empty, true
			empty = min(2*empty, r.cfg.Interval)
		}
		r.checkRetention(ctx)
		if wait > 0 && !r.sleep(ctx, wait, idle) {
			return nil
		}
	}
}

// sleep waits d; when idle, a Wake shortens the wait to gather from the
// wake (never lengthens it), for the events that come with the first. It
// returns false when ctx ends.
func (r *Relay) sleep(ctx context.Context, d time.Duration, idle bool) bool {
	deadline := time.Now().Add(d)
	var woken <-chan struct{}
	if idle {
		woken = r.wake
	}
	for {
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
			return true
		case <-woken:
			t.Stop()
			woken = nil // one wake is enough
			if soon := time.Now().Add(min(gather, r.cfg.Interval)); soon.Before(deadline) {
				deadline = soon
			}
		}
	}
}

// Flush relays one batch of up to BatchSize events and returns how many it
// relayed.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	events, err := r.outbox.PendingEvents(ctx, r.cfg.BatchSize)
	if err != nil {
		r.m.failures.WithLabelValues("read").Inc()
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	start := time.Now()
	ictx, cancel := context.WithTimeout(ctx, r.cfg.InsertTimeout)
	err = r.sink.InsertEvents(ictx, events)
	cancel()
	if err != nil {
		r.m.failures.WithLabelValues("insert").Inc()
		return 0, fmt.Errorf("insert %d events: %w", len(events), err)
	}
	r.m.insertSeconds.Observe(time.Since(start).Seconds())
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	// The sink has the batch: marking must not be cut short by shutdown,
	// or the whole batch is sent again on the next start.
	if err := r.outbox.MarkEventsSent(context.WithoutCancel(ctx), ids); err != nil {
		r.m.failures.WithLabelValues("mark").Inc()
		return 0, fmt.Errorf("mark %d events sent: %w", len(events), err)
	}
	now := time.Now()
	for _, e := range events {
		r.m.lagSeconds.Observe(now.Sub(e.OccurredAt).Seconds())
	}
	r.m.events.Add(float64(len(events)))
	return len(events), nil
}

// checkRetention alerts, at most every alertEvery, while the oldest unsent
// event is older than the retention bound.
func (r *Relay) checkRetention(ctx context.Context) {
	now := time.Now()
	if now.Sub(r.lastStats) < statsEvery {
		return
	}
	r.lastStats = now
	st, err := r.outbox.OutboxStats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.WarnContext(ctx, "relay: cannot read outbox stats", "error.message", err.Error())
		}
		return
	}
	age := st.Age(now)
	if age <= r.cfg.Retention || now.Sub(r.lastAlert) < alertEvery {
		return
	}
	r.lastAlert = now
	err = fmt.Errorf("relay: the oldest of %d unsent events is %s old, beyond the %s retention bound: analytics is behind; nothing is dropped, but check the ClickHouse sink",
		st.Pending, age.Round(time.Second), r.cfg.Retention)
	r.log.ErrorContext(ctx, err.Error(), "ugc.outbox.pending", st.Pending, "ugc.outbox.oldest_age_seconds", age.Seconds())
	r.alert(err)
}

// backoff is the wait after the n-th consecutive failure: doubling from
// minBackoff up to max, with ±20% jitter so that relays of several
// instances do not retry in step.
func backoff(n int, maxWait time.Duration) time.Duration {
	d := minBackoff << min(n-1, 20)
	d = min(d, maxWait)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())) //nolint:gosec // jitter needs no crypto
}
