package ecslog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

	// A half-full buffer goes out at once; a line the buffer cannot hold
	// is dropped and counted; Close writes the tail.
	if _, err := w.Write([]byte(strings.Repeat("x", 600) + "\n")); err != nil {
		t.Fatal(err)
	}
	for len(sink.snapshot()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := w.Write([]byte(strings.Repeat("y", 2<<10))); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("tail\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(sink.snapshot(), ""); !strings.HasSuffix(all, "tail\n") || len(all) != 50+601+5 || w.Dropped() != 1 {
		t.Fatalf("after Close the sink holds %d bytes, %d lines dropped", len(all), w.Dropped())
	}
}

// stuckSink takes nothing until released, like a pipe whose reader stopped.
type stuckSink struct {
	release chan struct{}
	got     atomic.Int64
}

func (s *stuckSink) Write(p []byte) (int, error) {
	<-s.release
	s.got.Add(int64(len(p)))
	return len(p), nil
}

// TestBufferedWriterNeverWaitsOnItsSink: when stdout's reader stopped,
// every request hung on its access line after ~70 KB. Writers must go on,
// dropping (and counting) what does not fit, and the lines flow again once
// the sink reads.
func TestBufferedWriterNeverWaitsOnItsSink(t *testing.T) {
	sink := &stuckSink{release: make(chan struct{})}
	w := ecslog.NewBufferedWriter(sink, 4<<10, time.Millisecond)
	line := []byte(strings.Repeat("a", 99) + "\n")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10_000 { // 1 MB: far past the buffer and any pipe's
			_, _ = w.Write(line)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("writers wait on a sink that does not read")
	}
	if d := w.Dropped(); d < 9_000 {
		t.Fatalf("%d lines dropped of 10,000 into a 4 KiB buffer whose sink is stuck", d)
	}
	close(sink.release)
	_, _ = w.Write(line)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if sink.got.Load() == 0 {
		t.Fatal("nothing reached the sink once it read again")
	}
}

// TestBufferedWriterSurvivesAClosedSink: a sink that refuses (a closed
// pipe answers EPIPE) costs the lines, counted, and nothing else; Close
// does not hang on a sink that never reads.
func TestBufferedWriterSurvivesAClosedSink(t *testing.T) {
	w := ecslog.NewBufferedWriter(failingSink{}, 4<<10, time.Millisecond)
	for range 100 {
		if _, err := w.Write([]byte("line\n")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for w.Dropped() < 100 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if w.Dropped() != 100 {
		t.Fatalf("%d of 100 refused lines counted", w.Dropped())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	stuck := ecslog.NewBufferedWriter(&stuckSink{release: make(chan struct{})}, 4<<10, time.Hour)
	_, _ = stuck.Write([]byte("line\n"))
	start := time.Now()
	if err := stuck.Close(); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Close on a stuck sink: %v after %s", err, time.Since(start))
	}
}

type failingSink struct{}

func (failingSink) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// reference is the handler ecslog used before its own: slog's JSONHandler
// with the ECS keys. Every line must decode to the same object.
func reference(w *bytes.Buffer) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		// Times in UTC with three decimals, not JSONHandler's RFC3339Nano.
		if a.Value.Kind() == slog.KindTime {
			a.Value = slog.StringValue(a.Value.Time().UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		}
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			a.Key = "@timestamp"
		case slog.LevelKey:
			a.Key, a.Value = "log.level", slog.StringValue(strings.ToLower(a.Value.String()))
		case slog.MessageKey:
			a.Key = "message"
		}
		return a
	}})
	return slog.New(h).With("service.name", "ugc", "ecs.version", "8.11.0")
}

type point struct{ X, Y int }

