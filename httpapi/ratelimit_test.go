package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stripe/stripe-go/v82"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/openapi/openapitest"
	"github.com/casapay/casapay/postgres"
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
	api := httpapi.NewServer(slog.New(slog.NewTextHandler(t.Output(), nil)), store, time.Now, nil,
		httpapi.WithRateLimits(limits), httpapi.WithLookup(lookup))
	srv := httptest.NewServer(api)
	t.Cleanup(func() { // before the store closes
		srv.Close()
		if err := api.Close(context.Background()); err != nil {
			t.Errorf("close the API: %v", err)
		}
	})
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
		// Health and the document are never limited, even asked for with a key over its limit: the key
		// is refused a read (again, past any refill meanwhile), and then served them.
		for i := 0; e.get(t, "/v1/customers").Status != http.StatusTooManyRequests; i++ {
			if i == 10 {
				t.Fatal("the key's reads are no longer refused")
			}
		}
		mustStatus(t, e.do(t, request{Method: "GET", Path: "/healthz", Key: e.TestKey}), http.StatusOK)
		mustStatus(t, e.do(t, request{Method: "GET", Path: "/openapi.yaml", Key: e.TestKey}), http.StatusOK)
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

// countAdmitted sends n reads with key to each URL in turn and returns how many were admitted, failing
// the test on any answer but 200 and a global-rate 429 with the limit in its message.
func countAdmitted(t *testing.T, e *env, urls []string, key string, n, perSecond int) int {
	t.Helper()
	admitted := 0
	for i := range n {
		r := e.do(t, request{Method: "GET", Path: "/v1/customers?limit=1", Key: key, URL: urls[i%len(urls)]})
		switch {
		case r.Status == http.StatusOK:
			admitted++
		case r.Status == http.StatusTooManyRequests:
			if got := r.Error(t); r.Header.Get("Stripe-Rate-Limited-Reason") != "global-rate" ||
				!strings.Contains(got.Message, fmt.Sprintf("may make %d per second", perSecond)) {
				t.Fatalf("429 %q (reason %q), want global-rate naming %d a second", got.Message, r.Header.Get("Stripe-Rate-Limited-Reason"), perSecond)
			}
		default:
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
	}
	return admitted
}

// TestAccountRateLimit: an account's own limit (casapay accounts rate-limits) takes the place of the
// server's for that account and mode only, from its next request, without a restart.
func TestAccountRateLimit(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newLimitedEnv(t, open, casapay.RateLimits{Live: 1000, Test: 1000}, nil, nil)
		scope := func(key string) casapay.Scope {
			k, err := e.Store.FindAPIKey(t.Context(), casapay.HashAPIKey(key))
			if err != nil {
				t.Fatal(err)
			}
			return k.Scope()
		}
		mustStatus(t, e.get(t, "/v1/customers"), http.StatusOK) // the server is running, with the server's limit
		if err := e.Store.SetAccountRateLimits(t.Context(), scope(e.TestKey).AccountID, casapay.RateLimits{Test: 1}); err != nil {
			t.Fatal(err)
		}
		// 1 a second: a budget of 1 + casapay.RateBurst, which the loop may see refilled by one or two.
		if got := countAdmitted(t, e, []string{e.URL}, e.TestKey, 1+casapay.RateBurst+10, 1); got < casapay.RateBurst || got > casapay.RateBurst+3 {
			t.Errorf("%d reads admitted at an own limit of 1 a second, want about %d", got, 1+casapay.RateBurst)
		}
		// The account's live mode, and another account, keep the server's 1000 a second.
		for _, key := range []string{e.LiveKey, e.OtherKey} {
			if got := countAdmitted(t, e, []string{e.URL}, key, 1+casapay.RateBurst+10, 1000); got != 1+casapay.RateBurst+10 {
				t.Errorf("%d of %d reads admitted under the server's limit", got, 1+casapay.RateBurst+10)
			}
		}
	})
}

