package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.DataDir != "./data" || c.MongoDatabase != "ugc" ||
		c.StoreTimeout != 5*time.Second || c.LogLevel != slog.LevelInfo || c.SentrySampleRate != 1 {
		t.Fatalf("defaults = %+v", c)
	}
	if c.JWTMaxLifetime != 24*time.Hour || c.TrustedProxies != nil || c.CORSOrigins != nil ||
		c.UserWriteLimit.PerSecond != 5 || c.UserWriteLimit.Burst != 60 || c.SQLiteWALLimit != 256<<20 {
		t.Fatalf("hardening defaults = %+v", c)
	}
	if _, err := c.verifierConfig(); err == nil || !strings.Contains(err.Error(), "anonymously") {
		t.Fatalf("no JWT source accepted: %v", err)
	}
}

func TestConfigListsEveryProblem(t *testing.T) {
	_, err := loadConfig(env(map[string]string{
		"UGC_HTTP_ADDR": "8080", "UGC_PPROF_ADDR": "x", "UGC_MONGO_URI": "http://db", "UGC_LOG_LEVEL": "chatty",
		"UGC_STORE_TIMEOUT": "soon", "UGC_SHUTDOWN_TIMEOUT": "0s", "UGC_SENTRY_SAMPLE_RATE": "2",
		"UGC_SENTRY_DSN": "nope", "UGC_JWT_SECRET": "short",
		"UGC_CLICKHOUSE_ADDR": "ch:9000,nohost", "UGC_CLICKHOUSE_DATABASE": "ugc; DROP", "UGC_RELAY_BATCH_SIZE": "0",
		"UGC_RELAY_INTERVAL": "-1s", "UGC_OUTBOX_RETENTION_ALERT": "forever", "UGC_OUTBOX": "maybe",
		"UGC_JWT_MAX_LIFETIME": "1d", "UGC_JWT_JWKS_URL": "http://auth.example/jwks", "UGC_TRUSTED_PROXIES": "10.0.0.0/8, gateway",
		"UGC_CORS_ORIGINS": "https://www.example.com/app", "UGC_USER_WRITE_RATE": "-1", "UGC_USER_WRITE_BURST": "0",
		"UGC_SQLITE_WAL_LIMIT_MB": "0",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, v := range []string{
		"UGC_HTTP_ADDR", "UGC_PPROF_ADDR", "UGC_MONGO_URI", "UGC_LOG_LEVEL", "UGC_STORE_TIMEOUT",
		"UGC_SHUTDOWN_TIMEOUT", "UGC_SENTRY_SAMPLE_RATE", "UGC_SENTRY_DSN", "UGC_JWT_SECRET",
		"UGC_CLICKHOUSE_ADDR", "UGC_CLICKHOUSE_DATABASE", "UGC_RELAY_BATCH_SIZE", "UGC_RELAY_INTERVAL",
		"UGC_OUTBOX_RETENTION_ALERT", "UGC_OUTBOX:", "UGC_JWT_MAX_LIFETIME", "UGC_JWT_JWKS_URL", `"gateway"`,
		"UGC_CORS_ORIGINS", "UGC_USER_WRITE_RATE", "UGC_USER_WRITE_BURST", "UGC_SQLITE_WAL_LIMIT_MB",
	} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s:\n%v", v, err)
		}
	}
}

func TestConfigAnalytics(t *testing.T) {
	c, err := loadConfig(env(map[string]string{
		"UGC_CLICKHOUSE_ADDR": "ch-0:9000, ch-1:9000", "UGC_CLICKHOUSE_CLUSTER": "ugc", "UGC_RELAY_BATCH_SIZE": "200",
		"UGC_RELAY_INTERVAL": "2s", "UGC_OUTBOX_RETENTION_ALERT": "30m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	ch, r := c.ClickHouse, c.Relay
	if len(ch.Addr) != 2 || ch.Addr[1] != "ch-1:9000" || ch.Database != "ugc" || ch.User != "default" || ch.Cluster != "ugc" ||
		r.BatchSize != 200 || r.Interval != 2*time.Second || r.Retention != 30*time.Minute {
		t.Fatalf("analytics config = %+v %+v", ch, r)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Outbox {
		t.Error("ClickHouse configured, yet the outbox is off by default")
	}
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"UGC_OUTBOX": "on"}, true},
		{map[string]string{"UGC_CLICKHOUSE_DSN": "clickhouse://ch:9000/ugc", "UGC_OUTBOX": "off"}, false},
	} {
		c, err := loadConfig(env(tt.env))
		if err != nil || c.Outbox != tt.want {
			t.Errorf("%v: outbox %v (%v), want %v", tt.env, c.Outbox, err, tt.want)
		}
	}
}

func TestConfigClickHouseDSN(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"UGC_CLICKHOUSE_DSN": "clickhouse://relay:s3cret@ch-a:9000,ch-b:9000/analytics"}))
	if err != nil {
		t.Fatal(err)
	}
	ch := c.ClickHouse
	if len(ch.Addr) != 2 || ch.Addr[0] != "ch-a:9000" || ch.User != "relay" || ch.Password != "s3cret" || ch.Database != "analytics" {
		t.Fatalf("from the DSN: %+v", ch)
	}
	for _, bad := range []map[string]string{
		{"UGC_CLICKHOUSE_DSN": "clickhouse://h:9000/ugc", "UGC_CLICKHOUSE_ADDR": "h:9000"},
		{"UGC_CLICKHOUSE_DSN": "clickhouse://h:9000/bad-name"},
		{"UGC_CLICKHOUSE_DSN": "::not a url"},
	} {
		if _, err := loadConfig(env(bad)); err == nil || !strings.Contains(err.Error(), "UGC_CLICKHOUSE") {
			t.Errorf("%v accepted: %v", bad, err)
		}
	}
}

