package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"time"

	"github.com/casapay/casapay"
)

type contextKey int

const (
	requestIDKey contextKey = iota
	scopeKey
)

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// assignRequestID gives every request a Request-Id header, which also names it in the log.
func assignRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := casapay.NewID("req")
		w.Header().Set("Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// statusRecorder remembers the status a handler wrote, for the log and for the panic handler.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one structured line per request. It never logs headers, so keys stay out of the log.
func logRequests(logger *slog.Logger, now func() time.Time, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", requestIDFrom(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", redactNumbers(r.URL.Path)),
			slog.Int("status", rec.status),
			slog.Duration("duration", now().Sub(start)),
		)
	})
}

// recoverPanics turns a panic into a logged stack and a generic api_error, so no panic reaches a client.
// http.ErrAbortHandler is re-raised: it is how a handler asks net/http to drop the connection.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			if rec.status != 0 {
				// The answer has started; all that is left is to log and cut the connection.
				logger.ErrorContext(r.Context(), "panic after response started", "request_id", requestIDFrom(r.Context()), "err", err)
				panic(http.ErrAbortHandler)
			}
			writeError(rec, r, logger, err)
		}()
		next.ServeHTTP(rec, r)
	})
}

// limitBody caps every request body at MaxBodyBytes; the decoder turns the overflow into a 413.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// rejectUncleanPaths answers what ServeMux would answer in plain text, or not at all, with the JSON
// envelope: a path that is not in clean form, such as "/v1/./customers" or "//x" (ServeMux redirects
// it), and a "*" target (an empty 400), get the unknown-route 404; CONNECT, whose target is a host, gets
// 405. Every answer of the API is JSON; no SDK sends such requests. `OPTIONS *` reaches here only when
// the http.Server's DisableGeneralOptionsHandler is set, as serve sets it.
func rejectUncleanPaths(logger *slog.Logger, next http.Handler) http.Handler {
	unknown := handleUnknownRoute(logger)
	connect := handleMethodNotAllowed(logger, "GET, POST, DELETE")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodConnect:
			connect.ServeHTTP(w, r)
		case r.RequestURI == "*" || path.Clean(r.URL.Path) != r.URL.Path:
			unknown.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