// TestRateLimitSharedBetweenServers: two servers on one PostgreSQL database draw from the same budget,
// so together they admit what one would, and they draw it in slices: far fewer round trips to the
// database than requests admitted.
func TestRateLimitSharedBetweenServers(t *testing.T) {
	store := storetest.OpenPostgres(t)
	reg := prometheus.NewRegistry()
	const perSecond = 100
	limits := casapay.RateLimits{Live: perSecond, Test: perSecond}
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	servers := []string{}
	for i := range 2 {
		var metrics *httpapi.Metrics
		if i == 0 {
			metrics = httpapi.NewMetrics(reg)
		}
		api := httpapi.NewServer(logger, store, time.Now, metrics, httpapi.WithRateLimits(limits))
		srv := httptest.NewServer(api)
		t.Cleanup(func() { // before the store closes
			srv.Close()
			if err := api.Close(context.Background()); err != nil {
				t.Errorf("close the API: %v", err)
			}
		})
		servers = append(servers, srv.URL)
	}
	e := &env{URL: servers[0], Store: store, checker: openapitest.New(t)}
	e.TestKey, _ = createAccount(t, store, "Shared Lettings")

	const sent = 600
	start := time.Now()
	admitted := countAdmitted(t, e, servers, e.TestKey, sent, perSecond)
	elapsed := time.Since(start)
	// A bucket of perSecond+RateBurst, refilled at perSecond while the loop ran; each server may hold a
	// slice it has not used yet, which only lowers the count.
	bound := perSecond + casapay.RateBurst + int(elapsed.Seconds()*perSecond) + 1
	if admitted > bound {
		t.Errorf("two servers admitted %d reads in %v, over the shared budget's %d", admitted, elapsed, bound)
	}
	if admitted < perSecond+casapay.RateBurst-2*perSecond/10 {
		t.Errorf("two servers admitted %d reads, less than the bucket's first %d", admitted, perSecond+casapay.RateBurst)
	}

	// Server 0's round trips for the budget: draws of a tenth of a second's budget at a time.
	counts := counterValues(t, reg, "casapay_rate_budget_total") // by op/what
	// The requests alternate between the servers.
	served := admitted / 2
	if draws := counts["draw/exchanges"]; draws == 0 || draws > float64(sent/2)/4 || counts["draw/requests"] < float64(served-perSecond/10) {
		t.Errorf("server 0 admitted about %d of %d requests with %v; want a draw per slice of %d, far fewer than its requests",
			served, sent/2, counts, perSecond/10)
	}
}

// TestCloseHandsBackBudget: a server's Close gives back to the shared budget exactly what it drew and
// did not use, so that other servers on the database can admit it.
func TestCloseHandsBackBudget(t *testing.T) {
	url := storetest.PostgresSchemaURL(t)
	store, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tokens := func() float64 {
		t.Helper()
		var n float64
		if err := conn.QueryRow(t.Context(), `SELECT tokens FROM rate_budgets WHERE NOT write`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	reg := prometheus.NewRegistry()
	api := httpapi.NewServer(slog.New(slog.NewTextHandler(t.Output(), nil)), store, time.Now, httpapi.NewMetrics(reg),
		httpapi.WithRateLimits(casapay.RateLimits{Live: 1, Test: 100})) // slices of 10
	srv := httptest.NewServer(api)
	e := &env{URL: srv.URL, Store: store, checker: openapitest.New(t)}
	e.TestKey, _ = createAccount(t, store, "Closing Lettings")
	const reads = 41 // the server then holds some of its fifth slice
	if got := countAdmitted(t, e, []string{srv.URL}, e.TestKey, reads, 100); got != reads {
		t.Fatalf("%d of %d admitted", got, reads)
	}
	budget := func(op string) float64 {
		t.Helper()
		return counterValues(t, reg, "casapay_rate_budget_total")[op+"/requests"]
	}
	drawn := budget("draw")
	srv.Close()
	before := tokens()
	if err := api.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	held, back := drawn-reads, tokens()-before
	// The last slice was drawn by the last read, a moment ago, so no sweep has handed it back (that
	// takes 250 ms): Close hands back exactly what is left of it.
	if swept := budget("return"); swept == 0 && (held <= 0 || back != held) {
		t.Errorf("drew %v for %d reads; Close handed back %v, want the %v unused", drawn, reads, back, held)
	} else if swept > 0 && back+swept > held {
		t.Errorf("drew %v for %d reads; %v were handed back by a sweep and %v by Close, more than the %v unused", drawn, reads, swept, back, held)
	}
}
