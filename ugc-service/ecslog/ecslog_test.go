package ecslog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/ugcstack/ugcstack/ugc-service/ecslog"
)

func TestECSKeys(t *testing.T) {
	var buf bytes.Buffer
	log := ecslog.New(&buf, slog.LevelInfo)
	log.Debug("hidden")
	log.Warn("disk almost full", ecslog.KeyRequestID, "abc")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	for key, want := range map[string]any{"log.level": "warn", "message": "disk almost full", "http.request.id": "abc", "service.name": "ugc"} {
		if line[key] != want {
			t.Errorf("%s = %v, want %v", key, line[key], want)
		}
	}
	ts, _ := line["@timestamp"].(string)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Errorf("@timestamp %q: %v", ts, err)
	}
	for _, old := range []string{"time", "level", "msg"} {
		if _, ok := line[old]; ok {
			t.Errorf("non-ECS key %q present", old)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ecslog.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ecslog.ParseLevel("loud"); err == nil {
		t.Error("unknown level accepted")
	}
}
