package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/openapi/openapitest"
	"github.com/casapay/casapay/storetest"
	cpwebhook "github.com/casapay/casapay/webhook"
)

// receiver is a webhook endpoint over real HTTP that verifies every delivery with stripe-go and keeps
// the events it accepted. answer decides each answer's status; nil answers 200.
type receiver struct {
	*httptest.Server
	t      *testing.T
	secret string

	mu       sync.Mutex
	events   []string // event IDs, in arrival order, duplicates included
	types    []string
	attempts int
	answer   func(n int) int // the status of the n-th request (1-based)
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.attempts++
		n, answer, secret := rc.attempts, rc.answer, rc.secret
		rc.mu.Unlock()
		if r.Header.Get("Content-Type") != "application/json; charset=utf-8" || !strings.HasPrefix(r.Header.Get("User-Agent"), "CasaPay/") {
			t.Errorf("delivery headers: %v", r.Header)
		}
		ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), secret)
		if err != nil {
			t.Errorf("stripe-go rejected a delivery: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		status := http.StatusOK
		if answer != nil {
			status = answer(n)
		}
		if status < 300 {
			rc.mu.Lock()
			rc.events = append(rc.events, ev.ID)
			rc.types = append(rc.types, string(ev.Type))
			rc.mu.Unlock()
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// received returns the event IDs and types accepted so far.
func (rc *receiver) received() (ids, types []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.events...), append([]string(nil), rc.types...)
}

// eventually waits until cond holds; the test's own deadline bounds the wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-t.Context().Done():
			t.Fatalf("gave up waiting: %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// newWebhookEnv is newEnv with a deliverer running on the store, retrying within milliseconds.
func newWebhookEnv(t *testing.T, open storetest.Opener, opts ...httpapi.Option) *env {
	t.Helper()
	return newWebhookEnvTimeout(t, open, time.Minute, opts...)
}

// newWebhookEnvTimeout is newWebhookEnv with a deliverer whose attempts time out after timeout.
func newWebhookEnvTimeout(t *testing.T, open storetest.Opener, timeout time.Duration, opts ...httpapi.Option) *env {
	t.Helper()
	store := open(t)
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	srv := httptest.NewServer(httpapi.NewServer(logger, store, time.Now, nil, opts...))
	t.Cleanup(srv.Close)
	e := &env{URL: srv.URL, Store: store, checker: openapitest.New(t)}
	e.TestKey, e.LiveKey = createAccount(t, store, "Account A")
	e.OtherKey, _ = createAccount(t, store, "Account B")
	ctx, cancel := context.WithCancel(context.Background())
	d := &cpwebhook.Deliverer{Store: store, Logger: logger, RetryScale: 0.0001, Poll: 5 * time.Millisecond, Timeout: timeout}
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

// createEndpoint creates a webhook endpoint for rc and records its secret in rc.
func (e *env) createEndpoint(t *testing.T, key string, rc *receiver, events ...string) string {
	t.Helper()
	form := url.Values{"url": {rc.URL + "/hooks"}}
	for _, ev := range events {
		form.Add("enabled_events[]", ev)
	}
	r := e.do(t, request{Method: "POST", Path: "/v1/webhook_endpoints", Key: key, Body: form.Encode()})
	mustStatus(t, r, http.StatusOK)
	we := r.JSON(t)
	rc.mu.Lock()
	rc.secret = we["secret"].(string)
	rc.mu.Unlock()
	return we["id"].(string)
}

func TestWebhookEndpointAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
			switch host {
			case "hooks.example.com":
				return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
			case "inside.example.com":
				return []netip.Addr{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.1.2.3")}, nil
			}
			return nil, &net404{}
		}
		e := newWebhookEnv(t, open, httpapi.WithLookup(lookup))
		r := e.post(t, "/v1/webhook_endpoints", "url=https://hooks.example.com/casapay&enabled_events[]=customer.created&enabled_events[]=customer.updated&description=Rent app&metadata[env]=staging")
		mustStatus(t, r, http.StatusOK)
		we := r.JSON(t)
		secret, _ := we["secret"].(string)
		if !strings.HasPrefix(secret, "whsec_") || len(secret) < 6+22 || we["status"] != "enabled" || we["object"] != "webhook_endpoint" ||
			we["api_version"] != casapay.APIVersion || we["livemode"] != false || we["description"] != "Rent app" {
			t.Errorf("create answered %s", r.Body)
		}
		id := we["id"].(string)
		got := e.get(t, "/v1/webhook_endpoints/"+id).JSON(t)
		if _, ok := got["secret"]; ok {
			t.Errorf("retrieve shows the secret: %v", got)
		}
		got = e.post(t, "/v1/webhook_endpoints/"+id, "disabled=true&enabled_events[]=*&description=").JSON(t)
		if got["status"] != "disabled" || got["description"] != nil || got["enabled_events"].([]any)[0] != "*" {
			t.Errorf("update answered %v", got)
		}
		if _, ok := got["secret"]; ok {
			t.Errorf("update shows the secret")
		}
		if n := len(ids(t, e.get(t, "/v1/webhook_endpoints"))); n != 1 {
			t.Errorf("list has %d endpoints", n)
		}
		mustStatus(t, e.do(t, request{Method: "GET", Path: "/v1/webhook_endpoints/" + id, Key: e.OtherKey}), http.StatusNotFound)
		mustStatus(t, e.do(t, request{Method: "GET", Path: "/v1/webhook_endpoints/" + id, Key: e.LiveKey}), http.StatusNotFound)

		long := "https://hooks.example.com/" + strings.Repeat("a", 2048)
		for _, tt := range []struct {
			name, form string
			live       bool
			code       string
			param      string
		}{
			{"no url", "enabled_events[]=*", false, "parameter_missing", "url"},
			{"no events", "url=https://hooks.example.com/", false, "parameter_missing", "enabled_events"},
			{"unknown event", "url=https://hooks.example.com/&enabled_events[]=customer.created&enabled_events[]=invoice.paid", false, "parameter_invalid_string", "enabled_events[1]"},
			{"relative url", "url=/hooks&enabled_events[]=*", false, "url_invalid", "url"},
			{"ftp", "url=ftp://hooks.example.com/&enabled_events[]=*", false, "url_invalid", "url"},
			{"user info", "url=https://user:pw@hooks.example.com/&enabled_events[]=*", false, "url_invalid", "url"},
			{"too long", "url=" + url.QueryEscape(long) + "&enabled_events[]=*", false, "url_invalid", "url"},
			{"live http", "url=http://hooks.example.com/&enabled_events[]=*", true, "url_invalid", "url"},
			{"live loopback", "url=https://127.0.0.1/&enabled_events[]=*", true, "url_invalid", "url"},
			{"live private v6", "url=https://[fd00::1]/&enabled_events[]=*", true, "url_invalid", "url"},
			{"live unspecified", "url=https://0.0.0.0/&enabled_events[]=*", true, "url_invalid", "url"},
			{"live link-local", "url=https://169.254.169.254/latest&enabled_events[]=*", true, "url_invalid", "url"},
			{"live name resolving inside", "url=https://inside.example.com/&enabled_events[]=*", true, "url_invalid", "url"},
			{"live name not resolving", "url=https://nowhere.example.com/&enabled_events[]=*", true, "url_invalid", "url"},
			{"disabled on create", "url=https://hooks.example.com/&enabled_events[]=*&disabled=true", false, "parameter_unknown", "disabled"},
		} {
			key := e.TestKey
			if tt.live {
				key = e.LiveKey
			}
			r := e.do(t, request{Method: "POST", Path: "/v1/webhook_endpoints", Key: key, Body: tt.form})
			mustStatus(t, r, http.StatusBadRequest)
			if got := r.Error(t); got.Code != tt.code || got.Param != tt.param {
				t.Errorf("%s: %+v, want %s on %s", tt.name, got, tt.code, tt.param)
			}
		}
		// A live endpoint on a public name is fine; test mode may point anywhere.
		mustStatus(t, e.do(t, request{Method: "POST", Path: "/v1/webhook_endpoints", Key: e.LiveKey,
			Body: "url=https://hooks.example.com/&enabled_events[]=*"}), http.StatusOK)
		mustStatus(t, e.post(t, "/v1/webhook_endpoints", "url=http://localhost:3000/hooks&enabled_events[]=*"), http.StatusOK)

		// At most 16 per account and mode.
		for range casapay.MaxWebhookEndpoints - 2 {
			mustStatus(t, e.post(t, "/v1/webhook_endpoints", "url=https://hooks.example.com/&enabled_events[]=*"), http.StatusOK)
		}
		r = e.post(t, "/v1/webhook_endpoints", "url=https://hooks.example.com/&enabled_events[]=*")
		mustStatus(t, r, http.StatusBadRequest)
		if got := r.Error(t); got.Code != "webhook_endpoint_limit" {
			t.Errorf("17th endpoint: %+v", got)
		}
		r = e.del(t, "/v1/webhook_endpoints/"+id)
		mustStatus(t, r, http.StatusOK)
		if got := r.JSON(t); got["deleted"] != true || got["id"] != id {
			t.Errorf("delete answered %v", got)
		}
		mustStatus(t, e.get(t, "/v1/webhook_endpoints/"+id), http.StatusNotFound)
	})
}

// TestAllowPrivateWebhooks: serve's --webhook-allow-private lets live endpoints use private addresses.
func TestAllowPrivateWebhooks(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newWebhookEnv(t, open, httpapi.AllowPrivateWebhooks())
		for _, u := range []string{"https://127.0.0.1/hooks", "https://10.0.0.5/hooks", "https://[fd00::1]/hooks"} {
			r := e.do(t, request{Method: "POST", Path: "/v1/webhook_endpoints", Key: e.LiveKey,
				Body: "url=" + url.QueryEscape(u) + "&enabled_events[]=*"})
			mustStatus(t, r, http.StatusOK)
		}
		// https is still required in live mode.
		r := e.do(t, request{Method: "POST", Path: "/v1/webhook_endpoints", Key: e.LiveKey, Body: "url=http://10.0.0.5/&enabled_events[]=*"})
		mustStatus(t, r, http.StatusBadRequest)
	})
}

