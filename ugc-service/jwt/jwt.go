// Package jwt verifies the bearer tokens that the movie service's Auth service
// issues, and mints development tokens. A token's "sub" is the user's UUID.
package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// Leeway absorbs clock skew between the Auth service and this one.
const Leeway = 30 * time.Second

// DefaultMaxLifetime is the longest a token may be valid for, from its iat
// (or from now, without one) to its exp, unless Config says otherwise.
// Access tokens live minutes; a token valid for longer is a leaked
// long-lived credential or a forger's.
const DefaultMaxLifetime = 24 * time.Hour

// Config selects exactly one key source. Issuer and Audience, when set, must
// match the token's claims.
type Config struct {
	Secret       []byte // HS256 shared secret
	PublicKeyPEM []byte // RSA, ECDSA or Ed25519 public key (PKIX, PKCS#1 or certificate)
	JWKSURL      string // the Auth service's JSON Web Key Set
	Issuer       string
	Audience     string
	// MaxLifetime bounds exp − iat; zero takes DefaultMaxLifetime.
	MaxLifetime time.Duration
	// JWKS tunes the key-set cache; zero values take the defaults.
	JWKS JWKSOptions
}

// Verifier checks tokens and yields the user they were issued to.
type Verifier struct {
	parser      *gojwt.Parser
	keyfunc     gojwt.Keyfunc
	maxLifetime time.Duration
}

// Rules golang-jwt does not apply itself.
var (
	// RFC 7515 §4.1.11: a recipient must refuse a token whose "crit" names
	// an extension it does not understand; we understand none.
	errCritical = errors.New("critical header extensions are not supported")
	// RFC 7519 §2 makes exp, iat and nbf NumericDates: JSON numbers.
	// golang-jwt also reads a numeric string such as "9999999999".
	errTimeNotNumber = errors.New("exp, iat and nbf must be JSON numbers")
	errTooLong       = errors.New("lifetime exceeds the maximum")
)

// NewVerifier builds a verifier from cfg. It fails when not exactly one key
// source is set, or when the key cannot be parsed.
func NewVerifier(cfg Config) (*Verifier, error) {
	sources := 0
	for _, set := range []bool{len(cfg.Secret) > 0, len(cfg.PublicKeyPEM) > 0, cfg.JWKSURL != ""} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return nil, errors.New("jwt: exactly one of a secret, a public key or a JWKS URL must be configured")
	}

	var methods []string
	var keyfunc gojwt.Keyfunc
	switch {
	case len(cfg.Secret) > 0:
		methods = []string{gojwt.SigningMethodHS256.Alg()}
		keyfunc = func(*gojwt.Token) (any, error) { return cfg.Secret, nil }
	case len(cfg.PublicKeyPEM) > 0:
		key, err := parsePublicKey(cfg.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		methods = methodsFor(key)
		keyfunc = func(*gojwt.Token) (any, error) { return key, nil }
	default:
		set, err := newKeySet(cfg.JWKSURL, cfg.JWKS)
		if err != nil {
			return nil, err
		}
		if keyfunc, err = set.keyfunc(); err != nil {
			return nil, err
		}
		// Every asymmetric algorithm is allowed; the key set pins each key's
		// type, and a key only verifies signatures of its own kind.
		methods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	}

	opts := []gojwt.ParserOption{
		gojwt.WithValidMethods(methods), // refuses "none" and algorithm confusion
		gojwt.WithExpirationRequired(),
		gojwt.WithIssuedAt(), // an iat in the future is refused
		gojwt.WithLeeway(Leeway),
		// Nonzero unused bits in a segment's last character would give one
		// signature several spellings that all verify.
		gojwt.WithStrictDecoding(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, gojwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, gojwt.WithAudience(cfg.Audience))
	}
	maxLifetime := cfg.MaxLifetime
	if maxLifetime == 0 {
		maxLifetime = DefaultMaxLifetime
	}
	return &Verifier{parser: gojwt.NewParser(opts...), keyfunc: refuseCritical(keyfunc), maxLifetime: maxLifetime}, nil
}

// refuseCritical refuses any token with a "crit" header before its key is
// even looked up.
func refuseCritical(kf gojwt.Keyfunc) gojwt.Keyfunc {
	return func(t *gojwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errCritical
		}
		return kf(t)
	}
}

// claims are the registered claims, decoded so that the time claims must be
// JSON numbers.
type claims struct{ gojwt.RegisteredClaims }

