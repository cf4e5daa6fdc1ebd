package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/getsentry/sentry-go"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/ecslog"
	"github.com/ugcstack/ugcstack/ugc-service/metrics"
	"github.com/ugcstack/ugcstack/ugc-service/relay"
)

// process is what `ugc serve` and `ugc relay` share: the log, Sentry, the
// metrics, the store with its outbox metrics and, when asked for, the relay
// to ClickHouse. openProcess builds what needs no server, connect the store,
// which may have to be waited for; Close releases them in the order it
// documents, so that neither command depends on the order of its defers.
type process struct {
	logOut      *ecslog.BufferedWriter
	logger      *slog.Logger
	flushSentry func()
	metrics     *metrics.Metrics
	// sink is the relay's ClickHouse, nil unless a relay is asked for.
	sink relaySink

	// Set by connect. `ugc relay` runs the relay in the foreground; `ugc
	// serve --relay` in the background, with startRelay.
	store     ugc.Store
	relay     *relay.Relay
	stopRelay func() error // set by startRelay
}

// relaySink is where the relay inserts, and what Close closes.
type relaySink interface {
	relay.Sink
	io.Closer
}

// openProcess opens the log on stdout, Sentry and the metrics, and the
// ClickHouse sink when withRelay is set, so that a relay without ClickHouse
// fails the start rather than after the wait for the store. On failure it
// releases whatever it had opened.
func openProcess(cfg config, stdout io.Writer, withRelay bool) (_ *process, err error) {
	p := &process{logOut: ecslog.NewBufferedWriter(stdout, 64<<10, 100*time.Millisecond)}
	p.logger = ecslog.New(p.logOut, cfg.LogLevel)
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if p.flushSentry, err = initSentry(cfg); err != nil {
		return nil, err
	}
	p.metrics = metrics.New()
	p.metrics.WatchLog(p.logOut.Dropped)
	if withRelay {
		sink, err := openSink(cfg)
		if err != nil {
			return nil, err
		}
		p.sink = sink
	}
	return p, nil
}

// connect opens the store, waiting for MongoDB as waitForStore does, exports
// its outbox metrics and builds the relay when the process has a sink. It
// returns ctx's error when told to stop first. What it opened stays in p for
// Close to release, even when it fails.
func (p *process) connect(ctx context.Context, cfg config) error {
	s, err := waitForStore(ctx, cfg, p.logger)
	if err != nil {
		return err
	}
	p.store = s
	p.metrics.WatchOutbox(s)
	if wal, ok := s.(interface{ WALBytes() int64 }); ok {
		p.metrics.WatchWAL(wal.WALBytes)
	}
	if p.sink != nil {
		p.relay, err = newRelay(cfg, s, p.sink, p.logger, p.metrics)
	}
	return err
}

// Store retry delays: the first retries come soon, for a server that is
// starting beside us; later ones settle at storeRetryMax, which bounds how
// long a server that has come up goes unnoticed.
const (
	storeRetryFirst = 500 * time.Millisecond
	storeRetryMax   = 30 * time.Second
)

// waitForStore opens and migrates the store. MongoDB is tried again, with
// backoff, until it answers or ctx ends: the operator starts it beside the
// API, and a process that exited instead would be restarted by Kubernetes
// with delays of up to five minutes. The embedded store is tried once: its
// failures come from the disk or the configuration, which waiting does not
// fix.
func waitForStore(ctx context.Context, cfg config, logger *slog.Logger) (ugc.Store, error) {
	if cfg.MongoURI == "" {
		return openStore(ctx, cfg)
	}
	wait := storeRetryFirst
	for attempt := 1; ; attempt++ {
		s, err := openStore(ctx, cfg)
		if err == nil || ctx.Err() != nil {
			return s, err
		}
		// The driver's errors name hosts, never the URI's credentials.
		logger.WarnContext(ctx, "store not available yet; retrying", "error.message", err.Error(),
			"ugc.store.attempt", attempt, "ugc.store.retry_in", wait.String())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, storeRetryMax)
	}
}

// startRelay runs the relay in the background until Close. Its context
// outlives ctx on purpose: after SIGTERM it still relays what the draining
// requests record, and Close stops it once they are done.
func (p *process) startRelay(ctx context.Context) {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- p.relay.Run(rctx) }()
	p.stopRelay = func() error {
		cancel()
		return <-done
	}
}

// Close releases the process in this order, each step needing those after
// it (steps whose part was never opened are skipped):
//
//  1. the background relay stops, having inserted and marked sent the batch
//     it was on, so that the next start does not send that batch again;
//  2. the ClickHouse connections close, now that nothing inserts;
//  3. the store closes, now that neither the relay nor a request uses it;
//  4. Sentry flushes what the steps above reported;
//  5. the log flushes last, so that it holds every line written above.
//
// It also releases a process that openProcess left half-built.
func (p *process) Close() {
	if p.stopRelay != nil {
		if err := p.stopRelay(); err != nil {
			p.logger.Error("relay stopped with an error", "error.message", err.Error())
		}
	}
	if p.sink != nil {
		if err := p.sink.Close(); err != nil {
			p.logger.Warn("closing the ClickHouse connections", "error.message", err.Error())
		}
	}
	if p.store != nil {
		// Every write the store acknowledged is committed, so a failed
		// checkpoint or disconnect here loses nothing.
		_ = p.store.Close()
	}
	if p.flushSentry != nil {
		p.flushSentry()
	}
	_ = p.logOut.Close() // the log itself is what failed
}

// initSentry starts the Sentry client when a DSN is configured and returns
// its flush.
func initSentry(cfg config) (func(), error) {
	if cfg.SentryDSN == "" {
		return func() {}, nil
	}
	if err := sentry.Init(sentry.ClientOptions{
		Dsn: cfg.SentryDSN, Environment: cfg.SentryEnvironment, Release: releaseName(),
		SampleRate: cfg.SentrySampleRate, AttachStacktrace: true,
	}); err != nil {
		return nil, fmt.Errorf("sentry: %w", err)
	}
	return func() { sentry.Flush(2 * time.Second) }, nil
}
