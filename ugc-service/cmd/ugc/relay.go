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

// newRelay builds the relay from the store's outbox to the configured
// ClickHouse, and returns the sink for the caller to close. The sink
// connects on first use, so ClickHouse being down delays analytics (the
// relay retries with backoff) but never the caller.
func newRelay(cfg config, outbox ugc.Outbox, logger *slog.Logger, m *metrics.Metrics) (*relay.Relay, *clickhouse.Sink, error) {
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
	return r, sink, nil
}

// runRelay is `ugc relay`: the relay on its own, for deployments that scale
// it apart from the API (run one per store). It serves /healthz and /metrics
// on UGC_HTTP_ADDR for probes and scraping.
func runRelay(ctx context.Context, cfg config, stdout io.Writer) error {
	p, err := openProcess(ctx, cfg, stdout, true)
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

	p.logger.Info(fmt.Sprintf("relay running: %s → clickhouse %v database %s; metrics on http://%s/metrics",
		p.storeDesc, cfg.ClickHouse.Addr, cfg.ClickHouse.Database, ln.Addr()))
	err = p.relay.Run(ctx)
	p.logger.Info("relay stopped")
	return err
}
