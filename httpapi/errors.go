package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/casapay/casapay"
)

// internalError is what a client sees of any error that is not a *casapay.Error: the details stay in the log.
var internalError = &casapay.Error{Type: casapay.ErrorTypeAPI, Message: "An unexpected error occurred. Please try again later."}

// writeError is the only place an error becomes a response.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var e *casapay.Error
	if !errors.As(err, &e) {
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			// The client went away before the answer was ready: nothing failed on our side.
			logger.InfoContext(r.Context(), "request cancelled by the client", "request_id", requestIDFrom(r.Context()))
		} else {
			logger.ErrorContext(r.Context(), "request failed", "request_id", requestIDFrom(r.Context()), "err", err)
		}
		e = internalError
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Reason != "" {
		// Stripe's SDKs retry a 429 only when told to.
		w.Header().Set("Stripe-Rate-Limited-Reason", e.Reason)
		w.Header().Set("Stripe-Should-Retry", "true")
	}
	encode(w, statusFor(e), map[string]*casapay.Error{"error": e})
}

// statusFor is the HTTP status of an error: its own when set, otherwise its type's.
func statusFor(e *casapay.Error) int {
	if e.Status != 0 {
		return e.Status
	}
	switch e.Type {
	case casapay.ErrorTypeInvalidRequest, casapay.ErrorTypeIdempotency:
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

func handleUnknownRoute(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, logger, &casapay.Error{
			Type:    casapay.ErrorTypeInvalidRequest,
			Message: fmt.Sprintf("Unrecognized request URL (%s: %s).", echo(r.Method), echo(r.URL.Path)),
			Status:  http.StatusNotFound,
		})
	})
}

func handleMethodNotAllowed(logger *slog.Logger, allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, r, logger, &casapay.Error{
			Type:    casapay.ErrorTypeInvalidRequest,
			Message: fmt.Sprintf("Method %s is not allowed on %s; use %s.", r.Method, r.URL.Path, allow),
			Status:  http.StatusMethodNotAllowed,
		})
	})
}
