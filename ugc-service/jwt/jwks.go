package jwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// JWKSOptions tunes how the key set is cached.
type JWKSOptions struct {
	// MaxAge is how long a fetched key set is trusted before the next token
	// triggers a refresh, so that revoked keys stop verifying. Default 15m.
	MaxAge time.Duration
	// MinRefresh bounds refreshes caused by unknown key ids, so that tokens
	// with made-up kids cannot make us hammer the Auth service. Default 30s.
	MinRefresh time.Duration
	// Client fetches the key set; default has a 5s timeout.
	Client *http.Client
}

// keySet caches the Auth service's public keys by key id.
type keySet struct {
	url  string
	opts JWKSOptions

	mu        sync.Mutex
	keys      map[string]crypto.PublicKey
	fetchedAt time.Time
	triedAt   time.Time
}

func newKeySet(url string, opts JWKSOptions) *keySet {
	if opts.MaxAge == 0 {
		opts.MaxAge = 15 * time.Minute
	}
	if opts.MinRefresh == 0 {
		opts.MinRefresh = 30 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 5 * time.Second}
	}
	return &keySet{url: url, opts: opts}
}

func (s *keySet) keyfunc(t *gojwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.lookup(kid)
	stale := time.Since(s.fetchedAt) > s.opts.MaxAge
	if (!ok || stale) && time.Since(s.triedAt) >= s.opts.MinRefresh {
		// Holding the lock while fetching makes concurrent requests wait for
		// one fetch instead of each starting their own.
		s.triedAt = time.Now()
		if err := s.refresh(); err != nil && !ok {
			return nil, err
		}
		key, ok = s.lookup(kid)
	}
	if !ok {
		return nil, fmt.Errorf("jwks: no key with id %q", kid)
	}
	return key, nil
}

// lookup finds the key for kid; a token without a kid is accepted only when
// the set has exactly one key, since there is then nothing to choose.
func (s *keySet) lookup(kid string) (crypto.PublicKey, bool) {
	if kid == "" && len(s.keys) == 1 {
		for _, k := range s.keys {
			return k, true
		}
	}
	k, ok := s.keys[kid]
	return k, ok
}

func (s *keySet) refresh() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("jwks: fetch: %w", err)
	}
	defer resp.Body.Close() // read-only body
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: fetch: status %d", resp.StatusCode)
	}
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&doc); err != nil {
		return fmt.Errorf("jwks: decode: %w", err)
	}
	keys := make(map[string]crypto.PublicKey, len(doc.Keys))
	for _, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := k.publicKey()
		if err != nil {
			continue // one odd key must not take the others down
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return errors.New("jwks: the key set has no usable signing key")
	}
	s.keys, s.fetchedAt = keys, time.Now()
	return nil
}

// jwk is one JSON Web Key (RFC 7517) of the kinds JWT signatures use.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func (k jwk) publicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		n, e := b64int(k.N), b64int(k.E)
		if n == nil || e == nil || !e.IsInt64() {
			return nil, errors.New("jwk: bad RSA key")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
		curve, ok := curves[k.Crv]
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if !ok || errX != nil || errY != nil {
			return nil, errors.New("jwk: bad EC key")
		}
		// JWK coordinates are fixed-length big-endian, so the uncompressed
		// SEC 1 point is just 0x04 followed by both; the parser checks the
		// point is on the curve.
		return ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
	case "OKP":
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("jwk: bad OKP key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("jwk: unsupported key type %q", k.Kty)
}

func b64int(s string) *big.Int {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil
	}
	return new(big.Int).SetBytes(b)
}
