package jwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/jwt"
)

var secret = []byte("a-development-secret-of-32-bytes!")

func sign(t *testing.T, m gojwt.SigningMethod, key any, claims gojwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := gojwt.NewWithClaims(m, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(sub string, exp time.Duration) gojwt.MapClaims {
	return gojwt.MapClaims{"sub": sub, "exp": time.Now().Add(exp).Unix(), "iss": "auth", "aud": "ugc"}
}

// with returns c with one claim replaced.
func with(c gojwt.MapClaims, name string, v any) gojwt.MapClaims {
	c[name] = v
	return c
}

func wantUser(t *testing.T, v *jwt.Verifier, token string, want uuid.UUID) {
	t.Helper()
	got, err := v.Verify(token)
	if err != nil || got != want {
		t.Fatalf("Verify = %s, %v; want %s", got, err, want)
	}
}

func wantRejected(t *testing.T, v *jwt.Verifier, token, why string) {
	t.Helper()
	_, err := v.Verify(token)
	if ugc.ErrorCode(err) != ugc.EUNAUTHORIZED {
		t.Fatalf("%s: Verify error = %v, want EUNAUTHORIZED", why, err)
	}
	if !strings.Contains(ugc.ErrorMessage(err), "invalid token") {
		t.Fatalf("%s: message %q", why, ugc.ErrorMessage(err))
	}
}

func TestHS256(t *testing.T) {
	v, err := jwt.NewVerifier(jwt.Config{Secret: secret, Issuer: "auth", Audience: "ugc"})
	if err != nil {
		t.Fatal(err)
	}
	user := uuid.New()
	wantUser(t, v, sign(t, gojwt.SigningMethodHS256, secret, claims(user.String(), time.Hour), nil), user)

	minted, err := jwt.Mint(secret, user, time.Hour, "auth", "ugc")
	if err != nil {
		t.Fatal(err)
	}
	wantUser(t, v, minted, user)

	noExp := claims(user.String(), time.Hour)
	delete(noExp, "exp")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for why, token := range map[string]string{
		"empty":          "",
		"garbage":        "not.a.token",
		"expired":        sign(t, gojwt.SigningMethodHS256, secret, claims(user.String(), -time.Hour), nil),
		"no exp":         sign(t, gojwt.SigningMethodHS256, secret, noExp, nil),
		"wrong secret":   sign(t, gojwt.SigningMethodHS256, []byte("another-secret-another-secret!!!"), claims(user.String(), time.Hour), nil),
		"HS512":          sign(t, gojwt.SigningMethodHS512, secret, claims(user.String(), time.Hour), nil),
		"RS256":          sign(t, gojwt.SigningMethodRS256, rsaKey, claims(user.String(), time.Hour), nil),
		"alg none":       sign(t, gojwt.SigningMethodNone, gojwt.UnsafeAllowNoneSignatureType, claims(user.String(), time.Hour), nil),
		"sub not uuid":   sign(t, gojwt.SigningMethodHS256, secret, claims("alice", time.Hour), nil),
		"wrong issuer":   sign(t, gojwt.SigningMethodHS256, secret, gojwt.MapClaims{"sub": user.String(), "exp": time.Now().Add(time.Hour).Unix(), "iss": "evil", "aud": "ugc"}, nil),
		"wrong audience": sign(t, gojwt.SigningMethodHS256, secret, gojwt.MapClaims{"sub": user.String(), "exp": time.Now().Add(time.Hour).Unix(), "iss": "auth", "aud": "billing"}, nil),
		"iat in future":  sign(t, gojwt.SigningMethodHS256, secret, with(claims(user.String(), time.Hour), "iat", time.Now().Add(10*time.Minute).Unix()), nil),
		"exp string":     sign(t, gojwt.SigningMethodHS256, secret, with(claims(user.String(), time.Hour), "exp", "9999999999"), nil),
		"iat string":     sign(t, gojwt.SigningMethodHS256, secret, with(claims(user.String(), time.Hour), "iat", strconv.FormatInt(time.Now().Unix(), 10)), nil),
		"lifetime 2d":    sign(t, gojwt.SigningMethodHS256, secret, claims(user.String(), 48*time.Hour), nil),
		"lifetime 2d from old iat": sign(t, gojwt.SigningMethodHS256, secret,
			with(claims(user.String(), time.Hour), "iat", time.Now().Add(-47*time.Hour).Unix()), nil),
		"crit header":        sign(t, gojwt.SigningMethodHS256, secret, claims(user.String(), time.Hour), map[string]any{"crit": []string{"exp"}}),
		"sub upper case":     sign(t, gojwt.SigningMethodHS256, secret, claims(strings.ToUpper(user.String()), time.Hour), nil),
		"sub urn":            sign(t, gojwt.SigningMethodHS256, secret, claims("urn:uuid:"+user.String(), time.Hour), nil),
		"sub braces":         sign(t, gojwt.SigningMethodHS256, secret, claims("{"+user.String()+"}", time.Hour), nil),
		"sub without dashes": sign(t, gojwt.SigningMethodHS256, secret, claims(strings.ReplaceAll(user.String(), "-", ""), time.Hour), nil),
		"sub nil UUID":       sign(t, gojwt.SigningMethodHS256, secret, claims(uuid.Nil.String(), time.Hour), nil),
	} {
		wantRejected(t, v, token, why)
	}
	// Tampering with the payload breaks the signature.
	good := sign(t, gojwt.SigningMethodHS256, secret, claims(user.String(), time.Hour), nil)
	parts := strings.Split(good, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"` + uuid.NewString() + `","exp":9999999999,"iss":"auth","aud":"ugc"}`))
	wantRejected(t, v, strings.Join(parts, "."), "tampered payload")
}

func TestConfigNeedsExactlyOneKeySource(t *testing.T) {
	for _, cfg := range []jwt.Config{{}, {Secret: secret, JWKSURL: "http://127.0.0.1:1/jwks"}} {
		if _, err := jwt.NewVerifier(cfg); err == nil {
			t.Errorf("NewVerifier(%+v) accepted", cfg)
		}
	}
	if _, err := jwt.NewVerifier(jwt.Config{PublicKeyPEM: []byte("not pem")}); err == nil {
		t.Error("a file with no PEM block was accepted")
	}
	if _, err := jwt.Mint(nil, uuid.New(), time.Hour, "", ""); err == nil {
		t.Error("minting without a secret worked")
	}
}

func TestPublicKeyPEM(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	user := uuid.New()
	for name, block := range map[string]*pem.Block{
		"PKIX":   {Type: "PUBLIC KEY", Bytes: der},
		"PKCS#1": {Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)},
	} {
		v, err := jwt.NewVerifier(jwt.Config{PublicKeyPEM: pem.EncodeToMemory(block)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantUser(t, v, sign(t, gojwt.SigningMethodRS256, key, claims(user.String(), time.Hour), nil), user)
		wantUser(t, v, sign(t, gojwt.SigningMethodPS384, key, claims(user.String(), time.Hour), nil), user)
		// Algorithm confusion: an HMAC keyed with the public key's bytes.
		wantRejected(t, v, sign(t, gojwt.SigningMethodHS256, pem.EncodeToMemory(block), claims(user.String(), time.Hour), nil), name+" HS256 with public key")
	}
}

// jwksServer serves whatever key set the test puts in it and counts fetches.
type jwksServer struct {
	mu      sync.Mutex
	keys    []map[string]string
	fetches atomic.Int32
}

func (s *jwksServer) set(keys ...map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.fetches.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]string {
	raw, _ := k.Bytes() // 0x04 || X || Y, each fixed-length
	n := (len(raw) - 1) / 2
	return map[string]string{"kty": "EC", "kid": kid, "crv": k.Params().Name, "x": b64(raw[1 : 1+n]), "y": b64(raw[1+n:])}
}

func TestJWKS(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := &jwksServer{}
	encKey := rsaJWK("enc", &rsaKey.PublicKey)
	encKey["use"] = "enc"
	srv.set(rsaJWK("r1", &rsaKey.PublicKey), encKey)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	v, err := jwt.NewVerifier(jwt.Config{JWKSURL: ts.URL, JWKS: jwt.JWKSOptions{MinRefresh: time.Nanosecond}})
	if err != nil {
		t.Fatal(err)
	}
	user := uuid.New()
	signWith := func(m gojwt.SigningMethod, key crypto.Signer, kid string) string {
		return sign(t, m, key, claims(user.String(), time.Hour), map[string]any{"kid": kid})
	}
	wantUser(t, v, signWith(gojwt.SigningMethodRS256, rsaKey, "r1"), user)
	wantUser(t, v, signWith(gojwt.SigningMethodRS256, rsaKey, "r1"), user)
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("key set fetched %d times for two tokens, want 1 (cached)", n)
	}
	// A token without a kid is tried against the signing keys.
	wantUser(t, v, sign(t, gojwt.SigningMethodRS256, rsaKey, claims(user.String(), time.Hour), nil), user)
	// A key published for encryption verifies nothing.
	wantRejected(t, v, signWith(gojwt.SigningMethodRS256, rsaKey, "enc"), "encryption key")

	// Key rotation: a token with a new kid is refused at once and makes the
	// verifier refetch in the background.
	wantRejected(t, v, signWith(gojwt.SigningMethodES256, ecKey, "e1"), "kid not published yet")
	srv.set(rsaJWK("r1", &rsaKey.PublicKey), ecJWK("e1", &ecKey.PublicKey))
	eventuallyUser(t, v, signWith(gojwt.SigningMethodES256, ecKey, "e1"), user)
	// A key used with the wrong kid does not verify.
	wantRejected(t, v, signWith(gojwt.SigningMethodES256, ecKey, "r1"), "EC signature under an RSA kid")
}

func TestJWKSRefreshIsRateLimited(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := &jwksServer{}
	srv.set(rsaJWK("r1", &rsaKey.PublicKey))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	v, err := jwt.NewVerifier(jwt.Config{JWKSURL: ts.URL, JWKS: jwt.JWKSOptions{MinRefresh: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		wantRejected(t, v, sign(t, gojwt.SigningMethodRS256, rsaKey, claims(uuid.NewString(), time.Hour), map[string]any{"kid": "made-up-" + string(rune('a'+i))}), "unknown kid")
	}
	// The first fetch at start, then one refetch for the first unknown kid.
	time.Sleep(100 * time.Millisecond) // let a (wrong) second refetch show
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("20 unknown kids caused %d fetches, want 2 (start + one refetch)", n)
	}
}

// eventuallyUser retries Verify while the key set refreshes in the background.
func eventuallyUser(t *testing.T, v *jwt.Verifier, token string, want uuid.UUID) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := v.Verify(token)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Verify = %s, %v; want %s within 10s", got, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestJWKSNeverBlocksVerification: while the Auth service hangs, tokens with
// a known kid verify and tokens with an unknown kid are refused, both without
// waiting for it. The hand-written cache held its lock during the refetch,
// so one forged kid stalled every request for the fetch timeout.
func TestJWKSNeverBlocksVerification(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := &jwksServer{}
	srv.set(rsaJWK("r1", &rsaKey.PublicKey))
	release := make(chan struct{})
	var hung atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if srv.fetches.Load() > 0 { // every fetch after the first hangs
			hung.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	defer close(release)
	v, err := jwt.NewVerifier(jwt.Config{JWKSURL: ts.URL, JWKS: jwt.JWKSOptions{MinRefresh: time.Nanosecond}})
	if err != nil {
		t.Fatal(err)
	}
	user := uuid.New()
	good := sign(t, gojwt.SigningMethodRS256, rsaKey, claims(user.String(), time.Hour), map[string]any{"kid": "r1"})
	forged := sign(t, gojwt.SigningMethodRS256, rsaKey, claims(user.String(), time.Hour), map[string]any{"kid": "forged"})

	// A forged kid starts a refetch, which hangs.
	go func() { _, _ = v.Verify(forged) }()
	for deadline := time.Now().Add(10 * time.Second); hung.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no refetch reached the server")
		}
	}
	type outcome struct {
		forged, good error
		user         uuid.UUID
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		for range 50 {
			if _, err := v.Verify(forged); err == nil {
				o.forged = errors.New("forged kid accepted")
			}
			if o.user, o.good = v.Verify(good); o.good != nil {
				break
			}
		}
		done <- o
	}()
	select {
	case o := <-done:
		if o.forged != nil || o.good != nil || o.user != user {
			t.Fatalf("while the key-set server hung: %+v", o)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("verification waited for the hung key-set server")
	}
}

func TestJWKSURLMustBeHTTPSOffLoopback(t *testing.T) {
	for _, u := range []string{"http://auth.example.com/jwks", "http://10.0.0.1/jwks", "ftp://127.0.0.1/jwks", "/jwks"} {
		if _, err := jwt.NewVerifier(jwt.Config{JWKSURL: u}); err == nil {
			t.Errorf("JWKS URL %q accepted", u)
		}
	}
}

func TestMaxLifetimeIsConfigurable(t *testing.T) {
	v, err := jwt.NewVerifier(jwt.Config{Secret: secret, MaxLifetime: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	user := uuid.New()
	wantUser(t, v, sign(t, gojwt.SigningMethodHS256, secret, claims(user.String(), 48*time.Hour), nil), user)
	wantRejected(t, v, sign(t, gojwt.SigningMethodHS256, secret, claims(user.String(), 73*time.Hour), nil), "over 72h")
}