// net404 is a lookup's "no such host".
type net404 struct{}

func (*net404) Error() string { return "no such host" }

func TestWebhookDelivery(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newWebhookEnv(t, open)
		rc := newReceiver(t)
		e.createEndpoint(t, e.TestKey, rc, "customer.created")
		everything := newReceiver(t)
		e.createEndpoint(t, e.TestKey, everything, "*")

		c := e.createCustomer(t, "name=Jane")
		mustStatus(t, e.post(t, "/v1/customers/"+c["id"].(string), "name=Janet"), http.StatusOK)
		created := e.listEvents(t, "type=customer.created")[0]
		eventually(t, "the customer.created delivery", func() bool { ids, _ := rc.received(); return len(ids) == 1 })
		eventually(t, "both deliveries to *", func() bool { ids, _ := everything.received(); return len(ids) == 2 })
		ids, types := rc.received()
		if ids[0] != created["id"] || types[0] != "customer.created" {
			t.Errorf("received %v %v, want %v", ids, types, created["id"])
		}
		// pending_webhooks counts down to 0 as deliveries succeed.
		if created["pending_webhooks"] != 2.0 && created["pending_webhooks"] != 1.0 && created["pending_webhooks"] != 0.0 {
			t.Errorf("pending_webhooks %v", created["pending_webhooks"])
		}
		eventually(t, "pending_webhooks 0", func() bool {
			return len(e.listEvents(t, "delivery_success=false")) == 0
		})
		if got := e.get(t, "/v1/events/"+created["id"].(string)).JSON(t); got["pending_webhooks"] != 0.0 {
			t.Errorf("delivered event: pending_webhooks %v", got["pending_webhooks"])
		}
		// Another account's and the other mode's events go only to their own endpoints.
		r := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.OtherKey, Body: "name=Other"})
		mustStatus(t, r, http.StatusOK)
		r = e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.LiveKey, Body: "name=Live"})
		mustStatus(t, r, http.StatusOK)
		mustStatus(t, e.post(t, "/v1/customers", "name=Last"), http.StatusOK)
		// Each endpoint's deliveries are attempted on their own, so wait for both.
		eventually(t, "the last delivery", func() bool { ids, _ := everything.received(); return len(ids) == 3 })
		eventually(t, "the last customer.created delivery", func() bool { ids, _ := rc.received(); return len(ids) >= 2 })
		if ids, _ := rc.received(); len(ids) != 2 {
			t.Errorf("customer.created endpoint got %d events, want 2", len(ids))
		}
	})
}

