package ecslog

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// BufferedWriter batches log lines into few write calls, and keeps the
// callers off the sink. On this service's hot paths a write to stdout (a
// pipe to the container runtime) costs about as much as serving a cached
// read, so one syscall per access line would halve throughput; and a sink
// that stops reading must not stop the service: when the pipe filled, every
// request, /healthz included, used to hang on its access line.
//
// Write only appends to a bounded buffer, never touching the sink; one
// goroutine writes the buffer out every interval, or sooner when it is half
// full. While the sink blocks, lines pile up to the bound and the rest are
// dropped and counted (Dropped), as are lines the sink refuses (a closed
// pipe answers EPIPE). What a crash (not a panic, which is recovered and
// logged) can lose is at most one interval of lines.
type BufferedWriter struct {
	w     io.Writer
	limit int

	mu      sync.Mutex
	pending []byte
	spare   []byte

	wake    chan struct{} // a buffered signal: write out now
	stop    chan struct{}
	done    chan struct{}
	dropped atomic.Uint64
}

// closeWait bounds how long Close waits for a sink that does not read.
const closeWait = 2 * time.Second

// NewBufferedWriter holds up to limit bytes for w and writes them out every
// interval.
func NewBufferedWriter(w io.Writer, limit int, interval time.Duration) *BufferedWriter {
	b := &BufferedWriter{
		w: w, limit: limit, pending: make([]byte, 0, limit), spare: make([]byte, 0, limit),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go b.writeEvery(interval)
	return b
}

// Write buffers p whole, or drops it when the buffer has no room for it:
// it never waits on the sink and never fails.
func (b *BufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	fits := len(b.pending)+len(p) <= b.limit
	if fits {
		b.pending = append(b.pending, p...)
	}
	half := len(b.pending) >= b.limit/2
	b.mu.Unlock()
	if !fits {
		b.dropped.Add(1)
	}
	if half {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Dropped is how many lines were dropped since the start: the buffer was
// full, or the sink refused them.
func (b *BufferedWriter) Dropped() uint64 { return b.dropped.Load() }

// Close writes out what is buffered and stops, waiting at most closeWait
// for a sink that does not read.
func (b *BufferedWriter) Close() error {
	close(b.stop)
	select {
	case <-b.done:
		return nil
	case <-time.After(closeWait):
		return errors.New("ecslog: the log sink did not take the last lines within 2s")
	}
}

func (b *BufferedWriter) writeEvery(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-b.wake:
		case <-b.stop:
			b.writeOut()
			return
		}
		b.writeOut()
	}
}

// writeOut hands the buffered lines to the sink, outside the lock, so that
// Write goes on while the sink takes its time. Lines the sink refuses are
// counted as dropped: there is nowhere else to report them.
func (b *BufferedWriter) writeOut() {
	b.mu.Lock()
	batch := b.pending
	b.pending, b.spare = b.spare[:0], nil
	b.mu.Unlock()
	if len(batch) > 0 {
		if _, err := b.w.Write(batch); err != nil {
			// Every line ends in a newline; a batch is at least one line.
			b.dropped.Add(uint64(max(bytes.Count(batch, []byte{'\n'}), 1)))
		}
	}
	b.mu.Lock()
	b.spare = batch[:0]
	b.mu.Unlock()
}
