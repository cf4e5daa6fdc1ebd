package http

import (
	"net/http"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/gin-gonic/gin"
)

// How long browsers and CDNs may reuse a public read without asking again.
// A summary moves with every rating, so it is reused briefly; a CDN may
// serve it a little stale while it revalidates, which turns a premiere's
// thousands of identical reads a second into one per edge per few seconds.
// Reviews change only when their author edits them or votes arrive.
var (
	cacheSummary = []string{"public, max-age=5, stale-while-revalidate=30"}
	cacheReview  = []string{"public, max-age=30, stale-while-revalidate=60"}
	cacheListing = []string{"public, max-age=10, stale-while-revalidate=30"}
	varyOrigin   = []string{"Origin"}
)

// replyCacheable writes v as a public, cacheable 200 with a strong ETag (a
// hash of the exact bytes), or 304 Not Modified without a body when the
// client's If-None-Match already names that ETag.
func (s *Server) replyCacheable(c *gin.Context, cacheControl []string, v any, err error) error {
	if err != nil {
		return err
	}
	bp := bodies.Get().(*[]byte)
	body := appendBody((*bp)[:0], v)
	defer func() {
		if cap(body) <= maxPooledBody {
			*bp = body[:0]
			bodies.Put(bp)
		}
	}()
	etag := etagOf(body)
	h := c.Writer.Header()
	h["Etag"] = []string{etag}
	h["Cache-Control"] = cacheControl
	if s.cors && len(h["Vary"]) == 0 {
		// A response cached for one origin must not be served to another:
		// the CORS headers differ. (The CORS middleware sets it on CORS
		// requests.)
		h["Vary"] = varyOrigin
	}
	if inm := c.GetHeader("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		c.Status(http.StatusNotModified)
		return nil
	}
	writeBody(c, http.StatusOK, contentJSON, body)
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