func TestWebhookRetry(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newWebhookEnv(t, open)
		rc := newReceiver(t)
		rc.answer = func(n int) int {
			if n <= 2 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
		e.createEndpoint(t, e.TestKey, rc, "*")
		mustStatus(t, e.post(t, "/v1/customers", "name=Jane"), http.StatusOK)
		ev := e.listEvents(t, "")[0]
		if ev["pending_webhooks"] != 1.0 {
			t.Errorf("new event: pending_webhooks %v, want 1", ev["pending_webhooks"])
		}
		eventually(t, "the delivery after two failures", func() bool { ids, _ := rc.received(); return len(ids) == 1 })
		rc.mu.Lock()
		attempts := rc.attempts
		rc.mu.Unlock()
		if attempts != 3 {
			t.Errorf("%d attempts, want 3 (two 500s, then 200)", attempts)
		}
		if ids, _ := rc.received(); ids[0] != ev["id"] {
			t.Errorf("delivered %v, want %v", ids, ev["id"])
		}
		eventually(t, "no undelivered events", func() bool { return len(e.listEvents(t, "delivery_success=false")) == 0 })
		if n := len(e.listEvents(t, "delivery_success=true")); n != 1 {
			t.Errorf("delivery_success=true lists %d events, want 1", n)
		}
	})
}

