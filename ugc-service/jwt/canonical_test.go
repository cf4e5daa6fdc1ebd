package jwt_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/jwt"
)

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// respellings lists the other spellings of a base64url segment that a lax
// decoder reads as the same bytes. A segment of length 2 or 3 mod 4 ends in a
// character whose low 4 or 2 bits encode nothing.
func respellings(seg string) []string {
	unused := map[int]int{2: 4, 3: 2}[len(seg)%4]
	last := strings.IndexByte(base64URLAlphabet, seg[len(seg)-1])
	var out []string
	for low := range 1 << unused {
		if c := last&^(1<<unused-1) | low; c != last {
			out = append(out, seg[:len(seg)-1]+base64URLAlphabet[c:c+1])
		}
	}
	return out
}

// oddSegment encodes v as JSON whose length is not a multiple of 3, so that
// its segment has unused bits to flip; trailing whitespace is valid JSON.
func oddSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%3 == 0 {
		b = append(b, ' ')
	}
	return b64(b)
}

// signHS256 signs header.payload exactly as spelled, so that a test can hand
// the verifier an odd spelling that nevertheless carries a valid signature.
func signHS256(t *testing.T, header, payload string) string {
	t.Helper()
	sig, err := gojwt.SigningMethodHS256.Sign(header+"."+payload, secret)
	if err != nil {
		t.Fatal(err)
	}
	return header + "." + payload + "." + b64(sig)
}

func wantMalformed(t *testing.T, v *jwt.Verifier, token, why string) {
	t.Helper()
	_, err := v.Verify(token)
	if ugc.ErrorCode(err) != ugc.EUNAUTHORIZED || ugc.ErrorMessage(err) != "invalid token: malformed" {
		t.Fatalf("%s: Verify error = %v, want EUNAUTHORIZED invalid token: malformed", why, err)
	}
}

// TestOneSpellingPerToken checks that a signed token is accepted only as its
// issuer spelled it. Header and payload variants are re-signed over their new
// spelling, so only the decoding can refuse them.
func TestOneSpellingPerToken(t *testing.T) {
	v, err := jwt.NewVerifier(jwt.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	user := uuid.New()
	header := oddSegment(t, map[string]string{"alg": "HS256", "typ": "JWT"})
	payload := oddSegment(t, map[string]any{"sub": user.String(), "exp": time.Now().Add(time.Hour).Unix()})
	good := signHS256(t, header, payload)
	wantUser(t, v, good, user)

	parts := strings.Split(good, ".")
	for i, name := range []string{"header", "payload", "signature"} {
		// respell swaps in a new spelling of segment i; a header or payload
		// is re-signed, a signature must still match the original text.
		respell := func(t *testing.T, seg string) string {
			p := slices.Clone(parts)
			p[i] = seg
			if i < 2 {
				return signHS256(t, p[0], p[1])
			}
			return strings.Join(p, ".")
		}
		t.Run(name+" with unused bits set", func(t *testing.T) {
			alts := respellings(parts[i])
			if len(alts) == 0 {
				t.Fatalf("the segment %q has no unused bits to flip", parts[i])
			}
			want, err := base64.RawURLEncoding.DecodeString(parts[i])
			if err != nil {
				t.Fatal(err)
			}
			for _, alt := range alts {
				if got, err := base64.RawURLEncoding.DecodeString(alt); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%q decodes to %q, %v; want the same bytes as %q", alt, got, err, parts[i])
				}
				wantMalformed(t, v, respell(t, alt), "spelled "+alt)
			}
		})
		// encoding/base64 skips CR and LF even in strict mode.
		t.Run(name+" with a line break", func(t *testing.T) {
			for _, brk := range []string{"\n", "\r"} {
				wantMalformed(t, v, respell(t, parts[i][:4]+brk+parts[i][4:]), strconv.Quote(brk))
			}
		})
	}
}
