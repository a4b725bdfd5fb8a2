// Package httpapi is CasaPay's HTTP API: routing, authentication, request decoding, idempotency and the
// wire format of responses and errors. It stores nothing itself; every request reaches a casapay.Store.
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/casapay/casapay"
)

// MaxBodyBytes is the largest request body CasaPay reads; a larger one is answered with 413.
const MaxBodyBytes = 1 << 20

// Option changes how NewServer's server behaves.
type Option func(*webhookHosts)

// AllowPrivateWebhooks lets live-mode webhook endpoints point at loopback, private and link-local
// addresses, which they otherwise may not.
func AllowPrivateWebhooks() Option { return func(h *webhookHosts) { h.allowPrivate = true } }

// WithLookup resolves the host names of live-mode webhook endpoints with lookup instead of the system's
// resolver: for tests.
func WithLookup(lookup func(ctx context.Context, host string) ([]netip.Addr, error)) Option {
	return func(h *webhookHosts) { h.lookup = lookup }
}

// NewServer returns the whole API as one handler. now is the clock that stamps created times and
// idempotency records. Every request gets a Request-Id, one log line, and a JSON answer even if a
// handler panics. With a non-nil metrics every request is also counted and timed, and GET /metrics
// is served if metrics.Handler is set; a nil metrics means no instrumentation.
func NewServer(logger *slog.Logger, store casapay.Store, now func() time.Time, metrics *Metrics, opts ...Option) http.Handler {
	var metricsHandler http.Handler
	if metrics != nil {
		metricsHandler = metrics.Handler
	}
	hosts := webhookHosts{lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}}
	for _, o := range opts {
		o(&hosts)
	}
	mux := http.NewServeMux()
	addRoutes(mux, logger, store, now, metricsHandler, hosts)
	var h http.Handler = mux
	h = rejectUncleanPaths(logger, h)
	h = limitBody(h)
	h = echoIdempotencyKey(h)
	h = recoverPanics(logger, h)
	// Outside recoverPanics, so a panic counts as the 500 it answers; inside assignRequestID, whose
	// WithContext copy of the request would hide the r.Pattern that the mux sets.
	h = instrument(metrics, now, h)
	h = logRequests(logger, now, h)
	h = assignRequestID(h)
	return h
}