// TestLateSuccessIsAFailure: a 2xx that arrives after the attempt's timeout does not count; the delivery
// is tried again. The first answer comes a second late, five times the timeout.
func TestLateSuccessIsAFailure(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newWebhookEnvTimeout(t, open, 200*time.Millisecond)
		rc := newReceiver(t)
		rc.answer = func(n int) int {
			if n == 1 {
				time.Sleep(time.Second)
			}
			return http.StatusOK
		}
		e.createEndpoint(t, e.TestKey, rc, "customer.created")
		mustStatus(t, e.post(t, "/v1/customers", "name=Jane"), http.StatusOK)
		eventually(t, "the event delivered", func() bool { return len(e.listEvents(t, "delivery_success=false")) == 0 })
		rc.mu.Lock()
		attempts := rc.attempts
		rc.mu.Unlock()
		if attempts < 2 {
			t.Errorf("%d attempts: the late 200 counted as a delivery, want it retried", attempts)
		}
	})
}

// TestSlowEndpointDelaysNoOther: an endpoint that never answers holds its own deliveries and no other's.
// It is checked by order, not by time: every delivery to the healthy endpoint arrives while every
// request to the hung one is still open.
func TestSlowEndpointDelaysNoOther(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newWebhookEnv(t, open)
		release := make(chan struct{})
		var hungMu sync.Mutex
		hungOpen, hungDone := 0, 0
		hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hungMu.Lock()
			hungOpen++
			hungMu.Unlock()
			<-release
			hungMu.Lock()
			hungDone++
			hungMu.Unlock()
		}))
		t.Cleanup(func() { close(release); hung.Close() })
		mustStatus(t, e.post(t, "/v1/webhook_endpoints", "url="+url.QueryEscape(hung.URL)+"&enabled_events[]=*"), http.StatusOK)
		rc := newReceiver(t)
		e.createEndpoint(t, e.TestKey, rc, "*")
		const n = 40
		for range n {
			mustStatus(t, e.post(t, "/v1/customers", "name=Jane"), http.StatusOK)
		}
		eventually(t, "every delivery to the healthy endpoint", func() bool { ids, _ := rc.received(); return len(ids) == n })
		hungMu.Lock()
		defer hungMu.Unlock()
		if hungDone != 0 || hungOpen == 0 {
			t.Errorf("hung endpoint: %d requests open, %d done; want some open and none done", hungOpen, hungDone)
		}
		if hungOpen > cpwebhook.DefaultPerEndpoint {
			t.Errorf("%d requests open at once to one endpoint, want at most %d", hungOpen, cpwebhook.DefaultPerEndpoint)
		}
	})
}

func TestDisabledAndDeletedEndpointsGetNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newWebhookEnv(t, open)
		disabled, deleted, live := newReceiver(t), newReceiver(t), newReceiver(t)
		dis := e.createEndpoint(t, e.TestKey, disabled, "*")
		mustStatus(t, e.post(t, "/v1/webhook_endpoints/"+dis, "disabled=true"), http.StatusOK)
		// deleted never answers 2xx until it is deleted, so its deliveries stay pending.
		deleted.answer = func(int) int { return http.StatusServiceUnavailable }
		del := e.createEndpoint(t, e.TestKey, deleted, "*")
		e.createEndpoint(t, e.TestKey, live, "*")

		mustStatus(t, e.post(t, "/v1/customers", "name=Jane"), http.StatusOK)
		eventually(t, "the delivery to the enabled endpoint", func() bool { ids, _ := live.received(); return len(ids) == 1 })
		ev := e.listEvents(t, "")[0]
		// The receiver answers before the deliverer records the success: wait for the record.
		eventually(t, "pending_webhooks 1, the failing endpoint's", func() bool {
			return e.get(t, "/v1/events/"+ev["id"].(string)).JSON(t)["pending_webhooks"] == 1.0
		})
		mustStatus(t, e.del(t, "/v1/webhook_endpoints/"+del), http.StatusOK)
		if got := e.get(t, "/v1/events/"+ev["id"].(string)).JSON(t); got["pending_webhooks"] != 0.0 {
			t.Errorf("after deleting the endpoint: pending_webhooks %v, want 0", got["pending_webhooks"])
		}
		// Re-enabling does not send what happened while disabled.
		mustStatus(t, e.post(t, "/v1/webhook_endpoints/"+dis, "disabled=false"), http.StatusOK)
		mustStatus(t, e.post(t, "/v1/customers", "name=John"), http.StatusOK)
		eventually(t, "the second delivery", func() bool { ids, _ := live.received(); return len(ids) == 2 })
		eventually(t, "the re-enabled endpoint's one event", func() bool { ids, _ := disabled.received(); return len(ids) == 1 })
		if ids, _ := disabled.received(); ids[0] != e.listEvents(t, "")[0]["id"] {
			t.Errorf("re-enabled endpoint got %v, want only the event after it was enabled", ids)
		}
		if ids, _ := deleted.received(); len(ids) != 0 {
			t.Errorf("deleted endpoint got %v", ids)
		}
	})
}

// TestLiveWebhooksReachNoPrivateAddress: a live endpoint whose name resolves inside a network when a
// delivery connects (as after a DNS change) is refused at the connection, and the attempt is recorded.
func TestLiveWebhooksReachNoPrivateAddress(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newWebhookEnv(t, open)
		rc := newReceiver(t)
		// The endpoint is saved through the store, as if its name had resolved publicly then.
		scope := liveScope(t, e)
		we := casapay.NewWebhookEndpoint(scope, &casapay.WebhookEndpointParams{URL: &rc.URL, EnabledEvents: []string{"*"}}, time.Now())
		if _, err := e.Store.CreateWebhookEndpoint(t.Context(), scope, we, casapay.Request{}); err != nil {
			t.Fatalf("CreateWebhookEndpoint: %v", err)
		}
		rc.secret = we.Secret
		testRC := newReceiver(t)
		e.createEndpoint(t, e.TestKey, testRC, "*")
		mustStatus(t, e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.LiveKey, Body: "name=Live"}), http.StatusOK)
		mustStatus(t, e.post(t, "/v1/customers", "name=Test"), http.StatusOK)
		eventually(t, "the test-mode delivery to localhost", func() bool { ids, _ := testRC.received(); return len(ids) == 1 })
		// The live delivery was attempted and refused: its event stays undelivered.
		eventually(t, "the refused attempt", func() bool {
			r := e.do(t, request{Method: "GET", Path: "/v1/events?delivery_success=false", Key: e.LiveKey})
			return len(r.JSON(t)["data"].([]any)) == 1
		})
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.attempts != 0 {
			t.Errorf("the live endpoint on a private address got %d requests", rc.attempts)
		}
	})
}

// liveScope returns account A's live-mode scope, found through its live key's event list.
func liveScope(t *testing.T, e *env) casapay.Scope {
	t.Helper()
	k, err := e.Store.FindAPIKey(t.Context(), casapay.HashAPIKey(e.LiveKey))
	if err != nil {
		t.Fatalf("FindAPIKey: %v", err)
	}
	return k.Scope()
}

// TestWebhookRedirectsNotFollowed: a 3xx is a failed attempt, retried, and its Location is never
// requested.
func TestWebhookRedirectsNotFollowed(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newWebhookEnv(t, open)
		var mu sync.Mutex
		target, redirects := 0, 0
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			target++
			mu.Unlock()
		}))
		t.Cleanup(elsewhere.Close)
		redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			redirects++
			mu.Unlock()
			http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
		}))
		t.Cleanup(redirecting.Close)
		mustStatus(t, e.post(t, "/v1/webhook_endpoints", "url="+url.QueryEscape(redirecting.URL)+"&enabled_events[]=*"), http.StatusOK)
		mustStatus(t, e.post(t, "/v1/customers", "name=Jane"), http.StatusOK)
		eventually(t, "a retry after the redirect", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return redirects >= 2
		})
		mu.Lock()
		defer mu.Unlock()
		if target != 0 {
			t.Errorf("the redirect's target got %d requests", target)
		}
		if n := len(e.listEvents(t, "delivery_success=false")); n != 1 {
			t.Errorf("%d undelivered events after redirects, want 1", n)
		}
	})
}
