package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute labels requests that no route of the API claimed: unknown URLs, which the catch-all
// "/" answers, and requests the ServeMux redirects before any pattern matches. Labelling them by
// path would let any client create a new series with every URL it makes up.
const unmatchedRoute = "unmatched"

// Metrics counts and times the requests the API answers, labelled by route: the ServeMux pattern
// that matched, such as "GET /v1/customers/{id}", never the raw path. Make one with NewMetrics and
// pass it to NewServer; it is safe for concurrent use.
type Metrics struct {
	// Handler, when set before NewServer is called, is served without an API key at GET /metrics on
	// the API address. Leave it nil to serve the metrics on another address, or not at all.
	Handler http.Handler

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	limited  *prometheus.CounterVec
	budget   *prometheus.CounterVec
}

// rateBudget counts one exchange with a shared rate budget ("draw" or "return") and the requests it
// moved; a nil m counts nothing.
func (m *Metrics) rateBudget(op string, requests int) {
	if m != nil {
		m.budget.WithLabelValues(op, "exchanges").Inc()
		m.budget.WithLabelValues(op, "requests").Add(float64(requests))
	}
}

// rateLimited counts one decision of the rate limiter; a nil m counts nothing.
func (m *Metrics) rateLimited(decision, reason string) {
	if m != nil {
		m.limited.WithLabelValues(decision, reason).Inc()
	}
}

// NewMetrics creates the API's request metrics and registers them on reg. It panics if reg already
// holds metrics of the same names, as when it is called twice with one registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casapay_http_requests_total",
			Help: "HTTP requests answered, by route (the pattern that matched), method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "casapay_http_request_duration_seconds",
			Help: "Time from receiving a request to its handler returning, in seconds, by route.",
			// From a cached read on loopback (about 0.5 ms) to a write stuck behind a slow disk.
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	m.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "casapay_rate_limit_decisions_total",
		Help: "Requests the rate limiter admitted or refused, by decision and, for refusals, reason (global-rate or global-concurrency).",
	}, []string{"decision", "reason"})
	m.budget = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "casapay_rate_budget_total",
		Help: "Round trips to the rate budgets shared through PostgreSQL (what=exchanges), and the requests they drew or returned (what=requests), by op (draw or return).",
	}, []string{"op", "what"})
	reg.MustRegister(m.requests, m.duration, m.limited, m.budget)
	return m
}

// instrument counts and times each request in m; with a nil m it returns next unchanged. It reads
// r.Pattern after next returns, which works only because ServeMux sets it on the very request it
// is given: no middleware between this one and the mux may replace the request (WithContext).
func instrument(m *Metrics, now func() time.Time, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		// A handler that panics to abort the connection never gets here; it answered nothing to count.
		route := r.Pattern
		if route == "" || route == "/" {
			route = unmatchedRoute
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK // net/http's answer when a handler writes nothing
		}
		m.requests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route).Observe(now().Sub(start).Seconds())
	})
}

// methodLabel returns method if HTTP defines it, and "other" if not: a client may send any token as
// its method, and each would otherwise become a series of its own.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}
