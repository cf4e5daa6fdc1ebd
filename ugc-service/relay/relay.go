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
	"slices"
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
// enough that a busy API makes at most 80 inserts a second (two at a time,
// see atSink), not one per write (ClickHouse merges every insert's part in
// the background).
const gather = 25 * time.Millisecond

// atSink is the most batches the relay has at the sink at once. While one
// insert runs, the events recorded meanwhile are read and sent beside it,
// so they wait for the gather, not for the insert before them to end; with
// one at a time, an event recorded just after a read waited for two
// inserts. ClickHouse takes two small inserts side by side in about the
// time of one (README: Analytics).
const atSink = 2

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
// backoff. It returns nil when ctx ends, once the batches at the sink have
// come back: whatever was not marked sent stays in the outbox for the next
// run.
//
// How long it waits between reads follows the work: none after a full
// batch (a backlog) while fewer than atSink batches are at the sink; while
// events keep coming (the last read was not empty), it reads again gather
// after the last read began, beside an insert still running; after reads
// that found nothing, the wait doubles from gather up to Interval, unless
// Wake says an event arrived. So an idle outbox costs one read per
// Interval, and an event waits about gather plus one insert, not up to
// Interval. A batch that fails is read again after the backoff, with the
// events recorded since.
func (r *Relay) Run(ctx context.Context) error {
	l := loop{r: r, sending: map[uuid.UUID]bool{}, done: make(chan sent, atSink), empty: min(gather, r.cfg.Interval)}
	defer l.drain(ctx)
	for {
		started := time.Now()
		wait, idle := l.next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.checkRetention(ctx)
		if !l.sleep(ctx, started, wait, idle) {
			return nil
		}
	}
}

// loop is Run's state, owned by Run's goroutine: the batches at the sink
// and how the last reads and sends went.
type loop struct {
	r *Relay
	// sending holds the ids of the events at the sink, which a read skips:
	// they are unsent until their batch comes back.
	sending  map[uuid.UUID]bool
	batches  int
	done     chan sent
	failures int
	// empty is the wait after the next read that finds nothing.
	empty time.Duration
}

// sent is a batch back from the sink.
type sent struct {
	events []ugc.Event
	err    error
}

// next reads a batch, when fewer than atSink are at the sink, sends it in
// the background, and says how long to wait, from the read's start, before
// the next: idle when the read found nothing.
func (l *loop) next(ctx context.Context) (wait time.Duration, idle bool) {
	if l.batches == atSink {
		return 0, false // sleep waits for a batch to come back
	}
	events, err := l.r.read(ctx, l.sending)
	switch {
	case err != nil:
		return l.failed(ctx, err), false
	case len(events) == l.r.cfg.BatchSize:
		// a backlog: go straight on
	case len(events) > 0:
		l.empty = min(gather, l.r.cfg.Interval)
		wait = l.empty
	case l.batches == 0:
		l.failures = 0 // nothing to send, nothing failing
		wait, idle = l.empty, true
		l.empty = min(2*l.empty, l.r.cfg.Interval)
	default:
		wait, idle = l.empty, true
	}
	if len(events) > 0 {
		for _, e := range events {
			l.sending[e.ID] = true
		}
		l.batches++
		go func() { l.done <- sent{events: events, err: l.r.send(ctx, events)} }()
	}
	return wait, idle
}

// back takes a batch that came back from the sink, and returns the backoff
// before the next read when it failed.
func (l *loop) back(ctx context.Context, b sent) time.Duration {
	l.batches--
	for _, e := range b.events {
		delete(l.sending, e.ID)
	}
	if b.err != nil {
		return l.failed(ctx, b.err)
	}
	l.failures = 0
	return 0
}

func (l *loop) failed(ctx context.Context, err error) time.Duration {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return 0 // cut short by shutdown: the batch stays in the outbox
	}
	l.failures++
	wait := backoff(l.failures, l.r.cfg.MaxBackoff)
	l.r.log.WarnContext(ctx, "relay: batch failed; retrying", "error.message", err.Error(),
		"ugc.relay.attempt", l.failures, "ugc.relay.retry_in", wait.String())
	return wait
}

// sleep waits until wait after started, taking back the batches that
// return meanwhile; while atSink batches are at the sink it waits for one
// of them, however long that takes. A failed batch puts the next read off
// by its backoff. When idle, a Wake shortens the wait to gather from the
// wake (never lengthens it), for the events that come with the first. It
// returns false when ctx ends.
func (l *loop) sleep(ctx context.Context, started time.Time, wait time.Duration, idle bool) bool {
	deadline := started.Add(wait)
	var woken <-chan struct{}
	if idle {
		woken = l.r.wake
	}
	for {
		left := time.Until(deadline)
		if left <= 0 && l.batches < atSink {
			return true
		}
		var expired <-chan time.Time // none once due: only a batch coming back can end a full wait
		if left > 0 {
			expired = time.After(left)
		}
		select {
		case <-ctx.Done():
			return false
		case <-expired:
		case b := <-l.done:
			if off := l.back(ctx, b); off > 0 {
				deadline = later(deadline, time.Now().Add(off))
			}
		case <-woken:
			woken = nil // one wake is enough
			if soon := time.Now().Add(min(gather, l.r.cfg.Interval)); soon.Before(deadline) {
				deadline = soon
			}
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// drain waits for the batches still at the sink, so that nothing touches
// the outbox after Run returns.
func (l *loop) drain(ctx context.Context) {
	for l.batches > 0 {
		l.back(ctx, <-l.done)
	}
}

// Flush relays one batch of up to BatchSize events and returns how many it
// relayed.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	events, err := r.read(ctx, nil)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	return len(events), r.send(ctx, events)
}

// read returns up to BatchSize of the oldest unsent events, leaving out
// those in skip (at the sink already).
func (r *Relay) read(ctx context.Context, skip map[uuid.UUID]bool) ([]ugc.Event, error) {
	events, err := r.outbox.PendingEvents(ctx, r.cfg.BatchSize+len(skip))
	if err != nil {
		r.m.failures.WithLabelValues("read").Inc()
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	events = slices.DeleteFunc(events, func(e ugc.Event) bool { return skip[e.ID] })
	return events[:min(len(events), r.cfg.BatchSize)], nil
}

// send inserts events and then marks them sent.
func (r *Relay) send(ctx context.Context, events []ugc.Event) error {
	start := time.Now()
	ictx, cancel := context.WithTimeout(ctx, r.cfg.InsertTimeout)
	err := r.sink.InsertEvents(ictx, events)
	cancel()
	if err != nil {
		r.m.failures.WithLabelValues("insert").Inc()
		return fmt.Errorf("insert %d events: %w", len(events), err)
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
		return fmt.Errorf("mark %d events sent: %w", len(events), err)
	}
	now := time.Now()
	for _, e := range events {
		r.m.lagSeconds.Observe(now.Sub(e.OccurredAt).Seconds())
	}
	r.m.events.Add(float64(len(events)))
	return nil
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
