package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/getsentry/sentry-go"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
	"github.com/ugcstack/ugcstack/ugc-service/ecslog"
	"github.com/ugcstack/ugcstack/ugc-service/metrics"
	"github.com/ugcstack/ugcstack/ugc-service/relay"
)

// newRelay builds the relay from the store's outbox to the configured
// ClickHouse, and the function that closes its connections. The sink
// connects on first use, so ClickHouse being down delays analytics (the
// relay retries with backoff) but never the caller.
func newRelay(cfg config, outbox ugc.Outbox, logger *slog.Logger, m *metrics.Metrics) (*relay.Relay, func(), error) {
	if len(cfg.ClickHouse.Addr) == 0 {
		return nil, nil, errors.New("the relay needs UGC_CLICKHOUSE_ADDR (host:port of ClickHouse's native protocol)")
	}
	sink, err := clickhouse.Open(cfg.ClickHouse)
	if err != nil {
		return nil, nil, err
	}
	alert := func(err error) {
		if cfg.SentryDSN != "" {
			sentry.CaptureException(err)
		}
	}
	r, err := relay.New(outbox, sink, cfg.Relay, logger, alert, m.Registry())
	if err != nil {
		return nil, nil, errors.Join(err, sink.Close())
	}
	closeSink := func() {
		if err := sink.Close(); err != nil {
			logger.Warn("closing the ClickHouse connections", "error.message", err.Error())
		}
	}
	return r, closeSink, nil
}

// runRelay is `ugc relay`: the relay on its own, for deployments that scale
// it apart from the API (run one per store). It serves /healthz and /metrics
// on UGC_HTTP_ADDR for probes and scraping.
func runRelay(ctx context.Context, cfg config, stdout io.Writer) error {
	logOut := ecslog.NewBufferedWriter(stdout, 64<<10, 100*time.Millisecond)
	defer logOut.Close()
	logger := ecslog.New(logOut, cfg.LogLevel)
	flush, err := initSentry(cfg)
	if err != nil {
		return err
	}
	defer flush()
	store, desc, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	m := metrics.New()
	m.WatchOutbox(store)
	r, closeSink, err := newRelay(cfg, store, logger, m)
	if err != nil {
		return err
	}
	defer closeSink()

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	logger.Info(fmt.Sprintf("relay running: %s → clickhouse %v database %s; metrics on http://%s/metrics",
		desc, cfg.ClickHouse.Addr, cfg.ClickHouse.Database, ln.Addr()))
	err = r.Run(ctx)
	logger.Info("relay stopped")
	return err
}

// initSentry starts the Sentry client when a DSN is configured and returns
// the flush to defer.
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
