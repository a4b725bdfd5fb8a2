package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"
)

// webhookReceiver is a webhook endpoint in the test process. It verifies every delivery with stripe-go,
// answers after a short pause (so that kills land while deliveries are in flight), and counts how many
// times each customer.created event arrived, by the customer it names.
type webhookReceiver struct {
	*httptest.Server
	t      *testing.T
	mu     sync.Mutex
	secret string
	byID   map[string]int // event ID → deliveries
	cus    map[string]int // customer ID → deliveries of its customer.created event
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	rc := &webhookReceiver{t: t, byID: map[string]int{}, cus: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		rc.mu.Lock()
		secret := rc.secret
		rc.mu.Unlock()
		ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), secret)
		if err != nil {
			t.Errorf("stripe-go rejected a delivery: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var c struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(ev.Data.Raw, &c); err != nil || c.ID == "" {
			t.Errorf("delivery of %s holds no customer: %v", ev.ID, err)
		}
		time.Sleep(20 * time.Millisecond)
		rc.mu.Lock()
		rc.byID[ev.ID]++
		rc.cus[c.ID]++
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return rc
}

// subscribe creates, through p, an endpoint for rc that receives customer.created.
func (rc *webhookReceiver) subscribe(t *testing.T, p *serveProcess, key string) {
	t.Helper()
	a, err := do(t.Context(), newKeepAliveClient(t), "POST", p.URL+"/v1/webhook_endpoints", key, "", url.Values{
		"url": {rc.URL + "/hooks"}, "enabled_events[]": {"customer.created"}})
	var we struct {
		Secret string `json:"secret"`
	}
	if err != nil || a.Status != http.StatusOK || json.Unmarshal(a.Body, &we) != nil {
		t.Fatalf("create webhook endpoint: %v %d %s", err, a.Status, a.Body)
	}
	rc.mu.Lock()
	rc.secret = we.Secret
	rc.mu.Unlock()
}

// waitFor waits until every customer in ids has had its event delivered, and returns the number of
// deliveries beyond the first of each event.
func (rc *webhookReceiver) waitFor(t *testing.T, ids []string) (duplicates int) {
	t.Helper()
	for {
		rc.mu.Lock()
		missing := 0
		for _, id := range ids {
			if rc.cus[id] == 0 {
				missing++
			}
		}
		duplicates = 0
		for _, n := range rc.byID {
			duplicates += n - 1
		}
		rc.mu.Unlock()
		if missing == 0 {
			return duplicates
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%d of %d acknowledged customers' events never reached the receiver", missing, len(ids))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// webhookFlags make a killed process's leases run out within seconds, and retries come within a second.
var webhookFlags = []string{"--webhook-timeout", "500ms", "--webhook-retry-scale", "0.001"}

// TestWebhooksSurviveCrashes kills `casapay serve` with SIGKILL three times while customers are created
// and their events delivered to a receiver, restarting it on the same database each time. In the end
// every create that was acknowledged has had its customer.created event delivered at least once: the
// deliveries were written with the events, and a delivery cut short by a kill is made again once its
// lease runs out. Events delivered more than once are counted and reported; at-least-once allows them.
func TestWebhooksSurviveCrashes(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dsn := db(t)
			key := createAccountProcess(t, dsn)
			rc := newWebhookReceiver(t)
			p := startServeProcess(t, dsn, webhookFlags...)
			rc.subscribe(t, p, key)
			var acked []string
			for cycle := 1; cycle <= 3; cycle++ {
				res := loadAndKill(t, p, key, cycle, 8, 150)
				for _, c := range res.acked {
					acked = append(acked, c.ID)
				}
				p = startServeProcess(t, dsn, webhookFlags...)
			}
			duplicates := rc.waitFor(t, acked)
			t.Logf("%d acknowledged creates over 3 kills: every event delivered, %d deliveries were repeats", len(acked), duplicates)
			p.kill(t)
		})
	}
}

// TestWebhooksAcrossProcesses runs two `casapay serve` processes on one PostgreSQL database with one
// receiver: every event is delivered, and, as no process dies, none twice: each delivery is leased to one
// process at a time.
func TestWebhooksAcrossProcesses(t *testing.T) {
	dsn := databases(t)["postgres"](t)
	key := createAccountProcess(t, dsn)
	rc := newWebhookReceiver(t)
	a := startServeProcess(t, dsn, webhookFlags...)
	b := startServeProcess(t, dsn, webhookFlags...)
	rc.subscribe(t, a, key)
	client := newKeepAliveClient(t)
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			p := a
			if w%2 == 1 {
				p = b
			}
			for range 50 {
				res, err := do(t.Context(), client, "POST", p.URL+"/v1/customers", key, "", url.Values{"name": {"Two Processes"}})
				var c struct {
					ID string `json:"id"`
				}
				if err != nil || res.Status != http.StatusOK || json.Unmarshal(res.Body, &c) != nil {
					t.Errorf("create: %v %d %s", err, res.Status, res.Body)
					return
				}
				mu.Lock()
				ids = append(ids, c.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if duplicates := rc.waitFor(t, ids); duplicates != 0 {
		t.Errorf("%d events were delivered more than once with no process killed", duplicates)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.byID) != len(ids) {
		t.Errorf("%d events delivered, want %d", len(rc.byID), len(ids))
	}
}
