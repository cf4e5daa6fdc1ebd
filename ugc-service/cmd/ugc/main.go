// Command ugc is the UGC service: it serves the API, mints development
// tokens, migrates the store and repairs derived counters. It reads its
// configuration from the environment (see config.go and the README).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	ugchttp "github.com/ugcstack/ugcstack/ugc-service/http"
	"github.com/ugcstack/ugcstack/ugc-service/jwt"
	"github.com/ugcstack/ugcstack/ugc-service/metrics"
	"github.com/ugcstack/ugcstack/ugc-service/mongo"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; otherwise the VCS revision.
var version = ""

const usage = `usage: ugc <command> [flags]

commands:
  serve [--relay]       serve the HTTP API (migrates the store first); --relay also
                        relays the store's events to ClickHouse in the same process
  relay                 relay the store's events to ClickHouse (UGC_CLICKHOUSE_ADDR)
  token --sub <uuid>    mint a development HS256 token with UGC_JWT_SECRET
  migrate               create the store's tables or collections and indexes
  reconcile-summaries   recompute derived counters from source rows and repair drift
  logging-setup         load the ILM policy, index template and Kibana saved objects (UGC_LOGGING_*)

Configuration comes from UGC_* environment variables; see README.md.`

// errNoCommand carries the usage text, which main prints on its own lines.
var errNoCommand = fmt.Errorf("no command given\n%s", usage)

func main() {
	tuneGC(os.Getenv)
	// A stdout whose reader went away must not kill the server: without
	// a SIGPIPE handler, Go exits on a write to a broken pipe on fd 1 or 2
	// (os/signal, "SIGPIPE"); with one the write fails with EPIPE, and the
	// log counts the lines it lost.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ugc:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errNoCommand
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, args[1:], stdout)
	case "relay":
		return runRelay(ctx, cfg, stdout)
	case "token":
		return token(cfg, args[1:], stdout)
	case "migrate":
		return withStore(ctx, cfg, func(ugc.Store) error { return nil })
	case "reconcile-summaries":
		return withStore(ctx, cfg, func(s ugc.Store) error {
			rep, err := s.ReconcileSummaries(ctx)
			if err != nil {
				return err
			}
			return json.NewEncoder(stdout).Encode(rep)
		})
	case "logging-setup":
		return loggingSetup(ctx, getenv, stdout)
	case "-h", "--help", "help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// storeDesc names the configured store in start-up lines and errors; never
// with the URI, which may hold a password.
func (c config) storeDesc() string {
	if c.MongoURI != "" {
		return "mongodb database " + c.MongoDatabase
	}
	return "sqlite in " + c.DataDir
}

// openStore opens and migrates the configured store: MongoDB when
// UGC_MONGO_URI is set, the embedded SQLite store otherwise.
func openStore(ctx context.Context, cfg config) (ugc.Store, error) {
	var (
		s   ugc.Store
		err error
	)
	if cfg.MongoURI != "" {
		opts := []mongo.Option{mongo.WithOpTimeout(cfg.StoreTimeout)}
		if !cfg.Outbox {
			opts = append(opts, mongo.WithoutEvents())
		}
		s, err = mongo.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, opts...)
	} else {
		opts := []sqlite.Option{sqlite.WithWALLimit(cfg.SQLiteWALLimit), sqlite.WithOpTimeout(cfg.StoreTimeout)}
		if !cfg.Outbox {
			opts = append(opts, sqlite.WithoutEvents())
		}
		s, err = sqlite.Open(ctx, cfg.DataDir, opts...)
	}

	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.storeDesc(), err)
	}
	if err := s.Migrate(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("migrate %s: %w", cfg.storeDesc(), err), s.Close())
	}
	return s, nil
}

func withStore(ctx context.Context, cfg config, fn func(ugc.Store) error) error {
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	return errors.Join(fn(s), s.Close())
}

