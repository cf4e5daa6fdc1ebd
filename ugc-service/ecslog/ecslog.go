// Package ecslog makes log/slog write JSON lines whose keys follow the Elastic
// Common Schema, so Filebeat and Logstash index them without renaming.
package ecslog

import (
	"io"
	"log/slog"
)

// ECS field names used across the service.
const (
	KeyRequestID = "http.request.id"
	KeyTraceID   = "trace.id"
	KeyUserID    = "user.id"
	KeyError     = "error.message"
)

// New returns a JSON logger at the given level whose built-in keys are the
// ECS ones (@timestamp, log.level, message) and which tags every line with the
// service name.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(newHandler(w, level)).With("service.name", "ugc", "ecs.version", "8.11.0")
}

// ParseLevel reads a level name (debug, info, warn, error).
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}
