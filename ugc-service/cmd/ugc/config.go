package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ugcstack/ugcstack/ugc-service/clickhouse"
	"github.com/ugcstack/ugcstack/ugc-service/ecslog"
	ugchttp "github.com/ugcstack/ugcstack/ugc-service/http"
	"github.com/ugcstack/ugcstack/ugc-service/jwt"
	"github.com/ugcstack/ugcstack/ugc-service/relay"
	"github.com/ugcstack/ugcstack/ugc-service/sqlite"
)

// config is everything the service reads from its environment. Each field's
// variable, default and meaning are listed in the README.
type config struct {
	HTTPAddr        string        // UGC_HTTP_ADDR
	PprofAddr       string        // UGC_PPROF_ADDR; set to serve net/http/pprof there
	MongoURI        string        // UGC_MONGO_URI; set means MongoDB is the store
	MongoDatabase   string        // UGC_MONGO_DATABASE
	DataDir         string        // UGC_DATA_DIR, the embedded store's directory
	SQLiteWALLimit  int64         // UGC_SQLITE_WAL_LIMIT_MB, in bytes
	StoreTimeout    time.Duration // UGC_STORE_TIMEOUT, per store call
	ShutdownTimeout time.Duration // UGC_SHUTDOWN_TIMEOUT, to drain requests on SIGTERM

	JWTSecret        string // UGC_JWT_SECRET (HS256)
	JWTPublicKeyFile string // UGC_JWT_PUBLIC_KEY_FILE (RS/PS/ES/EdDSA)
	JWTJWKSURL       string // UGC_JWT_JWKS_URL
	JWTIssuer        string // UGC_JWT_ISSUER
	JWTAudience      string // UGC_JWT_AUDIENCE
	// JWTMaxLifetime bounds a token's exp − iat (UGC_JWT_MAX_LIFETIME).
	JWTMaxLifetime time.Duration

	// TrustedProxies may name the client in X-Real-IP / X-Forwarded-For
	// (UGC_TRUSTED_PROXIES: addresses and CIDRs, comma-separated).
	TrustedProxies []string
	// CORSOrigins may call the API from browser scripts (UGC_CORS_ORIGINS).
	CORSOrigins []string
	// UserWriteLimit is UGC_USER_WRITE_RATE (writes/s, 0 = off) and
	// UGC_USER_WRITE_BURST.
	UserWriteLimit ugchttp.UserWriteLimit

	LogLevel          slog.Level // UGC_LOG_LEVEL
	SentryDSN         string     // UGC_SENTRY_DSN; empty disables Sentry
	SentryEnvironment string     // UGC_SENTRY_ENVIRONMENT
	SentrySampleRate  float64    // UGC_SENTRY_SAMPLE_RATE, share of error events sent

	ClickHouse clickhouse.Config // UGC_CLICKHOUSE_ADDR (comma-separated), _DATABASE, _USER, _PASSWORD, _CLUSTER, or _DSN
	Relay      relay.Config      // UGC_RELAY_BATCH_SIZE, UGC_RELAY_INTERVAL, UGC_OUTBOX_RETENTION_ALERT
	// Outbox records every change's event for the relay (UGC_OUTBOX, on or
	// off; on by default exactly when ClickHouse is configured), so that a
	// deployment without analytics keeps no queue that nothing drains.
	Outbox bool
}

// minSecretLen keeps HS256 secrets out of brute-force range (RFC 7518 asks
// for at least the hash size).
const minSecretLen = 32

// minSecretDistinct refuses secrets that are long but not random: 32
// spaces, or one character repeated, pass a length check and are guessed
// at once. A random hex secret has 16 distinct bytes, base64 more.
const minSecretDistinct = 8