func TestVerifierConfigSources(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(key, []byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := "config-test-secret-0123456789abcdef"
	for _, c := range []struct {
		env map[string]string
		ok  bool
	}{
		{map[string]string{"UGC_JWT_SECRET": secret}, true},
		{map[string]string{"UGC_JWT_PUBLIC_KEY_FILE": key}, true},
		{map[string]string{"UGC_JWT_JWKS_URL": "https://auth.example/jwks"}, true},
		{map[string]string{"UGC_JWT_JWKS_URL": "ftp://auth.example/jwks"}, false},
		{map[string]string{"UGC_JWT_JWKS_URL": "http://auth.example/jwks"}, false},
		{map[string]string{"UGC_JWT_JWKS_URL": "http://127.0.0.1:9000/jwks"}, true},
		{map[string]string{"UGC_JWT_PUBLIC_KEY_FILE": key + ".missing"}, false},
		{map[string]string{"UGC_JWT_SECRET": secret, "UGC_JWT_JWKS_URL": "https://auth.example/jwks"}, false},
	} {
		cfg, err := loadConfig(env(c.env))
		if err == nil {
			_, err = cfg.verifierConfig()
		}
		if (err == nil) != c.ok {
			t.Errorf("%v: err = %v, want ok=%v", c.env, err, c.ok)
		}
	}
}

// secretFile writes content to a file of its own and returns the path.
func secretFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecretsFromFiles sets every secret through its _FILE variable, with
// the trailing newline of a file written by echo or an editor.
func TestSecretsFromFiles(t *testing.T) {
	jwtSecret := "file-secret-0123456789abcdefghijk"
	c, err := loadConfig(env(map[string]string{
		"UGC_MONGO_URI_FILE":           secretFile(t, "mongodb://ugc:pw@db:27017/?replicaSet=rs0\n"),
		"UGC_JWT_SECRET_FILE":          secretFile(t, jwtSecret+"\n"),
		"UGC_SENTRY_DSN_FILE":          secretFile(t, "https://key@sentry.example/1\n"),
		"UGC_CLICKHOUSE_PASSWORD_FILE": secretFile(t, "ch-pw\n"),
		"UGC_CLICKHOUSE_ADDR":          "ch:9000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MongoURI != "mongodb://ugc:pw@db:27017/?replicaSet=rs0" || c.JWTSecret != jwtSecret ||
		c.SentryDSN != "https://key@sentry.example/1" || c.ClickHouse.Password != "ch-pw" {
		t.Errorf("secrets from files: mongo %q, jwt %q, sentry %q, clickhouse password %q",
			c.MongoURI, c.JWTSecret, c.SentryDSN, c.ClickHouse.Password)
	}

	c, err = loadConfig(env(map[string]string{"UGC_CLICKHOUSE_DSN_FILE": secretFile(t, "clickhouse://relay:dsn-pw@ch:9000/analytics\n")}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClickHouse.User != "relay" || c.ClickHouse.Password != "dsn-pw" || c.ClickHouse.Database != "analytics" {
		t.Errorf("ClickHouse from a DSN file: %+v", c.ClickHouse)
	}

	lc, err := loadLoggingSetupConfig(env(map[string]string{
		"UGC_LOGGING_ES_URL": "https://es:9200", "UGC_LOGGING_PASSWORD_FILE": secretFile(t, "es-pw\n"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if lc.Target.Password != "es-pw" {
		t.Errorf("logging password from a file: %q", lc.Target.Password)
	}
}

// TestSecretFileTrimsOneNewline: only the line's end is dropped; whatever
// else the file holds, spaces and further newlines included, is the secret.
func TestSecretFileTrimsOneNewline(t *testing.T) {
	for content, want := range map[string]string{"pw": "pw", "pw\n": "pw", "pw\n\n": "pw\n", " pw \n": " pw "} {
		c, err := loadConfig(env(map[string]string{"UGC_CLICKHOUSE_PASSWORD_FILE": secretFile(t, content)}))
		if err != nil {
			t.Fatal(err)
		}
		if c.ClickHouse.Password != want {
			t.Errorf("file %q gave %q, want %q", content, c.ClickHouse.Password, want)
		}
	}
}

// TestSecretFileProblems: a secret set both ways, or a file that cannot be
// read, is reported in the one start-up list with the other problems, by
// variable and path and never by content.
func TestSecretFileProblems(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-secret")
	envSecret, fileSecret := "env-secret-0123456789abcdefghijkl", "file-secret-0123456789abcdefghijk"
	_, err := loadConfig(env(map[string]string{
		"UGC_JWT_SECRET":      envSecret,
		"UGC_JWT_SECRET_FILE": secretFile(t, fileSecret),
		"UGC_MONGO_URI_FILE":  missing,
		"UGC_HTTP_ADDR":       "8080",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{"UGC_JWT_SECRET and UGC_JWT_SECRET_FILE", "UGC_MONGO_URI_FILE", missing, "UGC_HTTP_ADDR"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, envSecret) || strings.Contains(msg, fileSecret) {
		t.Errorf("error shows a secret:\n%s", msg)
	}

	_, err = loadLoggingSetupConfig(env(map[string]string{"UGC_LOGGING_ES_URL": "https://es:9200", "UGC_LOGGING_PASSWORD_FILE": missing}))
	if err == nil || !strings.Contains(err.Error(), "UGC_LOGGING_PASSWORD_FILE") || !strings.Contains(err.Error(), missing) {
		t.Errorf("logging setup with an unreadable password file: %v", err)
	}
}

// TestJWTSecretMustBeRandom: a long secret that is not random (32 spaces,
// one letter repeated) passed the length check and is guessed at once.
func TestJWTSecretMustBeRandom(t *testing.T) {
	for _, c := range []struct {
		secret string
		ok     bool
	}{
		{strings.Repeat(" ", 32), false},
		{strings.Repeat("a", 64), false},
		{strings.Repeat("abab", 10), false},
		{"0123456789abcdef0123456789abcdef", true}, // hex: 16 distinct bytes
		{"ugcstack-development-secret-change-me-0001", true},
	} {
		_, err := loadConfig(env(map[string]string{"UGC_JWT_SECRET": c.secret}))
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), "UGC_JWT_SECRET")) {
			t.Errorf("secret %q: err %v, want ok=%v", c.secret, err, c.ok)
		}
	}
}
