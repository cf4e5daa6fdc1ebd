package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

func decodeBody(contentType string, body []byte) (ratingBody, error) {
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodPut, "/", bytes.NewReader(body))
	if contentType != "" {
		c.Request.Header.Set("Content-Type", contentType)
	}
	var dst ratingBody
	err := decodeJSON(c, &dst)
	return dst, err
}

func TestDecodeJSON(t *testing.T) {
	for _, c := range []struct {
		name, contentType, body string
		status                  int // 0: decodes
		detail                  string
	}{
		{"ok", "application/json", `{"score": 7}`, 0, ""},
		{"charset", "application/json; charset=utf-8", `{"score": 7}`, 0, ""},
		{"null field", "application/json", `{"score": null}`, 0, ""},
		{"no content type", "", `{"score": 7}`, 415, "application/json"},
		{"form", "application/x-www-form-urlencoded", `score=7`, 415, "application/json"},
		{"empty", "application/json", ``, 400, "empty"},
		{"malformed", "application/json", `{"score": 7`, 400, "malformed"},
		{"syntax", "application/json", `{"score": 7,}`, 400, "malformed"},
		{"string score", "application/json", `{"score": "7"}`, 400, `"score" must be an integer`},
		{"float score", "application/json", `{"score": 7.5}`, 400, `"score" must be an integer`},
		{"huge score", "application/json", `{"score": 1e40}`, 400, `"score" must be an integer`},
		{"array", "application/json", `[7]`, 400, "JSON object"},
		{"unknown field", "application/json", `{"score": 7, "stars": 3}`, 400, `unknown field "stars"`},
		{"operator key", "application/json", `{"$set": {"score": 7}}`, 400, `unknown field "$set"`},
		{"trailing object", "application/json", `{"score": 7}{"score": 8}`, 400, "single JSON object"},
		{"trailing garbage", "application/json", `{"score": 7} x`, 400, "single JSON object"},
		// encoding/json matched names case-insensitively and by Unicode
		// folding, so these three were read as "score".
		{"upper case name", "application/json", `{"SCORE": 5}`, 400, `unknown field "SCORE"`},
		{"long s name", "application/json", `{"ſcore": 5}`, 400, `unknown field "ſcore"`},
		{"kelvin sign name", "application/json", "{\"value\u212a\": 1}", 400, "unknown field"},
		// encoding/json kept the last of duplicate names.
		{"duplicate name", "application/json", `{"score": 1, "score": 10}`, 400, `duplicate field "score"`},
		// encoding/json replaced invalid bytes with U+FFFD.
		{"invalid UTF-8 in a name", "application/json", "{\"score\xff\": 5}", 400, "valid UTF-8"},
		{"number as string", "application/json", `{"score": "5"}`, 400, `"score" must be an integer`},
		{"too large", "application/json", `{"score": 7, "pad": "` + strings.Repeat("x", maxBody) + `"}`, 413, "at most"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeBody(c.contentType, []byte(c.body))
			if c.status == 0 {
				if err != nil {
					t.Fatalf("decode failed: %v", err)
				}
				return
			}
			status, detail := problemOf(err)
			if status != c.status || !strings.Contains(detail, c.detail) {
				t.Fatalf("got %d %q, want %d containing %q", status, detail, c.status, c.detail)
			}
		})
	}
}

// problemOf says what status and detail fail would send for err.
func problemOf(err error) (int, string) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, se.detail
	}
	return domainStatus[ugc.ErrorCode(err)], ugc.ErrorMessage(err)
}

// FuzzDecodeJSON: whatever the body, decoding either yields exactly the known
// fields or a 400/413 problem; it never panics and never a 5xx.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"score":7}`, `{"score":"7"}`, `{"$gt":1}`, `[]`, `{"score":1}{}`, `{"score":1e999}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := decodeBody("application/json", body)
		if err != nil {
			if status, _ := problemOf(err); status != 400 && status != 413 {
				t.Fatalf("body %q: status %d (%v)", body, status, err)
			}
			return
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			t.Fatalf("accepted body %q is not a JSON object: %v", body, err)
		}
		for k := range fields {
			if k != "score" {
				t.Fatalf("accepted body %q with unknown field %q", body, k)
			}
		}
	})
}
