package jwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/ugcstack/ugcstack/ugc-service/jwt"
)

// TestJWKSSkipsKeysItCannotUse: one malformed key used to fail the whole
// refresh, so a fresh pod refused every token. Now each bad key is left
// out, counted, and the others verify.
func TestJWKSSkipsKeysItCannotUse(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	offCurve := ecJWK("off-curve", &ecKey.PublicKey)
	offCurve["y"] = offCurve["x"] // (x, x) is not on P-256
	exponentOne := rsaJWK("e-one", &rsaKey.PublicKey)
	exponentOne["e"] = "AQ"
	badModulus := rsaJWK("bad-n", &rsaKey.PublicKey)
	badModulus["n"] = "!!not base64url!!"
	srv := &jwksServer{}
	srv.set(offCurve, rsaJWK("r1", &rsaKey.PublicKey), exponentOne, badModulus, ecJWK("e1", &ecKey.PublicKey))
	ts := httptest.NewServer(srv)
	defer ts.Close()

	var skipped atomic.Int32
	v, err := jwt.NewVerifier(jwt.Config{JWKSURL: ts.URL, JWKS: jwt.JWKSOptions{KeySkipped: func() { skipped.Add(1) }}})
	if err != nil {
		t.Fatal(err)
	}
	user := uuid.New()
	wantUser(t, v, sign(t, gojwt.SigningMethodRS256, rsaKey, claims(user.String(), time.Hour), map[string]any{"kid": "r1"}), user)
	wantUser(t, v, sign(t, gojwt.SigningMethodES256, ecKey, claims(user.String(), time.Hour), map[string]any{"kid": "e1"}), user)
	if n := skipped.Load(); n != 3 {
		t.Errorf("%d keys skipped, want the 3 malformed ones", n)
	}
	wantRejected(t, v, sign(t, gojwt.SigningMethodRS256, rsaKey, claims(user.String(), time.Hour), map[string]any{"kid": "e-one"}), "a skipped key's kid")
}

// TestJWKSRefusesRedirectsLeavingHTTPS: the https rule for the JWKS URL
// holds for where it redirects, or a plain-http server's keys would be
// trusted.
func TestJWKSRefusesRedirectsLeavingHTTPS(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	plain := &jwksServer{}
	plain.set(rsaJWK("r1", &rsaKey.PublicKey))
	plainTS := httptest.NewServer(plain)
	defer plainTS.Close()
	secure := &jwksServer{}
	secure.set(rsaJWK("r1", &rsaKey.PublicKey))
	mux := http.NewServeMux()
	mux.Handle("/keys", secure)
	mux.Handle("/to-https", http.RedirectHandler("/keys", http.StatusFound))
	mux.Handle("/to-http", http.RedirectHandler(plainTS.URL+"/keys", http.StatusFound))
	mux.Handle("/to-elsewhere", http.RedirectHandler("http://jwks.example.invalid/keys", http.StatusFound))
	tlsTS := httptest.NewTLSServer(mux)
	defer tlsTS.Close()

	user := uuid.New()
	token := sign(t, gojwt.SigningMethodRS256, rsaKey, claims(user.String(), time.Hour), map[string]any{"kid": "r1"})
	verifier := func(path string) *jwt.Verifier {
		v, err := jwt.NewVerifier(jwt.Config{JWKSURL: tlsTS.URL + path, JWKS: jwt.JWKSOptions{Client: tlsTS.Client()}})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	wantUser(t, verifier("/to-https"), token, user)
	wantRejected(t, verifier("/to-http"), token, "keys behind a redirect to plain http")
	wantRejected(t, verifier("/to-elsewhere"), token, "keys behind a redirect to plain http on another host")
	if n := plain.fetches.Load(); n != 0 {
		t.Errorf("the plain-http key set was fetched %d times", n)
	}
}
