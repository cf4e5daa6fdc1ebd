package http

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// maxBody bounds request bodies; the longest valid body, a 5,000-character
// review of 4-byte characters, is about 20 KiB. nginx enforces the same bound.
const maxBody = 64 << 10

// requestTimeout answers a body that did not arrive within the server's read
// timeout (UGC's http.Server: 15 s).
var requestTimeout = &statusError{
	status: http.StatusRequestTimeout, code: codeRequestTimeout,
	detail: "the request body did not arrive in time",
}

var unsupportedMedia = &statusError{
	status: http.StatusUnsupportedMediaType, code: codeUnsupportedMedia,
	detail: "request body must be application/json",
}

// strict is how request bodies are decoded: member names match exactly
// (encoding/json would take "SCORE" or "ſcore" for "score"), unknown members
// are refused (which also refuses operator keys such as "$set"), and the v2
// decoder's defaults refuse duplicate names and invalid UTF-8 instead of
// keeping the last value or replacing bytes with U+FFFD.
var strict = json.JoinOptions(json.RejectUnknownMembers(true), json.MatchCaseInsensitiveNames(false))

// decodeJSON reads exactly one JSON object into dst, strictly: the body must
// be declared JSON, fit maxBody, use only known fields of the right types and
// carry nothing after the object. Anything else is a 4xx, never a partial read.
func decodeJSON(c *gin.Context, dst any) error {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return unsupportedMedia
	}
	if c.Request.ContentLength > maxBody {
		return requestTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		return decodeError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return ugc.Errorf(ugc.EINVALID, "body must not be empty")
	}
	return decodeError(json.Unmarshal(body, dst, strict))
}

// decodeError explains a decoding failure in terms of the request, without
// echoing Go type names.
func decodeError(err error) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *jsontext.SyntacticError
		semantic *json.SemanticError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return requestTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		return requestTimeout
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ugc.Errorf(ugc.EINVALID, "malformed JSON: unexpected end of body")
	case errors.As(err, &syntax) && errors.Is(err, jsontext.ErrDuplicateName):
		return ugc.Errorf(ugc.EINVALID, "duplicate field %q", fieldName(syntax.JSONPointer))
	case errors.As(err, &syntax):
		if strings.Contains(syntax.Error(), "invalid UTF-8") {
			return ugc.Errorf(ugc.EINVALID, "body must be valid UTF-8 (byte %d)", syntax.ByteOffset)
		}
		if strings.Contains(syntax.Error(), "after top-level value") {
			return ugc.Errorf(ugc.EINVALID, "body must hold a single JSON object")
		}
		return ugc.Errorf(ugc.EINVALID, "malformed JSON at byte %d", syntax.ByteOffset)
	case errors.As(err, &semantic):
		field := fieldName(semantic.JSONPointer)
		switch {
		case errors.Is(err, json.ErrUnknownName):
			return ugc.Errorf(ugc.EINVALID, "unknown field %q", field)
		case field == "":
			return ugc.Errorf(ugc.EINVALID, "body must be a JSON object")
		case semantic.GoType != nil:
			t := semantic.GoType
			if t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			return ugc.Errorf(ugc.EINVALID, "field %q must be %s", field, jsonKind(t.Kind().String()))
		}
	}
	return ugc.Errorf(ugc.EINVALID, "malformed JSON body")
}

// fieldName is the top-level member a JSON pointer such as "/score" names.
func fieldName(p jsontext.Pointer) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(string(p), "/"), "/")
	return name
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "an integer"
	case goKind == "string":
		return "a string"
	}
	return "of another type"
}

// required reports EINVALID for a body field that was absent or null.
func required[T any](field string, v *T) (T, error) {
	if v == nil {
		var zero T
		return zero, ugc.Errorf(ugc.EINVALID, "field %q is required", field)
	}
	return *v, nil
}

// uuidParam reads a path parameter that must be a UUID.
func uuidParam(c *gin.Context, name string) (uuid.UUID, error) {
	return parseUUID(name, c.Param(name))
}

// parseUUID reads the parameter name, which must be a hyphenated UUID.
func parseUUID(name, v string) (uuid.UUID, error) {
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return uuid.Nil, ugc.Errorf(ugc.EINVALID, "%s must be a UUID", name)
	}
	return id, nil
}

// pageParams reads limit and cursor for a listing whose cursors are of kind.
func pageParams(c *gin.Context, kind ugc.CursorKind) (ugc.Page, error) {
	p := ugc.Page{Limit: ugc.DefaultPageLimit}
	if s, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, ugc.Errorf(ugc.EINVALID, "limit must be an integer from 1 to %d", ugc.MaxPageLimit)
		}
		p.Limit = n
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	if s := c.Query("cursor"); s != "" {
		cur, err := ugc.ParseCursor(s, kind)
		if err != nil {
			return p, err
		}
		p.After = cur
	}
	return p, nil
}
