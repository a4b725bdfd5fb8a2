package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storetest"
)

// TestPruneOnce checks what serve keeps: events for casapay.EventRetention and stored idempotent
// responses for casapay.IdempotencyWindow, on both stores. Anything older goes; the customers stay.
func TestPruneOnce(t *testing.T) {
	for _, st := range storetest.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			store := st.Open(t)
			ctx := t.Context()
			now := time.Unix(1800000000, 0)
			a, _, _, _ := casapay.NewAccount("Pruned Lettings", now)
			if err := store.CreateAccount(ctx, a, nil); err != nil {
				t.Fatalf("CreateAccount: %v", err)
			}
			scope := casapay.Scope{AccountID: a.ID}
			create := func(key string, at time.Time) *casapay.Customer {
				t.Helper()
				c, err := casapay.NewCustomer(scope, &casapay.CustomerParams{}, at)
				if err != nil {
					t.Fatalf("NewCustomer: %v", err)
				}
				idem := &casapay.Idempotency{Key: key, Fingerprint: "fp", Created: at}
				if _, err := store.CreateCustomer(ctx, scope, c, casapay.Request{Time: at, Idempotency: idem}); err != nil {
					t.Fatalf("CreateCustomer: %v", err)
				}
				return c
			}
			second := time.Second
			create("month-old", now.Add(-casapay.EventRetention-second))          // event and response pruned
			kept := create("day-old", now.Add(-casapay.IdempotencyWindow-second)) // response pruned, event kept
			recent := create("recent", now.Add(-second))                          // both kept

			pruneOnce(ctx, slog.New(slog.NewTextHandler(t.Output(), nil)), store, now)

			page, _, err := store.ListEvents(ctx, scope, casapay.EventFilter{})
			if err != nil {
				t.Fatalf("ListEvents: %v", err)
			}
			if len(page) != 2 || page[0].Created != recent.Created || page[1].Created != kept.Created {
				t.Errorf("events after pruning created at %v, want the day-old and the recent one's", eventTimes(page))
			}
			// A pruned key is free: the same key with other parameters creates instead of failing.
			for _, k := range []struct {
				key  string
				free bool
			}{{"month-old", true}, {"day-old", true}, {"recent", false}} {
				c, err := casapay.NewCustomer(scope, &casapay.CustomerParams{}, now)
				if err != nil {
					t.Fatal(err)
				}
				_, err = store.CreateCustomer(ctx, scope, c, casapay.Request{Time: now,
					Idempotency: &casapay.Idempotency{Key: k.key, Fingerprint: "other", Created: now}})
				if free := err == nil; free != k.free {
					t.Errorf("key %s free after pruning = %t (%v), want %t", k.key, free, err, k.free)
				}
			}
			if got, _, err := store.ListCustomers(ctx, scope, casapay.CustomerFilter{Limit: 100}); err != nil || len(got) != 5 {
				t.Errorf("ListCustomers after pruning = %d customers, %v, want all 5", len(got), err)
			}
		})
	}
}

func eventTimes(events []*casapay.Event) []int64 {
	var out []int64
	for _, e := range events {
		out = append(out, e.Created)
	}
	return out
}
