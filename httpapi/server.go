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

// options are what NewServer's Options set.
type options struct {
	hosts  webhookHosts
	limits casapay.RateLimits
}

// Option changes how NewServer's server behaves.
type Option func(*options)

// AllowPrivateWebhooks lets live-mode webhook endpoints point at loopback, private and link-local
// addresses, which they otherwise may not.
func AllowPrivateWebhooks() Option { return func(o *options) { o.hosts.allowPrivate = true } }

// WithLookup resolves the host names of live-mode webhook endpoints with lookup instead of the system's
// resolver: for tests.
func WithLookup(lookup func(ctx context.Context, host string) ([]netip.Addr, error)) Option {
	return func(o *options) { o.hosts.lookup = lookup }
}

// WithRateLimits limits each account's requests (see casapay.RateLimits), each account's own limits
// taking the place of these where it has them. A store that is also casapay.RateBudgets shares the
// budgets with every process on it; any other is limited in this process. Without it, nothing is limited.
func WithRateLimits(limits casapay.RateLimits) Option {
	return func(o *options) { o.limits = limits }
}

// Server is the whole API, as one http.Handler. Close it once it serves no more requests and before
// its store closes.
type Server struct {
	http.Handler
	limiter *limiter
}

// Close hands back to the store what this server holds of shared rate budgets, and stops the work that
// does so in the background.
func (s *Server) Close(ctx context.Context) error { return s.limiter.close(ctx) }

// NewServer returns the whole API. now is the clock that stamps created times and idempotency records.
// Every request gets a Request-Id, one log line, and a JSON answer even if a handler panics. With a
// non-nil metrics every request is also counted and timed, and GET /metrics is served if
// metrics.Handler is set; a nil metrics means no instrumentation.
func NewServer(logger *slog.Logger, store casapay.Store, now func() time.Time, metrics *Metrics, opts ...Option) *Server {
	var metricsHandler http.Handler
	if metrics != nil {
		metricsHandler = metrics.Handler
	}
	o := options{hosts: webhookHosts{lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}}, limits: casapay.RateLimits{Off: true}}
	for _, opt := range opts {
		opt(&o)
	}
	mux := http.NewServeMux()
	shared, _ := store.(casapay.RateBudgets) // PostgreSQL: every process draws from the same budgets
	limits := newLimiter(o.limits, metrics, shared, logger)
	addRoutes(mux, logger, store, now, metricsHandler, o.hosts, limits)
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
	return &Server{Handler: h, limiter: limits}
}
