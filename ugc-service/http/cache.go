package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/gin-gonic/gin"
)

// How long browsers and CDNs may reuse a public read without asking again.
// A summary moves with every rating, so it is reused briefly; a CDN may
// serve it a little stale while it revalidates, which turns a premiere's
// thousands of identical reads a second into one per edge per few seconds.
// Reviews change only when their author edits them or votes arrive.
const (
	cacheSummary = "public, max-age=5, stale-while-revalidate=30"
	cacheReview  = "public, max-age=30, stale-while-revalidate=60"
	cacheListing = "public, max-age=10, stale-while-revalidate=30"
)

// replyCacheable writes v as a public, cacheable 200 with a strong ETag (a
// hash of the exact bytes), or 304 Not Modified without a body when the
// client's If-None-Match already names that ETag.
func (s *Server) replyCacheable(c *gin.Context, cacheControl string, v any, err error) error {
	if err != nil {
		return err
	}
	body := marshal(v)
	etag := etagOf(body)
	h := c.Writer.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	if s.cors {
		// A response cached for one origin must not be served to another:
		// the CORS headers differ.
		h.Add("Vary", "Origin")
	}
	if etagMatches(c.GetHeader("If-None-Match"), etag) {
		c.Status(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
	return nil
}

// etagOf is a strong ETag of body: the 16 hex digits of its 64-bit hash.
func etagOf(body []byte) string {
	var tag [18]byte
	tag[0], tag[17] = '"', '"'
	h := xxhash.Sum64(body)
	for i := 16; i > 0; i-- {
		tag[i] = "0123456789abcdef"[h&0xf]
		h >>= 4
	}
	return string(tag[:])
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 §13.1.2):
// any listed tag equal to etag, W/ prefix ignored, or "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
