package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"golang.org/x/time/rate"

	"github.com/casapay/casapay"
)

// limiter holds each account's budgets in one process: a token bucket per account, mode and kind of
// request (reads are GET; writes POST and DELETE), refilled at the mode's rate with casapay.RateBurst
// above it, and a count of the account's requests in flight in each mode, bounded by the same number.
type limiter struct {
	limits   casapay.RateLimits
	metrics  *Metrics
	mu       sync.Mutex
	buckets  map[bucketKey]*rate.Limiter
	inFlight map[casapay.Scope]int
}

type bucketKey struct {
	scope casapay.Scope
	write bool
}

func newLimiter(limits casapay.RateLimits, metrics *Metrics) *limiter {
	return &limiter{limits: limits, metrics: metrics, buckets: map[bucketKey]*rate.Limiter{}, inFlight: map[casapay.Scope]int{}}
}

// admit decides whether a request of scope may run now, and returns the function that ends it.
func (l *limiter) admit(scope casapay.Scope, write bool) (release func(), err *casapay.Error) {
	perSecond := l.limits.PerSecond(scope.Livemode)
	kind := "read"
	if write {
		kind = "write"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[scope] >= perSecond {
		l.metrics.rateLimited("refused", "global-concurrency")
		return nil, casapay.ErrRateLimited("global-concurrency", fmt.Sprintf(
			"Too many requests of this account in flight at once: at most %d in this mode. Retry after the ones in flight end.", perSecond))
	}
	key := bucketKey{scope, write}
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(rate.Limit(perSecond), perSecond+casapay.RateBurst)
		l.buckets[key] = b
	}
	if !b.Allow() {
		l.metrics.rateLimited("refused", "global-rate")
		return nil, casapay.ErrRateLimited("global-rate", fmt.Sprintf(
			"Too many %s requests: this account may make %d per second in this mode. Retry after a second.", kind, perSecond))
	}
	l.inFlight[scope]++
	l.metrics.rateLimited("admitted", "")
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.inFlight[scope]--; l.inFlight[scope] == 0 {
			delete(l.inFlight, scope)
		}
	}, nil
}

// limitRate admits each authenticated request through l before next runs, or answers 429.
func limitRate(logger *slog.Logger, l *limiter, next http.Handler) http.Handler {
	if l == nil || l.limits.Off {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := l.admit(scopeFrom(r.Context()), r.Method != http.MethodGet && r.Method != http.MethodHead)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
