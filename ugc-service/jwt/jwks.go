package jwt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	gojwt "github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// JWKSOptions tunes how the key set is cached.
type JWKSOptions struct {
	// MaxAge is how often the key set is refetched in the background, so
	// that revoked keys stop verifying. Default 15m.
	MaxAge time.Duration
	// MinRefresh bounds refetches caused by unknown key ids, so that tokens
	// with made-up kids cannot make us hammer the Auth service. Default 30s.
	MinRefresh time.Duration
	// Client fetches the key set; default has a 5s timeout.
	Client *http.Client
	// Context ends the background refreshes; default: they run for the
	// life of the process.
	Context context.Context
	// Logger receives failed refreshes and skipped keys; default
	// slog.Default().
	Logger *slog.Logger
	// KeySkipped, if set, is called for each key of a fetched set that
	// cannot verify anything and is left out (the rest of the set is used).
	KeySkipped func()
}

// fetchTimeout bounds one fetch of the key set, which never happens on a
// request's path.
const fetchTimeout = 5 * time.Second

// keySet is the Auth service's key set in jwkset's cache, which refetches it
// every MaxAge in the background. Verification only ever reads the cache: a
// token whose kid is not there is refused at once and, at most once per
// MinRefresh, starts a background refetch for the kid a key rotation may
// just have published. So no token, forged or not, ever waits on the
// network, and none can make other requests wait either.
type keySet struct {
	jwkset.Storage // the cache, read without network access
	// refetcher refreshes the same cache when asked for a kid it lacks.
	refetcher jwkset.Storage
	limiter   *rate.Limiter
	ctx       context.Context
}

// newKeySet fetches the key set once (a failure is logged, not fatal: the
// Auth service may start after us, and the next refresh retries) and starts
// the background refresh.
func newKeySet(rawURL string, opts JWKSOptions) (*keySet, error) {
	if err := CheckJWKSURL(rawURL); err != nil {
		return nil, err
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = 15 * time.Minute
	}
	if opts.MinRefresh == 0 {
		opts.MinRefresh = 30 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: fetchTimeout}
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	// A copy: the caller's client keeps its own transport and redirect rule.
	client := *opts.Client
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = keyFilter{base: base, logger: opts.Logger, skipped: opts.KeySkipped}
	client.CheckRedirect = refuseInsecureRedirects
	opts.Client = &client
	cache, err := jwkset.NewStorageFromHTTP(rawURL, jwkset.HTTPClientStorageOptions{
		Client:                    opts.Client,
		Ctx:                       opts.Context,
		HTTPTimeout:               fetchTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshInterval:           opts.MaxAge,
		RefreshErrorHandler: func(ctx context.Context, err error) {
			opts.Logger.WarnContext(ctx, "JWKS refresh failed; verifying with the keys already cached", "url.full", rawURL, "error.message", err.Error())
		},
	})
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	refetcher, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{rawURL: cache},
		// The limiter that matters is keySet's, which never waits; this one
		// must let every refetch keySet starts through.
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return &keySet{
		Storage:   cache,
		refetcher: refetcher,
		limiter:   rate.NewLimiter(rate.Every(opts.MinRefresh), 1),
		ctx:       opts.Context,
	}, nil
}

// KeyRead returns the cached key for kid, never waiting on the network; a
// miss may start a background refetch.
func (s *keySet) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	k, err := s.Storage.KeyRead(ctx, kid)
	if errors.Is(err, jwkset.ErrKeyNotFound) && s.limiter.Allow() {
		go func() { _, _ = s.refetcher.KeyRead(s.ctx, kid) }() // failures reach RefreshErrorHandler
	}
	return k, err
}

// keyfunc verifies with the cached keys. A token without a kid is tried
// against every key; each key only verifies signatures of its own family.
func (s *keySet) keyfunc() (gojwt.Keyfunc, error) {
	kf, err := keyfunc.New(keyfunc.Options{
		Ctx:     s.ctx,
		Storage: s,
		// A key published for encryption never verifies a signature.
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return kf.Keyfunc, nil
}

// CheckJWKSURL accepts https, and plain http only to a loopback address,
// where nobody between us and the Auth service could swap the keys.
func CheckJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("jwks: %q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if u.Hostname() == "localhost" {
			return nil
		}
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("jwks: %q: plain http is accepted only on loopback; anyone on the path could replace the keys", raw)
	}
	return fmt.Errorf("jwks: %q: want an https URL", raw)
}
