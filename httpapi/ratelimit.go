package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/casapay/casapay"
)

// leaseTerm is how long a process keeps requests it drew from a shared budget and has not used before it
// hands them back, so that a process whose clients went quiet does not sit on a budget others need.
const leaseTerm = 250 * time.Millisecond

// drawTimeout bounds one draw from a shared budget.
const drawTimeout = 2 * time.Second

// decision is what take decided for a request.
type decision int

const (
	refused  decision = iota
	admitted          // the request took one from its budget
	gone              // the client went away while the request waited for a draw
)

// sliceOf is how many requests a process draws from a shared budget at a time: a tenth of a second's
// worth, so that a busy account costs its process about ten round trips a second whatever its load, and
// a process holds little that others might need.
func sliceOf(perSecond int) int { return max(1, perSecond/10) }

// limiter holds each account's budgets, per mode and kind of request (reads are GET; writes POST and
// DELETE): token buckets of the mode's rate with casapay.RateBurst above it (casapay.NewRateBucket).
// It also counts each account's requests in flight in each mode in this process, bounded by the rate.
//
// With a store that shares budgets between processes (casapay.RateBudgets, PostgreSQL), the buckets
// live in the database and the limiter leases slices of them (sliceOf): a request takes from the
// slice in hand, and only the request that finds it empty draws the next one, in one statement, while
// the process's other requests of the budget wait for that draw. When the bucket cannot fill a slice,
// the limiter refuses locally until it can, and a slice left unused for leaseTerm goes back to the
// bucket. Otherwise (SQLite, one process) the buckets are in memory.
type limiter struct {
	limits  casapay.RateLimits
	metrics *Metrics
	shared  casapay.RateBudgets // nil: buckets in memory
	logger  *slog.Logger

	mu       sync.Mutex
	buckets  map[casapay.RateKey]*rate.Limiter
	leases   map[casapay.RateKey]*lease
	inFlight map[casapay.Scope]int
	sweeping bool          // a goroutine hands back expired leases (handBack)
	closed   bool          // close was called: no more sweeps
	done     chan struct{} // closed by close, to end a sweep
	sweeps   sync.WaitGroup
}

// lease is what this process holds of one shared budget.
type lease struct {
	bucket  casapay.RateBucket
	left    int           // requests drawn and not used yet
	drawn   time.Time     // when they were drawn
	next    time.Time     // the bucket has no slice before then: refuse without asking
	drawing chan struct{} // non-nil while a draw is in flight, closed when it ends
}

// newLimiter returns a limiter of limits. It keeps time by the system's clock, as every process sharing
// a budget must, whatever clock the server stamps objects with.
func newLimiter(limits casapay.RateLimits, metrics *Metrics, shared casapay.RateBudgets, logger *slog.Logger) *limiter {
	return &limiter{limits: limits, metrics: metrics, shared: shared, logger: logger,
		buckets: map[casapay.RateKey]*rate.Limiter{}, leases: map[casapay.RateKey]*lease{}, inFlight: map[casapay.Scope]int{},
		done: make(chan struct{})}
}

