// Package ecslog makes log/slog write JSON lines whose keys follow the Elastic
// Common Schema, so Filebeat and Logstash index them without renaming.
package ecslog

import (
	"io"
	"log/slog"
	"strings"
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
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replace})
	return slog.New(h).With("service.name", "ugc", "ecs.version", "8.11.0")
}

func replace(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		a.Key = "@timestamp"
		a.Value = slog.StringValue(a.Value.Time().UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	case slog.LevelKey:
		a.Key = "log.level"
		a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
	case slog.MessageKey:
		a.Key = "message"
	}
	return a
}

// ParseLevel reads a level name (debug, info, warn, error).
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}
