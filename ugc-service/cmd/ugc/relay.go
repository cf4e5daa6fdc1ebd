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
	"github.com/ugcstack/ugcstack/ugc-service/metrics"
	"github.com/ugcstack/ugcstack/ugc-service/relay"
)

// openSink opens the configured ClickHouse for the relay. It connects on
// first use, so ClickHouse being down delays analytics (the relay retries
// with backoff) but never the caller.
func openSink(cfg config) (*clickhouse.Sink, error) {
	if len(cfg.ClickHouse.Addr) == 0 {
		return nil, errors.New("the relay needs UGC_CLICKHOUSE_ADDR (host:port of ClickHouse's native protocol)")
	}
	return clickhouse.Open(cfg.ClickHouse)
}

// newRelay builds the relay from the store's outbox to sink.
func newRelay(cfg config, outbox ugc.Outbox, sink relay.Sink, logger *slog.Logger, m *metrics.Metrics) (*relay.Relay, error) {
	alert := func(err error) {
		if cfg.SentryDSN != "" {
			sentry.CaptureException(err)
		}
	}
	return relay.New(outbox, sink, cfg.Relay, logger, alert, m.Registry())
}

// runRelay is `ugc relay`: the relay on its own, for deployments that scale
// it apart from the API (run one per store). It serves /healthz and /metrics
// on UGC_HTTP_ADDR for probes and scraping, from before the store connects.
func runRelay(ctx context.Context, cfg config, stdout io.Writer) error {
	p, err := openProcess(cfg, stdout, true)
	if err != nil {
		return err
	}
	defer p.Close()

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.Handle("GET /metrics", p.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	p.logger.Info(fmt.Sprintf("relay listening on http://%s for /healthz and /metrics; connecting to the store (%s)", ln.Addr(), cfg.storeDesc()))
	if err := p.connect(ctx, cfg); err != nil {
		if ctx.Err() != nil {
			p.logger.Info("relay stopped before the store connected")
			return nil
		}
		return err
	}
	p.logger.Info(fmt.Sprintf("relay running: %s → clickhouse %v database %s; metrics on http://%s/metrics",
		cfg.storeDesc(), cfg.ClickHouse.Addr, cfg.ClickHouse.Database, ln.Addr()))
	err = p.relay.Run(ctx)
	p.logger.Info("relay stopped")
	return err
}