func TestHandlerWritesWhatJSONHandlerWrote(t *testing.T) {
	attrs := []slog.Attr{
		slog.String("plain", "GET /api/v1/films/:film_id/summary"),
		slog.String("escapes", "quote\" backslash\\ nl\n tab\t ctl\x01 del\x7f"),
		slog.String("unicode", "фильм 🎬 \u2028\u2029 <&>"),
		slog.String("invalid", "bad\xff\xfebytes"),
		slog.Int("int", -42), slog.Uint64("uint", 1<<63), slog.Float64("float", 0.1), slog.Float64("big", 1e21),
		slog.Bool("bool", true), slog.Duration("event.duration", 1500*time.Microsecond),
		slog.Time("at", time.Date(2026, 11, 29, 17, 0, 0, 123456789, time.UTC)),
		slog.Any("error.message", errors.New("boom")), slog.Any("struct", point{1, 2}), slog.Any("nil", nil),
	}
	var got, want bytes.Buffer
	ecslog.New(&got, slog.LevelDebug).LogAttrs(t.Context(), slog.LevelInfo, "msg \"q\"", attrs...)
	reference(&want).LogAttrs(t.Context(), slog.LevelInfo, "msg \"q\"", attrs...)
	var g, w map[string]any
	if err := json.Unmarshal(got.Bytes(), &g); err != nil {
		t.Fatalf("not JSON: %q: %v", got.String(), err)
	}
	if err := json.Unmarshal(want.Bytes(), &w); err != nil {
		t.Fatal(err)
	}
	delete(g, "@timestamp") // two records, two clocks
	delete(w, "@timestamp")
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("lines differ\n got: %s\nwant: %s", got.String(), want.String())
	}
	if strings.Count(got.String(), "\n") != 1 || !strings.HasSuffix(got.String(), "\n") {
		t.Fatalf("not one line: %q", got.String())
	}
}

// TestHandlerGroupsAreDotted: ECS nests with dots; a group's attributes are
// written under dotted keys, and empty ones are left out.
func TestHandlerGroupsAreDotted(t *testing.T) {
	var buf bytes.Buffer
	log := ecslog.New(&buf, slog.LevelInfo).WithGroup("http").With("version", "1.1")
	log.Info("m", slog.Group("request", slog.String("method", "GET")), slog.Group("empty"), slog.Attr{})
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["http.version"] != "1.1" || line["http.request.method"] != "GET" || line["service.name"] != "ugc" {
		t.Fatalf("line %s", buf.String())
	}
	if _, ok := line["http.empty"]; ok {
		t.Fatalf("empty group written: %s", buf.String())
	}
}

func BenchmarkAccessLine(b *testing.B) {
	for name, log := range map[string]*slog.Logger{"ecslog": ecslog.New(io.Discard, slog.LevelInfo), "jsonhandler": reference(&bytes.Buffer{})} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(b.Context(), slog.LevelInfo, "GET /api/v1/films/:film_id/summary",
					slog.String("event.dataset", "ugc.access"), slog.String("http.request.method", "GET"),
					slog.String("url.path", "/api/v1/films/6f1c1b4e-8c43-4bb2-9a4e-0a1de2b0c9d1/summary"),
					slog.String("http.route", "/api/v1/films/:film_id/summary"), slog.Int("http.response.status_code", 200),
					slog.Int("http.response.body.bytes", 160), slog.Int64("event.duration", 123456),
					slog.String("client.ip", "127.0.0.1"), slog.String("user_agent.original", "wrk"),
					slog.String("http.request.id", "0123456789abcdef0123456789abcdef"), slog.String("trace.id", "0123456789abcdef0123456789abcdef"))
			}
		})
	}
}

// fields is an ecslog.Fields of two pairs.
type fields struct{ route string }

func (f *fields) AppendFields(b []byte) []byte {
	b = ecslog.AppendString(b, "http.route", f.route)
	return ecslog.AppendInt(b, "http.response.status_code", 200)
}

func TestFieldsAreWrittenAtTopLevel(t *testing.T) {
	var buf bytes.Buffer
	ecslog.New(&buf, slog.LevelInfo).Info("m", slog.Any("", &fields{`/a"b`}), slog.String("after", "x"))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%q: %v", buf.String(), err)
	}
	if line["http.route"] != `/a"b` || line["http.response.status_code"] != 200.0 || line["after"] != "x" {
		t.Fatalf("line %s", buf.String())
	}
}

func BenchmarkAccessLineFields(b *testing.B) {
	log := ecslog.New(io.Discard, slog.LevelInfo)
	f := &fields{"/api/v1/films/:film_id/summary"}
	b.ReportAllocs()
	for b.Loop() {
		log.LogAttrs(b.Context(), slog.LevelInfo, "GET /api/v1/films/:film_id/summary", slog.Any("", f))
	}
}
