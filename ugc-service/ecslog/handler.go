package ecslog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// timeLayout writes every time of a line, @timestamp and attributes alike,
// in UTC with exactly three decimals, so that the strings sort as the
// instants do (the API's own responses use the same layout).
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// handler writes each record as one JSON line with ECS keys. It does what
// slog's JSONHandler with renamed keys did, at a fraction of the cost: the
// access line of every request goes through it, and JSONHandler's
// ReplaceAttr pass and reflection-based values cost more than serving a
// cached summary. Groups are written as dotted keys ("a.b"), which is how
// ECS spells nesting and how Elasticsearch reads it either way.
type handler struct {
	w io.Writer
	// mu makes each line one Write that no other line interleaves with;
	// nil for a BufferedWriter, whose Write is already atomic.
	mu    *sync.Mutex
	level slog.Leveler
	attrs []byte // `,"k":v` of the attributes added by WithAttrs
	group string // key prefix from WithGroup, "" or ending in "."
}

func newHandler(w io.Writer, level slog.Leveler) *handler {
	h := &handler{w: w, level: level}
	if _, ok := w.(*BufferedWriter); !ok {
		h.mu = &sync.Mutex{}
	}
	return h
}

// buffers recycles line buffers; lines over maxPooled are not kept.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooled = 16 << 10

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	bp := buffers.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, '{')
	if !r.Time.IsZero() {
		b = append(b, `"@timestamp":"`...)
		b = r.Time.UTC().AppendFormat(b, timeLayout)
		b = append(b, `",`...)
	}
	b = append(b, `"log.level":`...)
	b = appendString(b, levelName(r.Level))
	b = append(b, `,"message":`...)
	b = appendString(b, r.Message)
	b = append(b, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		b = appendAttr(b, h.group, a)
		return true
	})
	b = append(b, '}', '\n')

	if h.mu != nil {
		h.mu.Lock()
	}
	_, err := h.w.Write(b)
	if h.mu != nil {
		h.mu.Unlock()
	}
	if cap(b) <= maxPooled {
		*bp = b
		buffers.Put(bp)
	}
	return err
}

// levelName is ECS's lower-case spelling of l, without lowering a string
// on every line for the four levels the service uses.
func levelName(l slog.Level) string {
	switch l {
	case slog.LevelDebug:
		return "debug"
	case slog.LevelInfo:
		return "info"
	case slog.LevelWarn:
		return "warn"
	case slog.LevelError:
		return "error"
	}
	return strings.ToLower(l.String())
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]byte(nil), h.attrs...)
	for _, a := range attrs {
		c.attrs = appendAttr(c.attrs, h.group, a)
	}
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

// Fields is a set of attributes that a hot path encodes itself, passed as
// the value of one attribute with an empty key (slog.Any("", f)): the
// handler writes its pairs at the top level of the line. It spares the
// access line one slog.Attr per field.
type Fields interface {
	// AppendFields appends `,"key":value` for each field, with the
	// Append* functions of this package.
	AppendFields(b []byte) []byte
}

// AppendString appends `,"key":"value"`.
func AppendString(b []byte, key, value string) []byte {
	return appendString(appendKey(b, key), value)
}

// AppendInt appends `,"key":value`.
func AppendInt(b []byte, key string, value int64) []byte {
	return strconv.AppendInt(appendKey(b, key), value, 10)
}

// appendKey appends `,"key":`, the start of every pair after the first.
func appendKey(b []byte, key string) []byte {
	b = append(b, ',')
	b = appendString(b, key)
	return append(b, ':')
}

// appendAttr appends `,"prefix+key":value`, flattening groups; empty
// attributes and empty groups are left out, as slog asks of handlers.
func appendAttr(b []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	// Kind first: Any boxes the other kinds' values, an allocation each.
	if a.Key == "" && a.Value.Kind() == slog.KindAny {
		if f, ok := a.Value.Any().(Fields); ok {
			return f.AppendFields(b)
		}
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			b = appendAttr(b, prefix, g)
		}
		return b
	}
	return appendValue(appendKey(b, prefix+a.Key), a.Value)
}

func appendValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendString(b, strconv.FormatFloat(f, 'g', -1, 64)) // JSON has no such numbers
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return strconv.AppendInt(b, int64(v.Duration()), 10) // nanoseconds, as ECS's event.duration
	case slog.KindTime:
		return appendString(b, v.Time().UTC().Format(timeLayout))
	}
	any := v.Any()
	if err, ok := any.(error); ok {
		return appendString(b, err.Error())
	}
	j, err := json.Marshal(any)
	if err != nil {
		return appendString(b, fmt.Sprint(any))
	}
	return append(b, j...)
}

// appendString appends s as a JSON string, escaping what JSON requires plus
// U+2028 and U+2029 (which break JavaScript that embeds the line), and
// writing invalid UTF-8 as U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, `\u00`...)
				b = append(b, hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, `\u202`...)
				b = append(b, hex[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"
