package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/openapi/openapitest"
	"github.com/casapay/casapay/storetest"
)

// newLimitedEnv is newEnv with rate limits on, and a lookup of webhook hosts that says so on entered
// and then waits for release: a live-mode endpoint create then stays in flight until the test lets it go.
func newLimitedEnv(t *testing.T, open storetest.Opener, limits casapay.RateLimits, entered chan<- struct{}, release <-chan struct{}) *env {
	t.Helper()
	store := open(t)
	lookup := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if entered != nil {
			entered <- struct{}{}
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
	}
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.NewTextHandler(t.Output(), nil)), store, time.Now, nil,
		httpapi.WithRateLimits(limits), httpapi.WithLookup(lookup)))
	t.Cleanup(srv.Close)
	e := &env{URL: srv.URL, Store: store, checker: openapitest.New(t)}
	e.TestKey, e.LiveKey = createAccount(t, store, "Account A")
	e.OtherKey, _ = createAccount(t, store, "Account B")
	return e
}

// TestRateLimits: reads and writes have budgets of their own per account and mode, of the rate plus
// casapay.RateBurst; a request beyond answers 429 with the reason, and other accounts go on.
func TestRateLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		// A rate of 1 a second: the bucket refills too slowly to matter however slow the machine is.
		e := newLimitedEnv(t, open, casapay.RateLimits{Live: 100, Test: 1}, nil, nil)
		budget := 1 + casapay.RateBurst
		refused := 0
		for range budget + 5 {
			if r := e.get(t, "/v1/customers"); r.Status == http.StatusTooManyRequests {
				refused++
				got := r.Error(t)
				if got.Code != "rate_limit" || got.Type != "invalid_request_error" || r.Header.Get("Stripe-Rate-Limited-Reason") != "global-rate" ||
					r.Header.Get("Retry-After") == "" || r.Header.Get("Stripe-Should-Retry") != "true" {
					t.Errorf("429: %+v, headers %v", got, r.Header)
				}
			}
		}
		// The bucket refills at 1 a second while the loop runs, so one or two more than the budget may pass.
		if refused == 0 || refused > 5 {
			t.Errorf("%d of %d reads refused, want a few beyond the budget of %d", refused, budget+5, budget)
		}
		// Writes have their own budget; another account and the other mode theirs.
		mustStatus(t, e.post(t, "/v1/customers", "name=Jane"), http.StatusOK)
		mustStatus(t, e.do(t, request{Method: "GET", Path: "/v1/customers", Key: e.OtherKey}), http.StatusOK)
		mustStatus(t, e.do(t, request{Method: "GET", Path: "/v1/customers", Key: e.LiveKey}), http.StatusOK)
		// Health and the document are never limited.
		mustStatus(t, e.do(t, request{Method: "GET", Path: "/healthz"}), http.StatusOK)
	})
}

// TestConcurrencyLimit: an account may have as many requests in flight at once as its rate.
func TestConcurrencyLimit(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		release, entered := make(chan struct{}), make(chan struct{}, 2)
		e := newLimitedEnv(t, open, casapay.RateLimits{Live: 2, Test: 25}, entered, release)
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				// Held in flight by the lookup until release.
				e.doUnchecked(t, request{Method: "POST", Path: "/v1/webhook_endpoints", Key: e.LiveKey,
					Body: "url=https://hooks.example.com/&enabled_events[]=*"})
			})
		}
		<-entered
		<-entered // both are in flight, held in their handlers
		r := e.do(t, request{Method: "GET", Path: "/v1/customers", Key: e.LiveKey})
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Stripe-Rate-Limited-Reason") != "global-concurrency" {
			t.Errorf("a third live request in flight: %d %s, want 429 global-concurrency", r.Status, r.Body)
		}
		mustStatus(t, e.get(t, "/v1/customers"), http.StatusOK) // test mode is another budget
		close(release)
		wg.Wait()
	})
}

// TestStripeGoRateLimited: stripe-go sees its rate-limit error (code rate_limit, status 429).
func TestStripeGoRateLimited(t *testing.T) {
	e := newLimitedEnv(t, storetest.OpenSQLite, casapay.RateLimits{Live: 100, Test: 1}, nil, nil)
	client := func(retries int64) *stripe.Client {
		return stripe.NewClient(e.TestKey, stripe.WithBackends(stripe.NewBackendsWithConfig(&stripe.BackendConfig{
			URL: stripe.String(e.URL), MaxNetworkRetries: stripe.Int64(retries), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
		})))
	}
	noRetry := client(0)
	var err error
	for range 1 + casapay.RateBurst + 5 {
		var se *stripe.Error
		if _, err = noRetry.V1Customers.Retrieve(t.Context(), "cus_0000000000000000000000000", nil); errors.As(err, &se) && se.HTTPStatusCode == 429 {
			break
		}
	}
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != 429 || se.Code != stripe.ErrorCodeRateLimit {
		t.Fatalf("stripe-go over the limit: %v, want its rate_limit error", err)
	}
	// With retries, stripe-go still answers the 429 at once: v82 retries a 429 only when its code is
	// lock_timeout (its error.go, canRetry), and Stripe's own code for a rate limit is rate_limit.
	if _, err := client(5).V1Customers.Retrieve(t.Context(), "cus_0000000000000000000000000", nil); !errors.As(err, &se) || se.Code != stripe.ErrorCodeRateLimit {
		t.Errorf("stripe-go with retries: %v, want its rate_limit error", err)
	}
}