func token(cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	sub := fs.String("sub", "", "the user's UUID (the token's subject)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	user, err := uuid.Parse(*sub)
	if err != nil {
		return errors.New("token: --sub must be a user UUID")
	}
	if cfg.JWTSecret == "" {
		return errors.New("token: UGC_JWT_SECRET must be set: only HS256 development tokens can be minted here")
	}
	t, err := jwt.Mint([]byte(cfg.JWTSecret), user, *ttl, cfg.JWTIssuer, cfg.JWTAudience)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, t)
	return err
}

func serve(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	withRelay := fs.Bool("relay", false, "also relay the store's events to ClickHouse (UGC_CLICKHOUSE_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *withRelay && !cfg.Outbox {
		return errors.New("serve --relay with UGC_OUTBOX=off: the store would record nothing to relay")
	}
	vcfg, err := cfg.verifierConfig()
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	release := releaseName()
	p, err := openProcess(cfg, stdout, *withRelay)
	if err != nil {
		return err
	}
	defer p.Close()
	logger, m := p.logger, p.metrics
	vcfg.JWKS.Context, vcfg.JWKS.Logger, vcfg.JWKS.KeySkipped = ctx, logger, m.JWKSKeySkipped
	verifier, err := jwt.NewVerifier(vcfg)
	if err != nil {
		return fmt.Errorf("UGC_JWT_*: %w", err)
	}
	api, err := ugchttp.NewServer(ugchttp.Config{
		Verifier:       verifier,
		Logger:         logger,
		Metrics:        m,
		Sentry:         cfg.SentryDSN != "",
		TrustedProxies: cfg.TrustedProxies,
		CORSOrigins:    cfg.CORSOrigins,
		UserWriteLimit: cfg.UserWriteLimit,
	})
	if err != nil {
		return fmt.Errorf("UGC_TRUSTED_PROXIES: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// A backstop twice the API's own limit, which answers with a
		// problem body; only headers past this get the server's plain text.
		MaxHeaderBytes: 2 * ugchttp.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// For the returns that skip the drain below, such as a store that fails
	// to open: the listener closes with the command, even run in-process.
	defer srv.Close()
	if cfg.PprofAddr != "" {
		// Profiles are served on their own listener, never on the API's
		// port, so that exposing the API cannot expose them.
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			psrv := &http.Server{Addr: cfg.PprofAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
			logger.Warn("pprof listener stopped", "error.message", psrv.ListenAndServe().Error())
		}()
	}

	// The API listens before the store connects, so that probes see a live
	// process that is not ready yet rather than one that keeps exiting.
	url := "http://" + ln.Addr().String()
	logger.Info(fmt.Sprintf("UGC API listening on %s; connecting to the store (%s)", url, cfg.storeDesc()), "url.full", url)
	err = p.connect(ctx, cfg)
	if err != nil && ctx.Err() == nil {
		return err
	}
	if err == nil {
		var observers []metrics.StoreObserver
		if cfg.SentryDSN != "" {
			observers = append(observers, ugchttp.StoreBreadcrumb)
		}
		if *withRelay {
			// The relay in this process hears of each write as it
			// commits, instead of polling for it.
			r := p.relay
			observers = append(observers, func(_ context.Context, op string, _ time.Duration, err error) {
				if err == nil && metrics.IsWrite(op) {
					r.Wake()
				}
			})
		}
		api.SetStore(m.InstrumentStore(p.store, observers...))
		if *withRelay {
			p.startRelay(ctx)
		}
		analytics := "off (no ClickHouse configured)"
		switch {
		case *withRelay:
			analytics = "relayed to ClickHouse by this process"
		case cfg.Outbox:
			analytics = "recorded in the outbox for `ugc relay`"
		}
		logger.Info(fmt.Sprintf("UGC API ready on %s (store: %s; analytics events: %s); get a token with: make token, or ugc token --sub <user-uuid>", url, cfg.storeDesc(), analytics),
			"url.full", url, "service.version", release)

		select {
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
		}
	}
	// SIGTERM, perhaps before the store connected: stop accepting and let
	// in-flight requests finish; p.Close then stops the relay and closes the
	// store once nothing uses them.
	logger.Info("shutting down: draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func releaseName() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "dev"
}
