package ecslog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
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

// slowSink records each write it gets.
type slowSink struct {
	mu     sync.Mutex
	writes []string
}

func (s *slowSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, string(p))
	return len(p), nil
}

func (s *slowSink) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

func TestBufferedWriterBatchesAndFlushes(t *testing.T) {
	sink := &slowSink{}
	w := ecslog.NewBufferedWriter(sink, 1<<10, 20*time.Millisecond)
	for range 10 {
		if _, err := w.Write([]byte("line\n")); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sink.snapshot()); n != 0 {
		t.Fatalf("%d writes reached the sink before any flush", n)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(sink.snapshot()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := sink.snapshot(); len(got) != 1 || got[0] != strings.Repeat("line\n", 10) {
		t.Fatalf("after the interval the sink got %q, want the ten lines in one write", got)
	}

	// A full buffer goes through at once; Close flushes the tail.
	if _, err := w.Write([]byte(strings.Repeat("x", 2<<10))); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("tail\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(sink.snapshot(), ""); !strings.HasSuffix(all, "tail\n") || len(all) != 50+2<<10+5 {
		t.Fatalf("after Close the sink holds %d bytes", len(all))
	}
}
