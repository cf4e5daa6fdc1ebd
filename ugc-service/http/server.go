// Package http serves the UGC API over HTTP with Gin: JSON in and out, bearer
// JWT authentication, RFC 9457 problem bodies, request ids, ECS access logs,
// Prometheus metrics and Sentry reporting.
package http

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	sentrygin "github.com/getsentry/sentry-go/gin"
	"github.com/gin-gonic/gin"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/metrics"
)

// Config is what the server needs; main builds it. The store comes later,
// through SetStore, so that the server can answer probes while it connects.
type Config struct {
	Verifier TokenVerifier
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	// Sentry installs Sentry's Gin middleware; sentry.Init must have run.
	Sentry bool
	// TrustedProxies are the addresses or CIDRs whose X-Real-IP and
	// X-Forwarded-For headers name the client; by default nobody's are
	// believed and the client is the peer address.
	TrustedProxies []string
	// CORSOrigins are the browser origins (scheme://host[:port]) allowed to
	// call the API from scripts; none by default.
	CORSOrigins []string
	// UserWriteLimit bounds each user's writes; the zero value takes
	// DefaultUserWriteLimit.
	UserWriteLimit UserWriteLimit
}

// Server routes requests to the store.
type Server struct {
	// store is nil until SetStore: requests that need it are answered 503
	// until then, and it never changes after.
	store        atomic.Pointer[ugc.Store]
	verifier     TokenVerifier
	logger       *slog.Logger
	metrics      *metrics.Metrics
	writeLimiter *userLimiter // nil: writes are not limited
	cors         bool         // CORSOrigins were given
	// messages holds each route's access-line message, by method and
	// route; written by NewServer only.
	messages map[string]map[string]string
	proxies  bool // TrustedProxies were given
	engine   *gin.Engine
}

//go:embed openapi.yaml
var openAPISpec []byte

func init() {
	// Release mode: Gin's debug mode prints every route and warns at start.
	gin.SetMode(gin.ReleaseMode)
}

// NewServer builds the router. It fails on a trusted proxy that is neither
// an address nor a CIDR.
func NewServer(cfg Config) (*Server, error) {
	s := &Server{
		verifier: cfg.Verifier,
		logger:   cfg.Logger,
		metrics:  cfg.Metrics,
		engine:   gin.New(),
	}
	limit := cfg.UserWriteLimit
	if limit == (UserWriteLimit{}) {
		limit = DefaultUserWriteLimit
	}
	writes := []gin.HandlerFunc{}
	if limit.PerSecond > 0 {
		s.writeLimiter = newUserLimiter(limit)
		writes = append(writes, s.limitWrites)
	}
	e := s.engine
	e.HandleMethodNotAllowed = true
	// Route on the path as sent: decoded first, /films/{id}%2Fsummary
	// would be /films/{id}/summary, a path the client did not ask for.
	e.UseRawPath, e.UnescapePathValues = true, true
	// X-Real-IP first: the gateway sets it to the address it saw, whereas
	// X-Forwarded-For carries whatever the client put there too.
	e.RemoteIPHeaders = []string{"X-Real-IP", "X-Forwarded-For"}
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	s.proxies = len(cfg.TrustedProxies) > 0
	e.Use(withRequestID, s.accessLog, s.recovery, s.limitHeaders)
	if len(cfg.CORSOrigins) > 0 {
		s.cors = true
		e.Use(s.corsMiddleware(cfg.CORSOrigins))
	}
	if cfg.Sentry {
		e.Use(sentrygin.New(sentrygin.Options{Repanic: true}), tagSentryScope)
	}
	e.NoRoute(func(c *gin.Context) { s.fail(c, ugc.Errorf(ugc.ENOTFOUND, "no such endpoint")) })
	e.NoMethod(func(c *gin.Context) {
		s.fail(c, &statusError{status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed, detail: "method not allowed on this endpoint"})
	})

	get(e, "/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	get(e, "/readyz", s.ready)
	get(e, "/metrics", gin.WrapH(s.metrics.Handler()))
	get(e, "/api/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", openAPISpec) })

	v1 := e.Group("/api/v1", s.requireStore)
	// Public reads: what a visitor of a film page sees without signing in.
	get(v1, "/films/:film_id/summary", s.h(s.getSummary))
	get(v1, "/films/summaries", s.h(s.getSummaries))
	get(v1, "/films/:film_id/reviews", s.h(s.listFilmReviews))
	get(v1, "/reviews/:review_id", s.h(s.getReview))

	auth := v1.Group("", s.authenticate)
	get(auth, "/films/:film_id/rating", s.h(s.getRating))
	get(auth, "/users/me/ratings", s.h(s.listMyRatings))
	get(auth, "/users/me/bookmarks", s.h(s.listBookmarks))

	write := auth.Group("", writes...)
	write.PUT("/films/:film_id/rating", s.h(s.putRating))
	write.DELETE("/films/:film_id/rating", s.h(s.deleteRating))
	write.POST("/films/:film_id/reviews", s.h(s.createReview))
	write.PATCH("/reviews/:review_id", s.h(s.updateReview))
	write.DELETE("/reviews/:review_id", s.h(s.deleteReview))
	write.PUT("/reviews/:review_id/vote", s.h(s.putVote))
	write.DELETE("/reviews/:review_id/vote", s.h(s.deleteVote))
	write.PUT("/users/me/bookmarks/:film_id", s.h(s.putBookmark))
	write.DELETE("/users/me/bookmarks/:film_id", s.h(s.deleteBookmark))
	s.messages = map[string]map[string]string{}
	for _, r := range e.Routes() {
		if s.messages[r.Method] == nil {
			s.messages[r.Method] = map[string]string{}
		}
		s.messages[r.Method][r.Path] = r.Method + " " + r.Path
	}
	return s, nil
}

