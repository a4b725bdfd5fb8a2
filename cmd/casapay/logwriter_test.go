package main

import (
	"log/slog"
	"strings"
	"testing"
)

// TestLogWriter: a warning is written out at once, with the info lines before it, in order; what is
// left is written out at Close.
func TestLogWriter(t *testing.T) {
	out := &syncBuffer{}
	w := newLogWriter(out)
	logger := slog.New(flushingHandler{slog.NewTextHandler(w, nil), w})
	logger.Info("request", "n", 1)
	logger.Warn("hand back rate budgets", "n", 2)
	if got := out.tail(1 << 10); !strings.Contains(got, "n=1") || !strings.Contains(got, "n=2") ||
		strings.Index(got, "n=1") > strings.Index(got, "n=2") {
		t.Errorf("after a warning the log holds %q, want the info line and then the warning", got)
	}
	logger.Info("request", "n", 3)
	w.Close()
	if got := out.tail(1 << 10); strings.Count(got, "\n") != 3 || !strings.HasSuffix(got, "n=3\n") {
		t.Errorf("after Close the log holds %q, want all three lines", got)
	}
}