func distinctBytes(s string) int {
	var seen [256]bool
	n := 0
	for i := range len(s) {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n
}

// loadConfig reads the environment through getenv and validates it, returning
// one error that lists every problem, so a misconfigured deployment is fixed
// in one round instead of one variable per restart.
func loadConfig(getenv func(string) string) (config, error) {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	str := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	secret := func(name string) string {
		v, err := secretFromEnv(getenv, name)
		if err != nil {
			problems = append(problems, err)
		}
		return v
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad("%s: want a positive duration such as 5s, got %q", name, v)
		}
		return d
	}

	c := config{
		HTTPAddr:          str("UGC_HTTP_ADDR", "127.0.0.1:8080"),
		PprofAddr:         getenv("UGC_PPROF_ADDR"),
		MongoURI:          secret("UGC_MONGO_URI"),
		MongoDatabase:     str("UGC_MONGO_DATABASE", "ugc"),
		DataDir:           str("UGC_DATA_DIR", "./data"),
		StoreTimeout:      dur("UGC_STORE_TIMEOUT", 5*time.Second),
		ShutdownTimeout:   dur("UGC_SHUTDOWN_TIMEOUT", 20*time.Second),
		JWTSecret:         secret("UGC_JWT_SECRET"),
		JWTPublicKeyFile:  getenv("UGC_JWT_PUBLIC_KEY_FILE"),
		JWTJWKSURL:        getenv("UGC_JWT_JWKS_URL"),
		JWTIssuer:         getenv("UGC_JWT_ISSUER"),
		JWTAudience:       getenv("UGC_JWT_AUDIENCE"),
		JWTMaxLifetime:    dur("UGC_JWT_MAX_LIFETIME", jwt.DefaultMaxLifetime),
		SentryDSN:         secret("UGC_SENTRY_DSN"),
		SentryEnvironment: str("UGC_SENTRY_ENVIRONMENT", "development"),
		SentrySampleRate:  1,
		ClickHouse: clickhouse.Config{
			Database: str("UGC_CLICKHOUSE_DATABASE", "ugc"),
			User:     str("UGC_CLICKHOUSE_USER", "default"),
			Password: secret("UGC_CLICKHOUSE_PASSWORD"),
			Cluster:  getenv("UGC_CLICKHOUSE_CLUSTER"),
		},
		Relay: relay.DefaultConfig,
	}
	c.Relay.Interval = dur("UGC_RELAY_INTERVAL", c.Relay.Interval)
	c.Relay.Retention = dur("UGC_OUTBOX_RETENTION_ALERT", c.Relay.Retention)
	c.UserWriteLimit = ugchttp.DefaultUserWriteLimit
	if v := getenv("UGC_USER_WRITE_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			bad("UGC_USER_WRITE_RATE: want writes per second per user, 0 for no limit, got %q", v)
		}
		c.UserWriteLimit.PerSecond = r
	}
	if v := getenv("UGC_USER_WRITE_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad("UGC_USER_WRITE_BURST: want a whole number from 1, got %q", v)
		}
		c.UserWriteLimit.Burst = n
	}
	c.SQLiteWALLimit = sqlite.DefaultWALLimit
	if v := getenv("UGC_SQLITE_WAL_LIMIT_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1<<20 {
			bad("UGC_SQLITE_WAL_LIMIT_MB: want a whole number of MiB from 1, got %q", v)
		}
		c.SQLiteWALLimit = int64(n) << 20
	}
	if v := getenv("UGC_RELAY_BATCH_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100_000 {
			bad("UGC_RELAY_BATCH_SIZE: want a whole number from 1 to 100000, got %q", v)
		}
		c.Relay.BatchSize = n
	}
	if v := getenv("UGC_CLICKHOUSE_ADDR"); v != "" {
		for _, a := range strings.Split(v, ",") {
			a = strings.TrimSpace(a)
			if _, _, err := net.SplitHostPort(a); err != nil {
				bad("UGC_CLICKHOUSE_ADDR: want host:port[,host:port...] of the native protocol, got %q", v)
				break
			}
			c.ClickHouse.Addr = append(c.ClickHouse.Addr, a)
		}
	}
	if dsn := secret("UGC_CLICKHOUSE_DSN"); dsn != "" {
		parsed, err := clickhouse.ParseDSN(dsn)
		switch {
		case err != nil:
			bad("UGC_CLICKHOUSE_DSN: want clickhouse://user:password@host:port/database: %v", err)
		case len(c.ClickHouse.Addr) > 0:
			bad("UGC_CLICKHOUSE_DSN: set it or UGC_CLICKHOUSE_ADDR, not both")
		default:
			parsed.Cluster = c.ClickHouse.Cluster
			c.ClickHouse = parsed
		}
	}
	switch v := getenv("UGC_OUTBOX"); v {
	case "":
		c.Outbox = len(c.ClickHouse.Addr) > 0
	case "on", "off":
		c.Outbox = v == "on"
	default:
		bad("UGC_OUTBOX: want on or off, got %q", v)
	}
	if err := (clickhouse.Schema{Database: c.ClickHouse.Database, Cluster: c.ClickHouse.Cluster}).Validate(); err != nil {
		bad("UGC_CLICKHOUSE_DATABASE / UGC_CLICKHOUSE_CLUSTER: %v", err)
	}

	for _, p := range list(getenv("UGC_TRUSTED_PROXIES")) {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			bad("UGC_TRUSTED_PROXIES: want addresses or CIDRs, comma-separated, got %q", p)
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	for _, o := range list(getenv("UGC_CORS_ORIGINS")) {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			bad("UGC_CORS_ORIGINS: want origins such as https://www.example.com, comma-separated, got %q", o)
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("UGC_HTTP_ADDR: want host:port, got %q", c.HTTPAddr)
	}
	if c.PprofAddr != "" {
		if _, _, err := net.SplitHostPort(c.PprofAddr); err != nil {
			bad("UGC_PPROF_ADDR: want host:port, got %q", c.PprofAddr)
		}
	}
	if c.MongoURI != "" {
		if u, err := url.Parse(c.MongoURI); err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
			bad("UGC_MONGO_URI: want a mongodb:// or mongodb+srv:// URI")
		}
	}
	level, err := ecslog.ParseLevel(str("UGC_LOG_LEVEL", "info"))
	if err != nil {
		bad("UGC_LOG_LEVEL: want debug, info, warn or error, got %q", getenv("UGC_LOG_LEVEL"))
	}
	c.LogLevel = level
	if v := getenv("UGC_SENTRY_SAMPLE_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			bad("UGC_SENTRY_SAMPLE_RATE: want a number from 0 to 1, got %q", v)
		}
		c.SentrySampleRate = r
	}
	if c.SentryDSN != "" {
		if u, err := url.Parse(c.SentryDSN); err != nil || u.Scheme == "" || u.Host == "" {
			bad("UGC_SENTRY_DSN: not a DSN URL")
		}
	}
	if c.JWTJWKSURL != "" {
		if err := jwt.CheckJWKSURL(c.JWTJWKSURL); err != nil {
			bad("UGC_JWT_JWKS_URL: %v", err)
		}
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < minSecretLen {
		bad("UGC_JWT_SECRET: must be at least %d bytes", minSecretLen)
	} else if n := distinctBytes(c.JWTSecret); c.JWTSecret != "" && n < minSecretDistinct {
		bad("UGC_JWT_SECRET: only %d distinct bytes: use a random secret (e.g. openssl rand -base64 48)", n)
	}
	return c, errors.Join(problems...)
}

