package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

// corsMaxAge is how long a browser may cache a preflight's answer, so that a
// page does not pay a preflight round trip per call.
const corsMaxAge = 10 * time.Minute

// errOriginNotAllowed answers a request from a browser origin that is not
// configured.
var errOriginNotAllowed = &statusError{
	status: http.StatusForbidden, code: codeOriginNotAllowed,
	detail: "requests from this origin are not allowed; see UGC_CORS_ORIGINS",
}

// corsMiddleware lets scripts on origins call the API. Tokens travel in the
// Authorization header, never in cookies, so credentials stay off: a page on
// another origin cannot make a browser send anything the user did not hand
// it. Headers a client needs to read (the validator, a new review's
// location, back-off hints, the request id) are exposed.
//
// Only the API under /api is for pages: the health, readiness and metrics
// endpoints answer probes and scrapers, which may send any Origin, so they
// are left alone rather than refused with 403.
func (s *Server) corsMiddleware(origins []string) gin.HandlerFunc {
	apply := cors.New(cors.Config{
		AllowOrigins: origins,
		// Called only for an origin that is not listed: answer with a
		// problem body, not the middleware's empty 403.
		AllowOriginWithContextFunc: func(c *gin.Context, _ string) bool {
			s.fail(c, errOriginNotAllowed)
			return false
		},
		AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowHeaders:     []string{"Authorization", "Content-Type", "If-None-Match", HeaderRequestID},
		ExposeHeaders:    []string{"ETag", "Location", "Retry-After", HeaderRequestID},
		AllowCredentials: false,
		MaxAge:           corsMaxAge,
	})
	return func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			apply(c)
		}
	}
}