// close ends the sweep, if one runs, and hands back every lease's requests at once.
func (l *limiter) close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	l.mu.Unlock()
	l.sweeps.Wait()
	var errs []error
	back, _ := l.takeUnused(0)
	for _, u := range back {
		if err := l.shared.ReturnRateBudget(ctx, u.key, u.bucket, u.n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// admit decides whether a request of scope may run now, with the account's own limit (0 for the
// server's), and returns the function that ends it; neither, when the client went away meanwhile.
func (l *limiter) admit(ctx context.Context, scope casapay.Scope, write bool, own int) (release func(), err *casapay.Error) {
	perSecond := cmp.Or(own, l.limits.PerSecond(scope.Livemode))
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
	l.inFlight[scope]++ // held while take may let go of l.mu, so the bound holds for requests racing it
	end := func() {
		if l.inFlight[scope]--; l.inFlight[scope] == 0 {
			delete(l.inFlight, scope)
		}
	}
	switch l.take(ctx, casapay.RateKey{Scope: scope, Write: write}, casapay.NewRateBucket(perSecond)) {
	case gone:
		end()
		return nil, nil
	case refused:
		end()
		l.metrics.rateLimited("refused", "global-rate")
		return nil, casapay.ErrRateLimited("global-rate", fmt.Sprintf(
			"Too many %s requests: this account may make %d per second in this mode. Retry after a second.", kind, perSecond))
	}
	l.metrics.rateLimited("admitted", "")
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		end()
	}, nil
}

// take takes one request from key's budget, if there is one. l.mu is held; it is let go while a slice is
// drawn from the database, or while waiting for another request's draw.
func (l *limiter) take(ctx context.Context, key casapay.RateKey, b casapay.RateBucket) decision {
	if l.shared == nil {
		lim, ok := l.buckets[key]
		switch {
		case !ok:
			lim = rate.NewLimiter(rate.Limit(b.PerSecond), b.Capacity)
			l.buckets[key] = lim
		case lim.Burst() != b.Capacity: // the account's own limit changed
			lim.SetLimit(rate.Limit(b.PerSecond))
			lim.SetBurst(b.Capacity)
		}
		if lim.Allow() {
			return admitted
		}
		return refused
	}
	for {
		ls, ok := l.leases[key]
		if !ok {
			ls = &lease{}
			l.leases[key] = ls
		}
		if ls.bucket != b {
			// The account's own limit changed: what is in hand was drawn under the old one, and what
			// was known of the bucket is not. The bucket keeps what it holds, up to its new capacity.
			ls.bucket, ls.left, ls.next = b, 0, time.Time{}
		}
		if ls.left > 0 {
			ls.left--
			return admitted
		}
		if ls.drawing != nil {
			drawing := ls.drawing
			l.mu.Unlock()
			select {
			case <-drawing:
			case <-ctx.Done():
			}
			l.mu.Lock()
			if ctx.Err() != nil {
				return gone
			}
			continue
		}
		now := time.Now()
		if now.Before(ls.next) {
			return refused
		}
		want := sliceOf(b.PerSecond)
		g, err := l.draw(ctx, ls, key, b, now, want)
		if err != nil {
			// The request needs the database as much as the draw did: let it go on and meet the outage
			// in its handler, which answers it as one.
			return admitted
		}
		l.metrics.rateBudget("draw", g.Granted)
		ls.left += g.Granted
		ls.drawn = time.Now() // the lease runs from when the slice is in hand
		if g.Granted < want {
			ls.next = b.Available(g, want)
		}
		if ls.left > 0 && !l.sweeping && !l.closed {
			l.sweeping = true
			l.sweeps.Go(l.sweep)
		}
		if ls.left == 0 {
			return refused
		}
		ls.left--
		return admitted
	}
}

// draw draws up to want requests of key's budget as of now, for ls. l.mu is held; draw lets it go for
// the round trip and takes it back however the draw ends, a panic included, having ended ls.drawing for
// the requests that wait on it. The draw outlives a client that goes away meanwhile: the slice serves
// the process's other requests.
func (l *limiter) draw(ctx context.Context, ls *lease, key casapay.RateKey, b casapay.RateBucket, now time.Time, want int) (casapay.RateGrant, error) {
	drawing := make(chan struct{})
	ls.drawing = drawing
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		ls.drawing = nil
		close(drawing)
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drawTimeout)
	defer cancel()
	g, err := l.shared.DrawRateBudget(ctx, key, b, now, want)
	if err != nil {
		l.logger.WarnContext(ctx, "draw rate budget", "err", err)
	}
	return g, err
}

// sweep hands back expired leases every half leaseTerm until this process holds none, or close is called.
func (l *limiter) sweep() {
	tick := time.NewTicker(leaseTerm / 2)
	defer tick.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-tick.C:
		}
		if !l.handBack() {
			return
		}
	}
}

// unused is what a lease held and did not use.
type unused struct {
	key    casapay.RateKey
	bucket casapay.RateBucket
	n      int
}

// takeUnused takes out of their leases the requests held for at least term, forgets leases that hold
// nothing and know nothing, and reports whether a lease still holds requests; when none does, it clears
// l.sweeping, for the next draw to start a sweep.
func (l *limiter) takeUnused(term time.Duration) (back []unused, holding bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for key, ls := range l.leases {
		if ls.left > 0 && now.Sub(ls.drawn) >= term {
			back = append(back, unused{key, ls.bucket, ls.left})
			ls.left = 0
		}
		holding = holding || ls.left > 0
		if ls.left == 0 && ls.drawing == nil && !now.Before(ls.next) {
			delete(l.leases, key)
		}
	}
	l.sweeping = holding
	return back, holding
}

// handBack gives back the requests that leases have kept unused for leaseTerm, and reports whether any
// lease still holds requests.
func (l *limiter) handBack() bool {
	back, holding := l.takeUnused(leaseTerm)
	for _, u := range back {
		ctx, cancel := context.WithTimeout(context.Background(), drawTimeout)
		if err := l.shared.ReturnRateBudget(ctx, u.key, u.bucket, u.n); err != nil {
			l.logger.Warn("return rate budget", "err", err)
		} else {
			l.metrics.rateBudget("return", u.n)
		}
		cancel()
	}
	return holding
}

// limitRate admits each authenticated request through l before next runs, or answers 429.
func limitRate(logger *slog.Logger, l *limiter, next http.Handler) http.Handler {
	if l == nil || l.limits.Off {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write := r.Method != http.MethodGet && r.Method != http.MethodHead
		release, err := l.admit(r.Context(), scopeFrom(r.Context()), write, rateLimitFrom(r.Context()))
		switch {
		case err != nil:
			writeError(w, r, logger, err)
			return
		case release == nil:
			return // the client went away while its request waited; there is no one to answer
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