// SetStore hands the server its store, once connected. Until then /readyz
// and every API route answer 503 with code store_not_connected and a
// Retry-After header. Call it once; it is safe while requests are served.
func (s *Server) SetStore(st ugc.Store) { s.store.Store(&st) }

// connectedStore returns the store SetStore set, or nil before.
func (s *Server) connectedStore() ugc.Store {
	if st := s.store.Load(); st != nil {
		return *st
	}
	return nil
}

// requireStore answers 503 until the store is connected, before
// authentication (there is nothing to serve a verified caller either); the
// handlers behind it read the store with connectedStore, which cannot be nil
// once it has been set.
func (s *Server) requireStore(c *gin.Context) {
	if s.connectedStore() == nil {
		s.fail(c, errStoreNotConnected)
		return
	}
	c.Next()
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

// get registers a read for GET and HEAD: a server that answers GET must
// answer HEAD alike, without the body (RFC 9110 §9.3.2). net/http drops
// the body of a HEAD answer; the status and headers are GET's.
func get(r gin.IRoutes, path string, h gin.HandlerFunc) {
	r.GET(path, h)
	r.HEAD(path, h)
}

// Routes lists every route as "METHOD /path/{param}", the OpenAPI spelling,
// so that tests can hold the spec and the router to the same list.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+openAPIPath(r.Path))
	}
	return out
}

func (s *Server) ready(c *gin.Context) {
	st := s.connectedStore()
	if st == nil {
		s.fail(c, errStoreNotConnected)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := st.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "store not ready", "error.message", err.Error())
		writeProblem(c, Problem{
			Type: "about:blank", Title: http.StatusText(http.StatusServiceUnavailable), Status: http.StatusServiceUnavailable,
			Detail: "the store is unreachable", Code: "unavailable", Instance: c.Request.URL.Path, RequestID: requestID(c),
		})
		return
	}
	// The analytics backlog is reported, never judged: a ClickHouse outage
	// must not take the API out of rotation.
	body := gin.H{"status": "ok"}
	if stats, err := st.OutboxStats(ctx); err == nil {
		body["outbox"] = gin.H{"pending": stats.Pending, "oldest_age_seconds": stats.Age(time.Now()).Seconds()}
	}
	c.JSON(http.StatusOK, body)
}
