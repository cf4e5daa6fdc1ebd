package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/getsentry/sentry-go"
	sentrygin "github.com/getsentry/sentry-go/gin"
	"github.com/gin-gonic/gin"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/ecslog"
	"github.com/ugcstack/ugcstack/ugc-service/metrics"
)

// Problem is an RFC 9457 problem details body, with the request id (so a user
// report can be matched to logs) and the machine-readable error code.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
}

// Error codes of failures that happen in the HTTP layer, before the domain.
const (
	codeTooLarge          = "payload_too_large"
	codeUnsupportedMedia  = "unsupported_media_type"
	codeMethodNotAllowed  = "method_not_allowed"
	codeStoreNotConnected = "store_not_connected"
	codeStoreTimeout      = "store_timeout"
	codeRateLimited       = "rate_limited"
	codeHeaderTooLarge    = "header_too_large"
	codeOriginNotAllowed  = "origin_not_allowed"
	codeRequestTimeout    = "request_timeout"
)

// statusClientClosedRequest is nginx's status for a request whose client hung
// up before the answer: what the access log and metrics record, never a 5xx.
const statusClientClosedRequest = 499

// retryAfterSeconds is the Retry-After of a 503: long enough that clients do
// not flood an instance that is starting, short next to a MongoDB replica
// set's start.
const retryAfterSeconds = "5"

// errStoreNotConnected answers what needs the store while the process is
// still connecting to it, as at a first install, where MongoDB starts beside
// the API.
var errStoreNotConnected = &statusError{
	status: http.StatusServiceUnavailable, code: codeStoreNotConnected,
	detail: "the store is not connected yet; retry shortly", retryAfter: retryAfterSeconds,
}

// errStoreTimeout answers a request whose store operation outlived the
// store's timeout (UGC_STORE_TIMEOUT): an overloaded or unreachable store,
// which a client may retry, not a bug.
var errStoreTimeout = &statusError{
	status: http.StatusServiceUnavailable, code: codeStoreTimeout,
	detail: "the store did not answer in time; retry shortly", retryAfter: retryAfterSeconds,
}

// statusError is a failure that has its own HTTP status and no domain code.
type statusError struct {
	status int
	code   string
	detail string
	// retryAfter is the Retry-After header's seconds, where the status
	// tells the client to come back.
	retryAfter string
}

func (e *statusError) Error() string { return e.detail }

// domainStatus maps each domain error code to its status, in one place.
var domainStatus = map[string]int{
	ugc.EINVALID:      http.StatusBadRequest,
	ugc.EUNAUTHORIZED: http.StatusUnauthorized,
	ugc.EFORBIDDEN:    http.StatusForbidden,
	ugc.ENOTFOUND:     http.StatusNotFound,
	ugc.ECONFLICT:     http.StatusConflict,
	ugc.EINTERNAL:     http.StatusInternalServerError,
}

// fail writes err as a problem and aborts the request. Internal errors are
// logged with their details and reported to Sentry; the client only sees a
// generic message and the request id to quote. Status errors are answers the
// HTTP layer chose, not failures: none is reported, not even the 503s of an
// instance still connecting to its store; a store timeout is logged as a
// warning, and a client that hung up gets nothing but its 499 access line.
func (s *Server) fail(c *gin.Context, err error) {
	// Two failures are not the store's fault: the client hung up (there is
	// nobody to answer), or the store's operation timeout passed (it is
	// overloaded: 503, retry later).
	var se *statusError
	switch {
	case errors.As(err, &se) && se.status == http.StatusRequestTimeout:
		// The body did not arrive within the read timeout: the server ends
		// the request's context then, but the client is still there, and
		// is owed an answer (408), not a hang-up's 499.
	case errors.Is(c.Request.Context().Err(), context.Canceled):
		c.AbortWithStatus(statusClientClosedRequest)
		return
	case errors.Is(err, context.DeadlineExceeded):
		s.logger.WarnContext(c.Request.Context(), "store timeout",
			ecslog.KeyRequestID, requestID(c), "http.route", c.FullPath(), ecslog.KeyError, err.Error())
		err = errStoreTimeout
	}
	p := Problem{Type: "about:blank", Instance: c.Request.URL.Path, RequestID: requestID(c)}
	if errors.As(err, &se) {
		p.Status, p.Code, p.Detail = se.status, se.code, se.detail
		if se.retryAfter != "" {
			c.Header("Retry-After", se.retryAfter)
		}
	} else {
		p.Code, p.Detail = ugc.ErrorCode(err), ugc.ErrorMessage(err)
		p.Status = domainStatus[p.Code]
	}
	p.Title = http.StatusText(p.Status)
	if p.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	if p.Code == ugc.EINTERNAL {
		s.logger.ErrorContext(c.Request.Context(), "request failed",
			ecslog.KeyRequestID, p.RequestID, "http.route", c.FullPath(), ecslog.KeyError, err.Error())
		report(c, err)
	}
	writeProblem(c, p)
}

var noStore = []string{"no-store"}

func writeProblem(c *gin.Context, p Problem) {
	c.Writer.Header()["Cache-Control"] = noStore
	c.Abort()
	writeJSON(c, p.Status, contentProblem, p)
}

// report sends err to Sentry when the Sentry middleware is installed; the
// request's scope already carries the request id, route and user.
func report(c *gin.Context, err error) {
	if hub := sentrygin.GetHubFromContext(c); hub != nil {
		hub.CaptureException(err)
	}
}

// tagSentryScope labels everything Sentry captures during the request.
func tagSentryScope(c *gin.Context) {
	if hub := sentrygin.GetHubFromContext(c); hub != nil {
		hub.Scope().SetTag("request_id", requestID(c))
		hub.Scope().SetTag("route", c.FullPath())
	}
	c.Next()
}

// setSentryUser records the authenticated user on the request's Sentry scope.
func setSentryUser(c *gin.Context, id string) {
	if hub := sentrygin.GetHubFromContext(c); hub != nil {
		hub.Scope().SetUser(sentry.User{ID: id})
	}
}

// logPanic is the log half of panic recovery; Sentry's middleware, inside
// ours, has already captured the panic with its stack.
func (s *Server) logPanic(c *gin.Context, v any, stack []byte) {
	s.logger.ErrorContext(c.Request.Context(), "panic serving request",
		ecslog.KeyRequestID, requestID(c), "http.route", c.FullPath(),
		ecslog.KeyError, slog.AnyValue(v).String(), "error.stack_trace", string(stack))
}

// StoreBreadcrumb leaves a Sentry breadcrumb for a store operation made while
// serving a request, so an event shows the store calls that led to it. It is
// a metrics.StoreObserver; outside a request (no hub) it does nothing.
func StoreBreadcrumb(ctx context.Context, op string, d time.Duration, err error) {
	hub := sentry.GetHubFromContext(ctx)
	if hub == nil {
		return
	}
	level := sentry.LevelInfo
	if ugc.ErrorCode(err) == ugc.EINTERNAL {
		level = sentry.LevelError
	}
	hub.AddBreadcrumb(&sentry.Breadcrumb{
		Type: "query", Category: "store", Message: op, Level: level,
		Data: map[string]any{"duration_ms": float64(d.Microseconds()) / 1000, "outcome": metrics.Outcome(err)},
	}, nil)
}
