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
	"math/big"
	"net/http"
	"net/http/httptest"
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
	srv.set(rsaJWK("r1", &rsaKey.PublicKey), map[string]string{"kty": "oct", "kid": "junk"})
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
	// The only key also serves tokens without a kid.
	wantUser(t, v, sign(t, gojwt.SigningMethodRS256, rsaKey, claims(user.String(), time.Hour), nil), user)

	// Key rotation: a token with a new kid makes the verifier refetch.
	wantRejected(t, v, signWith(gojwt.SigningMethodES256, ecKey, "e1"), "kid not published yet")
	srv.set(rsaJWK("r1", &rsaKey.PublicKey), ecJWK("e1", &ecKey.PublicKey))
	wantUser(t, v, signWith(gojwt.SigningMethodES256, ecKey, "e1"), user)
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
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("unknown kids caused %d fetches, want 1", n)
	}
}
