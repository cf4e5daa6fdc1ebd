package http

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
	"github.com/ugcstack/ugcstack/ugc-service/ecslog"
)

// keyUserID is the Gin context key of the authenticated user. The request id
// and the store are not kept in the context: setting a first key allocates
// its map, which public reads, the hot path, do without.
const keyUserID = "ugc.user_id"

// HeaderRequestID carries a request's id from nginx to the API and back to
// the client.
const HeaderRequestID = "X-Request-Id"

// maxRequestIDLen bounds a caller's id: it is echoed into every log line.
const maxRequestIDLen = 128

// withRequestID adopts the caller's request id when it is sane (nginx's
// $request_id is 32 hex digits) and makes one otherwise, then echoes it.
func withRequestID(c *gin.Context) {
	id := c.GetHeader(HeaderRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Header(HeaderRequestID, id)
	c.Next()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// newRequestID makes an id in nginx's format, so ids look alike whichever
// side made them.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}

// requestID is the id withRequestID put in the response's header.
func requestID(c *gin.Context) string { return c.Writer.Header().Get(HeaderRequestID) }

// MaxHeaderBytes bounds a request's line and headers. The HTTP server's own
// bound (MaxHeaderBytes in main, larger) answers in plain text, so this one
// is checked here, where the answer can be a problem body.
const MaxHeaderBytes = 32 << 10

var errHeaderTooLarge = &statusError{
	status: http.StatusRequestHeaderFieldsTooLarge, code: codeHeaderTooLarge,
	detail: fmt.Sprintf("request line and headers must be at most %d bytes", MaxHeaderBytes),
}

// limitHeaders refuses requests whose line and headers, counted as sent,
// exceed MaxHeaderBytes.
func (s *Server) limitHeaders(c *gin.Context) {
	r := c.Request
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	if n > MaxHeaderBytes {
		s.fail(c, errHeaderTooLarge)
		return
	}
	c.Next()
}

// accessLog writes one ECS line per request and records its metrics. It runs
// outside recovery, so a panicking request is still logged and counted.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	end := time.Now()
	d := end.Sub(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched" // keeps raw paths out of metric labels
	}
	status := c.Writer.Status()
	s.metrics.ObserveRequest(route, c.Request.Method, status, d)

	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	if !s.logger.Enabled(c.Request.Context(), level) {
		return
	}
	f := accessLines.Get().(*accessFields)
	*f = accessFields{
		method: c.Request.Method, path: c.Request.URL.Path, route: route, status: status,
		bytes: c.Writer.Size(), duration: d, clientIP: s.clientIP(c), userAgent: c.Request.UserAgent(),
		requestID: requestID(c),
	}
	if id, ok := c.Get(keyUserID); ok {
		f.userID = id.(uuid.UUID).String()
	}
	// The record is built here, not by LogAttrs, to reuse end as its time.
	r := slog.NewRecord(end, level, s.accessMessage(c.Request.Method, route), 0)
	r.AddAttrs(slog.Any("", f))
	_ = s.logger.Handler().Handle(c.Request.Context(), r) // a failed log write has nowhere to go
	accessLines.Put(f)                                    // the handler has written the line
}

// accessMessage is an access line's message, "METHOD /route", from the
// table NewServer made of every route, so that it is not built per request.
func (s *Server) accessMessage(method, route string) string {
	if m, ok := s.messages[method][route]; ok {
		return m
	}
	return method + " " + route
}

// accessLines recycles access-line fields: one per request otherwise.
var accessLines = sync.Pool{New: func() any { return new(accessFields) }}

// clientIP is the request's client: the peer's address, unless the peer is
// a trusted proxy that names the client.
func (s *Server) clientIP(c *gin.Context) string {
	if !s.proxies {
		// Gin's ClientIP would parse and reformat the same address.
		host, _, err := net.SplitHostPort(c.Request.RemoteAddr)
		if err == nil {
			return host
		}
	}
	return c.ClientIP()
}

// accessFields are the ECS fields of one access line, encoded by the log
// handler without a slog.Attr each.
type accessFields struct {
	method, path, route, clientIP, userAgent, requestID, userID string
	status, bytes                                               int
	duration                                                    time.Duration
}

func (f *accessFields) AppendFields(b []byte) []byte {
	b = ecslog.AppendString(b, "event.dataset", "ugc.access")
	b = ecslog.AppendString(b, "http.request.method", f.method)
	b = ecslog.AppendString(b, "url.path", f.path)
	b = ecslog.AppendString(b, "http.route", f.route)
	b = ecslog.AppendInt(b, "http.response.status_code", int64(f.status))
	b = ecslog.AppendInt(b, "http.response.body.bytes", int64(f.bytes))
	b = ecslog.AppendInt(b, "event.duration", f.duration.Nanoseconds())
	b = ecslog.AppendString(b, "client.ip", f.clientIP)
	b = ecslog.AppendString(b, "user_agent.original", f.userAgent)
	b = ecslog.AppendString(b, ecslog.KeyRequestID, f.requestID)
	b = ecslog.AppendString(b, ecslog.KeyTraceID, f.requestID)
	if f.userID != "" {
		b = ecslog.AppendString(b, ecslog.KeyUserID, f.userID)
	}
	return b
}

// recovery turns a panic into a logged 500 problem instead of a dropped
// connection.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // the handler chose to abort the connection
			}
			s.logPanic(c, v, debug.Stack())
			if !c.Writer.Written() {
				writeProblem(c, Problem{
					Type: "about:blank", Title: http.StatusText(http.StatusInternalServerError),
					Status: http.StatusInternalServerError, Detail: "Internal error.", Code: ugc.EINTERNAL,
					Instance: c.Request.URL.Path, RequestID: requestID(c),
				})
			}
		}
	}()
	c.Next()
}

// TokenVerifier checks a bearer token and returns the user it belongs to.
// Errors are EUNAUTHORIZED domain errors.
type TokenVerifier interface {
	Verify(token string) (uuid.UUID, error)
}

// authenticate requires a valid bearer token and stores its user.
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		s.fail(c, ugc.Errorf(ugc.EUNAUTHORIZED, "a bearer token is required"))
		return
	}
	user, err := s.verifier.Verify(strings.TrimSpace(token))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(keyUserID, user)
	setSentryUser(c, user.String())
	c.Next()
}

// currentUser returns the user that authenticate stored.
func currentUser(c *gin.Context) uuid.UUID {
	return c.MustGet(keyUserID).(uuid.UUID)
}

// requestTooLarge is the problem for bodies over maxBody.
var requestTooLarge = &statusError{
	status: http.StatusRequestEntityTooLarge, code: codeTooLarge,
	detail: fmt.Sprintf("request body must be at most %d bytes", maxBody),
}