func (c *claims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, name := range []string{"exp", "iat", "nbf"} {
		if v, ok := raw[name]; ok && (len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9'))) {
			return errTimeNotNumber
		}
	}
	return json.Unmarshal(b, &c.RegisteredClaims)
}

// Verify checks the token's signature and claims and returns its subject.
// Every failure is EUNAUTHORIZED with a message that says what was wrong but
// nothing about the keys.
func (v *Verifier) Verify(token string) (uuid.UUID, error) {
	// encoding/base64 skips CR and LF even when strict, so a token with line
	// breaks is another spelling of the same signature.
	if strings.ContainsAny(token, "\r\n") {
		return uuid.Nil, ugc.Errorf(ugc.EUNAUTHORIZED, "invalid token: %s", reason(gojwt.ErrTokenMalformed))
	}
	var c claims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyfunc); err != nil {
		return uuid.Nil, ugc.Errorf(ugc.EUNAUTHORIZED, "invalid token: %s", reason(err))
	}
	start := time.Now()
	if c.IssuedAt != nil {
		start = c.IssuedAt.Time
	}
	if c.ExpiresAt.Sub(start) > v.maxLifetime {
		return uuid.Nil, ugc.Errorf(ugc.EUNAUTHORIZED, "invalid token: %s", reason(errTooLong))
	}
	sub, err := uuid.Parse(c.Subject)
	// One user, one spelling: uuid.Parse also reads upper case, braces,
	// "urn:uuid:" and hex without hyphens, which would give a user several
	// subjects that compare unequal wherever sub is used as a string.
	if err != nil || c.Subject != sub.String() {
		return uuid.Nil, ugc.Errorf(ugc.EUNAUTHORIZED, "invalid token: sub must be a user UUID in canonical form (lower-case, hyphenated)")
	}
	// The nil UUID names nobody: the Auth service never issues it, and it
	// is what a zero value looks like wherever a user id went missing.
	if sub == uuid.Nil {
		return uuid.Nil, ugc.Errorf(ugc.EUNAUTHORIZED, "invalid token: sub is the nil UUID, which names no user")
	}
	return sub, nil
}

// reason names the broken rule without echoing library internals.
func reason(err error) string {
	switch {
	case errors.Is(err, errCritical), errors.Is(err, errTimeNotNumber):
		return err.Error()
	case errors.Is(err, errTooLong):
		return "lifetime (exp − iat) exceeds the maximum"
	case errors.Is(err, gojwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, gojwt.ErrTokenSignatureInvalid), errors.Is(err, gojwt.ErrTokenUnverifiable):
		return "signature or algorithm not accepted"
	case errors.Is(err, gojwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, gojwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing"
	case errors.Is(err, gojwt.ErrTokenNotValidYet), errors.Is(err, gojwt.ErrTokenUsedBeforeIssued):
		return "not valid yet"
	case errors.Is(err, gojwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, gojwt.ErrTokenInvalidAudience):
		return "wrong audience"
	default:
		return "rejected"
	}
}

// Mint signs an HS256 token for sub that expires after ttl. It exists for
// development and tests: in production the Auth service issues tokens.
func Mint(secret []byte, sub uuid.UUID, ttl time.Duration, issuer, audience string) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("jwt: minting needs a secret")
	}
	now := time.Now()
	claims := gojwt.RegisteredClaims{
		Subject:   sub.String(),
		Issuer:    issuer,
		IssuedAt:  gojwt.NewNumericDate(now),
		ExpiresAt: gojwt.NewNumericDate(now.Add(ttl)),
	}
	if audience != "" {
		claims.Audience = gojwt.ClaimStrings{audience}
	}
	s, err := gojwt.NewWithClaims(gojwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("jwt: sign: %w", err)
	}
	return s, nil
}

// parsePublicKey reads the first PEM block as a PKIX key, a PKCS#1 RSA key or
// a certificate, whichever the Auth service's operators happened to export.
func parsePublicKey(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("jwt: public key file holds no PEM block")
	}
	var key crypto.PublicKey
	var err error
	switch block.Type {
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("jwt: parse public key: %w", err)
	}
	if methodsFor(key) == nil {
		return nil, fmt.Errorf("jwt: unsupported public key type %T", key)
	}
	return key, nil
}

// methodsFor lists the signing algorithms a key may verify, so that a token
// cannot pick an algorithm of another family for the same key bytes.
func methodsFor(key crypto.PublicKey) []string {
	switch key.(type) {
	case *rsa.PublicKey:
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PublicKey:
		return []string{"ES256", "ES384", "ES512"}
	case ed25519.PublicKey:
		return []string{"EdDSA"}
	}
	return nil
}
