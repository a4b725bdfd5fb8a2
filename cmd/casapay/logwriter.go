package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logFlushEvery is how long a log line may wait in serve's buffer before it is written out.
const logFlushEvery = 100 * time.Millisecond

// logWriter buffers serve's log, one line a request, and writes it out when the buffer fills, every
// logFlushEvery, after a warning or an error, and at Close. Written one write(2) a line, the log cost a
// request as much as encoding its answer. A process killed outright loses at most the last
// logFlushEvery of info lines; warnings and errors are written at once.
type logWriter struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newLogWriter(w io.Writer) *logWriter {
	l := &logWriter{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(logFlushEvery)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
				l.Flush()
			}
		}
	}()
	return l
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Flush writes out what the buffer holds. A failed write is not retried: the lines are dropped, as an
// unbuffered log would have dropped them.
func (l *logWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.buf.Flush(); err != nil {
		l.buf.Reset(io.Discard) // a broken stderr must not block serve; nothing more can be logged
	}
}

// Close stops the flusher and writes out the rest.
func (l *logWriter) Close() {
	close(l.stop)
	<-l.done
	l.Flush()
}

// flushingHandler is a slog.Handler that writes out the buffer after every record at slog.LevelWarn or
// above, so that what an operator must see is never held back.
type flushingHandler struct {
	slog.Handler
	w *logWriter
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.w.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.w}
}
