package jwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/MicahParks/jwkset"
)

// maxKeySetBytes bounds a key set's body: a real one is a few KB.
const maxKeySetBytes = 1 << 20

// keyFilter stands between jwkset and the Auth service. jwkset refuses a
// whole key set for one key it cannot use (an EC point off its curve, an
// RSA exponent of 1, a modulus that is not base64url), so one bad key
// would lock every token out: a fresh pod would accept none, a running one
// would stop taking rotations and revocations. keyFilter parses each key
// alone, exactly as jwkset then will, drops each that fails, logging and
// counting it, and hands jwkset the others.
type keyFilter struct {
	base    http.RoundTripper
	logger  *slog.Logger
	skipped func()
}

func (f keyFilter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySetBytes+1))
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("jwks: reading the key set: %w", err)
	}
	if len(body) > maxKeySetBytes {
		return nil, fmt.Errorf("jwks: key set over %d bytes", maxKeySetBytes)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(body, &set) == nil {
		body = f.usable(set.Keys)
	} // else jwkset reports the body it cannot decode, and keeps its cache
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// usable re-encodes the key set with only the keys jwkset can build; keys
// of a type it does not support it skips by itself, so they are kept.
func (f keyFilter) usable(keys []json.RawMessage) []byte {
	kept := make([]json.RawMessage, 0, len(keys))
	for i, raw := range keys {
		_, err := jwkset.NewJWKFromRawJSON(raw, jwkset.JWKMarshalOptions{Private: true}, jwkset.JWKValidateOptions{})
		if err != nil && !errors.Is(err, jwkset.ErrUnsupportedKey) {
			var id struct {
				KID string `json:"kid"`
			}
			_ = json.Unmarshal(raw, &id) // only for the log line
			f.logger.Warn("JWKS key skipped: it cannot verify anything; the set's other keys are used", "jwks.key_index", i, "jwks.kid", id.KID, "error.message", err.Error())
			if f.skipped != nil {
				f.skipped()
			}
			continue
		}
		kept = append(kept, raw)
	}
	out, err := json.Marshal(map[string]any{"keys": kept})
	if err != nil { // raw messages that parsed above always marshal
		panic(err)
	}
	return out
}

// refuseInsecureRedirects holds a redirect's target to the rule the JWKS
// URL itself follows (https, or http on loopback) and refuses any
// redirect that leaves https: keys fetched over plain http could have been
// swapped by anyone on the way.
func refuseInsecureRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("jwks: stopped after 10 redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("jwks: refusing a redirect from https to %s", req.URL.Redacted())
	}
	if err := CheckJWKSURL(req.URL.String()); err != nil {
		return fmt.Errorf("jwks: refusing a redirect: %w", err)
	}
	return nil
}
