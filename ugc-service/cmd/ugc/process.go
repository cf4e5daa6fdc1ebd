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
// store with its metrics and, when asked for, the relay to ClickHouse.
// openProcess builds them in dependency order; Close releases them in the
// order it documents, so that neither command depends on the order of its
// defers.
type process struct {
	logOut      *ecslog.BufferedWriter
	logger      *slog.Logger
	flushSentry func()
	store       ugc.Store
	storeDesc   string // names the store in start-up lines
	metrics     *metrics.Metrics
	// relay is nil unless asked for. `ugc relay` runs it in the foreground;
	// `ugc serve --relay` in the background, with startRelay.
	relay     *relay.Relay
	sink      io.Closer    // the relay's ClickHouse connections
	stopRelay func() error // set by startRelay
}

// openProcess opens the log on stdout, Sentry and the store, registers the
// store's outbox metrics, and builds the relay when withRelay is set. On
// failure it releases whatever it had opened.
func openProcess(ctx context.Context, cfg config, stdout io.Writer, withRelay bool) (_ *process, err error) {
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
	if p.store, p.storeDesc, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	p.metrics = metrics.New()
	p.metrics.WatchOutbox(p.store)
	if withRelay {
		r, sink, err := newRelay(cfg, p.store, p.logger, p.metrics)
		if err != nil {
			return nil, err
		}
		p.relay, p.sink = r, sink
	}
	return p, nil
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
// it:
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