// list splits a comma-separated setting, dropping blanks around items.
func list(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// secretFromEnv reads the secret setting name from the environment or, when
// name_FILE is set instead, from the file it names, which is how Kubernetes
// mounts a Secret without exposing it in the pod's environment. The file's
// one trailing newline, which editors and echo add, is not part of the
// value. Errors name the variables and the path, never the content.
func secretFromEnv(getenv func(string) string, name string) (string, error) {
	fileVar := name + "_FILE"
	value, path := getenv(name), getenv(fileVar)
	switch {
	case path == "":
		return value, nil
	case value != "":
		return "", fmt.Errorf("%s and %s: set one, not both", name, fileVar)
	}
	b, err := os.ReadFile(path) //nolint:gosec // G304: the path is the deployment's configuration, not request input
	if err != nil {
		return "", fmt.Errorf("%s: %w", fileVar, err) // an *fs.PathError, which names the path
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// verifierConfig turns the JWT settings into a verifier configuration. It
// fails when none or several key sources are set: serve never runs without
// authentication.
func (c config) verifierConfig() (jwt.Config, error) {
	vc := jwt.Config{
		Secret: []byte(c.JWTSecret), JWKSURL: c.JWTJWKSURL, Issuer: c.JWTIssuer, Audience: c.JWTAudience,
		MaxLifetime: c.JWTMaxLifetime,
	}
	sources := 0
	for _, v := range []string{c.JWTSecret, c.JWTPublicKeyFile, c.JWTJWKSURL} {
		if v != "" {
			sources++
		}
	}
	if sources != 1 {
		return vc, errors.New("set exactly one of UGC_JWT_SECRET, UGC_JWT_PUBLIC_KEY_FILE or UGC_JWT_JWKS_URL: the API does not serve anonymously")
	}
	if c.JWTPublicKeyFile != "" {
		pem, err := os.ReadFile(c.JWTPublicKeyFile)
		if err != nil {
			return vc, fmt.Errorf("UGC_JWT_PUBLIC_KEY_FILE: %w", err)
		}
		vc.PublicKeyPEM = pem
	}
	return vc, nil
}
