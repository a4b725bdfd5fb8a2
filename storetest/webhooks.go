package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// testClaimOnce queues deliveries and has several deliverers claim at once: each delivery is leased to
// one of them, none beyond the per-endpoint bound at a time, and a recorded success takes the delivery
// out of the outbox and off its event's pending_webhooks.
func testClaimOnce(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	url := "https://hooks.example.com/casapay"
	for range 3 {
		w := casapay.NewWebhookEndpoint(scope, &casapay.WebhookEndpointParams{URL: &url, EnabledEvents: []string{"*"}}, time.Now())
		if _, err := s.CreateWebhookEndpoint(ctx, scope, w, casapay.Request{}); err != nil {
			t.Fatalf("CreateWebhookEndpoint: %v", err)
		}
	}
	const events = 10
	for i := range events {
		createCustomer(t, s, scope, janeParams(), int64(i))
	}
	const perEndpoint = 4
	var (
		mu     sync.Mutex
		leased = map[string]int{}
		all    []*casapay.WebhookDelivery
		wg     sync.WaitGroup
	)
	now := time.Now()
	for range 6 {
		wg.Go(func() {
			got, err := s.ClaimWebhookDeliveries(ctx, now, time.Minute, 100, perEndpoint)
			if err != nil {
				t.Errorf("ClaimWebhookDeliveries: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range got {
				leased[d.ID]++
				all = append(all, d)
			}
		})
	}
	wg.Wait()
	perEP := map[string]int{}
	for id, n := range leased {
		if n != 1 {
			t.Errorf("delivery %s leased %d times", id, n)
		}
	}
	for _, d := range all {
		perEP[d.EndpointID]++
		if len(d.Body) == 0 || d.Secret == "" || d.URL != url {
			t.Errorf("claimed delivery %+v lacks what a deliverer needs", d)
		}
	}
	if len(perEP) != 3 {
		t.Errorf("claims reached %d endpoints, want 3", len(perEP))
	}
	for ep, n := range perEP {
		if n > perEndpoint {
			t.Errorf("endpoint %s: %d deliveries leased at once, want at most %d", ep, n, perEndpoint)
		}
	}
	// Nothing more is claimed while the leases hold and each endpoint is at its bound.
	if more, err := s.ClaimWebhookDeliveries(ctx, now, time.Minute, 100, perEndpoint); err != nil || len(more) != 0 {
		t.Errorf("claim with every endpoint at its bound = %d, %v; want none", len(more), err)
	}
	// A success takes the delivery off its event's count.
	d := all[0]
	if err := s.RecordWebhookAttempts(ctx, []casapay.WebhookOutcome{{Delivery: d, Attempt: &casapay.WebhookAttempt{At: now, StatusCode: 200}}}); err != nil {
		t.Fatalf("RecordWebhookAttempts: %v", err)
	}
	e, err := s.FindEvent(ctx, d.Scope, d.EventID)
	if err != nil || e.PendingWebhooks != 2 {
		t.Errorf("event after one of three deliveries: pending_webhooks %d, %v; want 2", e.PendingWebhooks, err)
	}
	// A lease another claim took over no longer decides the delivery: recording under it changes nothing.
	stale := *all[1]
	stale.Lease = "not-the-lease"
	before, err := s.FindEvent(ctx, stale.Scope, stale.EventID)
	if err != nil {
		t.Fatalf("FindEvent: %v", err)
	}
	if err := s.RecordWebhookAttempts(ctx, []casapay.WebhookOutcome{{Delivery: &stale, Attempt: &casapay.WebhookAttempt{At: now, StatusCode: 200}}}); err != nil {
		t.Fatalf("RecordWebhookAttempts(stale): %v", err)
	}
	if after, _ := s.FindEvent(ctx, stale.Scope, stale.EventID); after.PendingWebhooks != before.PendingWebhooks {
		t.Errorf("a stale lease's success changed pending_webhooks from %d to %d", before.PendingWebhooks, after.PendingWebhooks)
	}
	// After the leases run out, the rest is claimed again.
	later, err := s.ClaimWebhookDeliveries(ctx, now.Add(2*time.Minute), time.Minute, 100, perEndpoint)
	if err != nil || len(later) == 0 {
		t.Errorf("claim after the leases ran out = %d, %v; want some", len(later), err)
	}
	for _, l := range later {
		if l.ID == d.ID {
			t.Errorf("delivered %s was claimed again", d.ID)
		}
	}
}

// testPostponeByAge: a delivery passed over because its endpoint was at its bound stays due while the
// endpoint's leases are fresh, and is claimed once the endpoint has room; when the endpoint is stuck
// (its oldest lease StuckAfter old), the delivery is postponed by its age, never for the lease.
func testPostponeByAge(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	newEndpoint(t, s, scope)
	c := createCustomer(t, s, scope, janeParams(), 0)
	createCustomer(t, s, scope, janeParams(), 0)
	now := time.Unix(c.Created, 0).Add(time.Second) // both deliveries are a second old
	const lease, perEndpoint = time.Minute, 1
	claim := func(at time.Time) []*casapay.WebhookDelivery {
		t.Helper()
		got, err := s.ClaimWebhookDeliveries(ctx, at, lease, 100, perEndpoint)
		if err != nil {
			t.Fatalf("ClaimWebhookDeliveries: %v", err)
		}
		return got
	}
	deliver := func(d *casapay.WebhookDelivery, at time.Time) {
		t.Helper()
		if err := s.RecordWebhookAttempts(ctx, []casapay.WebhookOutcome{{Delivery: d, Attempt: &casapay.WebhookAttempt{At: at, StatusCode: 200}}}); err != nil {
			t.Fatalf("RecordWebhookAttempts: %v", err)
		}
	}

	// Busy: the endpoint is at its bound with a fresh lease. The other delivery is passed over, and
	// leased the moment the endpoint has room.
	first := claim(now)
	if len(first) != 1 {
		t.Fatalf("first claim = %d deliveries, want 1, the endpoint's bound", len(first))
	}
	if more := claim(now); len(more) != 0 {
		t.Fatalf("claim with the endpoint at its bound = %d, want none", len(more))
	}
	deliver(first[0], now)
	second := claim(now)
	if len(second) != 1 || second[0].ID == first[0].ID {
		t.Fatalf("claim once the busy endpoint had room = %d deliveries, want the other one at once", len(second))
	}

	// Stuck: the endpoint's one lease is older than StuckAfter. A new delivery, 7 s old then, is
	// postponed by its age.
	createCustomer(t, s, scope, janeParams(), 0)
	stuck := now.Add(storage.StuckAfter + time.Second)
	if more := claim(stuck); len(more) != 0 {
		t.Fatalf("claim with the endpoint stuck = %d, want none", len(more))
	}
	age := stuck.Sub(time.Unix(c.Created, 0))
	deliver(second[0], stuck)
	if early := claim(stuck.Add(time.Second)); len(early) != 0 {
		t.Errorf("claim after the stuck endpoint had room = %d deliveries, want none: the delivery is postponed by its age, %v", len(early), age)
	}
	third := claim(stuck.Add(age + 500*time.Millisecond))
	if len(third) != 1 {
		t.Errorf("claim after the postponement = %d deliveries; want the new one, postponed by its age, not for the %v lease", len(third), lease)
	}
}

// testPruneWebhookDeliveries: deliveries older than the cutoff go, with their attempts; newer ones stay.
func testPruneWebhookDeliveries(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	newEndpoint(t, s, scope)
	for i := range 3 {
		createCustomer(t, s, scope, janeParams(), int64(i)) // created at at(0), at(1), at(2)
	}
	claimed, err := s.ClaimWebhookDeliveries(ctx, time.Now(), time.Minute, 10, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("ClaimWebhookDeliveries = %d, %v; want 3", len(claimed), err)
	}
	var outcomes []casapay.WebhookOutcome
	for _, d := range claimed {
		outcomes = append(outcomes, casapay.WebhookOutcome{Delivery: d, Attempt: &casapay.WebhookAttempt{At: time.Now(), StatusCode: 500}})
	}
	if err := s.RecordWebhookAttempts(ctx, outcomes); err != nil {
		t.Fatalf("RecordWebhookAttempts: %v", err)
	}
	if n, err := s.PruneWebhookDeliveries(ctx, at(2)); err != nil || n != 2 {
		t.Errorf("PruneWebhookDeliveries(before the third) = %d, %v; want 2", n, err)
	}
	if n, err := s.PruneWebhookDeliveries(ctx, at(1000)); err != nil || n != 1 {
		t.Errorf("PruneWebhookDeliveries(after all) = %d, %v; want 1", n, err)
	}
}

// testDeleteWhileQueueing deletes an endpoint while writes queue deliveries to it: afterwards no event
// counts a delivery, for each was cancelled with the endpoint or never queued. A delivery queued for an
// endpoint already gone would stay pending, and counted, for good.
func testDeleteWhileQueueing(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	w := newEndpoint(t, s, scope)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				createCustomer(t, s, scope, janeParams(), int64(g*100+i))
			}
		})
	}
	wg.Go(func() {
		time.Sleep(5 * time.Millisecond)
		if _, err := s.DeleteWebhookEndpoint(ctx, scope, w.ID, casapay.Request{}); err != nil {
			t.Errorf("DeleteWebhookEndpoint: %v", err)
		}
	})
	wg.Wait()
	undelivered := false
	pending, _, err := s.ListEvents(ctx, scope, casapay.EventFilter{Limit: 100, DeliverySuccess: &undelivered})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(pending) != 0 {
		t.Errorf("%d events still count a delivery to the deleted endpoint", len(pending))
	}
}

