package http

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// maxBody bounds request bodies; the longest valid body, a 5,000-character
// review of 4-byte characters, is about 20 KiB. nginx enforces the same bound.
const maxBody = 64 << 10

var unsupportedMedia = &statusError{
	status: http.StatusUnsupportedMediaType, code: codeUnsupportedMedia,
	detail: "request body must be application/json",
}

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
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	dec.DisallowUnknownFields() // also refuses operator keys such as "$set"
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err)
		}
		return ugc.Errorf(ugc.EINVALID, "body must hold a single JSON object")
	}
	return nil
}

// decodeError explains a decoding failure in terms of the request, without
// echoing Go type names.
func decodeError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return requestTooLarge
	case errors.Is(err, io.EOF):
		return ugc.Errorf(ugc.EINVALID, "body must not be empty")
	case errors.As(err, &syntax):
		return ugc.Errorf(ugc.EINVALID, "malformed JSON at byte %d", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ugc.Errorf(ugc.EINVALID, "malformed JSON: unexpected end of body")
	case errors.As(err, &wrongType):
		if wrongType.Field == "" {
			return ugc.Errorf(ugc.EINVALID, "body must be a JSON object")
		}
		return ugc.Errorf(ugc.EINVALID, "field %q must be %s", wrongType.Field, jsonKind(wrongType.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return ugc.Errorf(ugc.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return ugc.Errorf(ugc.EINVALID, "malformed JSON body")
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
	id, err := uuid.Parse(c.Param(name))
	if err != nil || len(c.Param(name)) != 36 {
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