// testDeliveryCurrent: a claimed delivery may be attempted while it is pending under its lease and its
// endpoint is enabled at the same URL, and not once the endpoint is disabled, moved or deleted.
func testDeliveryCurrent(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	w := newEndpoint(t, s, scope)
	createCustomer(t, s, scope, janeParams(), 0)
	claimed, err := s.ClaimWebhookDeliveries(ctx, time.Now(), time.Minute, 10, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimWebhookDeliveries = %d, %v; want 1", len(claimed), err)
	}
	d := claimed[0]
	check := func(what string, want bool) {
		t.Helper()
		if got, err := s.WebhookDeliveryCurrent(ctx, d); err != nil || got != want {
			t.Errorf("%s: WebhookDeliveryCurrent = %t, %v; want %t", what, got, err, want)
		}
	}
	check("as claimed", true)
	stale := *d
	stale.Lease = "another"
	if got, _ := s.WebhookDeliveryCurrent(ctx, &stale); got {
		t.Errorf("under another lease: current")
	}
	update := func(p *casapay.WebhookEndpointParams) {
		t.Helper()
		if _, err := s.UpdateWebhookEndpoint(ctx, scope, w.ID, p, casapay.Request{}); err != nil {
			t.Fatalf("UpdateWebhookEndpoint: %v", err)
		}
	}
	yes, no := true, false
	update(&casapay.WebhookEndpointParams{Disabled: &yes})
	check("endpoint disabled", false)
	update(&casapay.WebhookEndpointParams{Disabled: &no})
	check("endpoint enabled again", true)
	moved := "https://elsewhere.example.com/casapay"
	update(&casapay.WebhookEndpointParams{URL: &moved})
	check("endpoint moved", false)
	update(&casapay.WebhookEndpointParams{URL: &w.URL})
	if _, err := s.DeleteWebhookEndpoint(ctx, scope, w.ID, casapay.Request{}); err != nil {
		t.Fatalf("DeleteWebhookEndpoint: %v", err)
	}
	check("endpoint deleted", false)
}

// newEndpoint creates an enabled endpoint of scope subscribed to every event.
func newEndpoint(t *testing.T, s casapay.Store, scope casapay.Scope) *casapay.WebhookEndpoint {
	t.Helper()
	url := "https://hooks.example.com/casapay"
	w := casapay.NewWebhookEndpoint(scope, &casapay.WebhookEndpointParams{URL: &url, EnabledEvents: []string{"*"}}, time.Now())
	if _, err := s.CreateWebhookEndpoint(t.Context(), scope, w, casapay.Request{}); err != nil {
		t.Fatalf("CreateWebhookEndpoint: %v", err)
	}
	return w
}
