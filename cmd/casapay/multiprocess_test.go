package main

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/casapay/casapay/storetest"
)

// TestIdempotencyAcrossProcesses runs two `casapay serve` processes on one PostgreSQL schema and sends
// 16 identical creates with one Idempotency-Key at once, alternately to each. Exactly one customer
// is created; every answer is 200 with that customer (all but the first marked Idempotent-Replayed) or
// a 409 idempotency_key_in_use for a request that arrived while the first was in flight. Several keys
// make the race likely to happen at least once.
func TestIdempotencyAcrossProcesses(t *testing.T) {
	const (
		keys     = 8
		requests = 16
	)
	dsn := storetest.PostgresSchemaURL(t)
	secret := createAccountProcess(t, dsn)
	servers := []*serveProcess{startServeProcess(t, dsn), startServeProcess(t, dsn)}
	client := newKeepAliveClient(t)

	// Open the connections first, so the requests below race in the servers and the database rather
	// than in TCP handshakes.
	var warmWG sync.WaitGroup
	for i := range 2 * requests {
		warmWG.Go(func() {
			do(t.Context(), client, "GET", servers[i%2].URL+"/v1/customers?limit=1", secret, "", nil)
		})
	}
	warmWG.Wait()

	customers := make(map[string]string) // customer ID → the Idempotency-Key that made it
	var conflicts, replays int
	for k := range keys {
		idemKey := fmt.Sprintf("cross-process-%d", k)
		form := url.Values{"name": {fmt.Sprintf("Tenant %d", k)}, "email": {fmt.Sprintf("tenant%d@example.com", k)}}
		answers := make([]answer, requests)
		errs := make([]error, requests)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range requests {
			wg.Go(func() {
				<-start
				answers[i], errs[i] = do(t.Context(), client, "POST", servers[i%2].URL+"/v1/customers", secret, idemKey, form)
			})
		}
		close(start)
		wg.Wait()

		id, firsts := "", 0
		for i, a := range answers {
			if errs[i] != nil {
				t.Errorf("key %s, request %d (server %d): %v", idemKey, i, i%2, errs[i])
				continue
			}
			c := a.customer()
			switch {
			case a.Status == http.StatusConflict && c.Error != nil && c.Error.Type == "idempotency_error" && c.Error.Code == "idempotency_key_in_use":
				conflicts++
			case a.Status == http.StatusOK && c.ID != "":
				if id == "" {
					id = c.ID
				} else if c.ID != id {
					t.Errorf("key %s, request %d (server %d) created %s; another request with the key created %s", idemKey, i, i%2, c.ID, id)
				}
				if a.Replayed {
					replays++
				} else {
					firsts++
				}
			default:
				t.Errorf("key %s, request %d (server %d) = %d %s; want 200 with the customer or 409 idempotency_key_in_use", idemKey, i, i%2, a.Status, a.Body)
			}
		}
		if firsts != 1 {
			t.Errorf("key %s: %d answers were 200 without Idempotent-Replayed, want exactly 1 (the request that created the customer)", idemKey, firsts)
		}
		if id == "" {
			continue
		}
		customers[id] = idemKey

		// Once the race is over, the key replays on either server.
		for s, srv := range servers {
			a, err := do(t.Context(), client, "POST", srv.URL+"/v1/customers", secret, idemKey, form)
			if err != nil || a.Status != http.StatusOK || !a.Replayed || a.customer().ID != id {
				t.Errorf("key %s sent again to server %d = %d (replayed %v) %s %v; want 200, replayed, %s", idemKey, s, a.Status, a.Replayed, a.Body, err, id)
			}
		}
	}

	for s, srv := range servers {
		listed := listAll(t, client, srv.URL, secret, 10*keys)
		var ids []string
		for _, c := range listed {
			ids = append(ids, c.ID)
			if customers[c.ID] == "" {
				t.Errorf("server %d lists %s (%q), which no answer named: a key created a second customer", s, c.ID, c.Name)
			}
		}
		if len(listed) != len(customers) {
			t.Errorf("server %d lists %d customers %v, want %d, one per key", s, len(listed), ids, len(customers))
		}
	}
	t.Logf("%d keys × %d concurrent requests over 2 processes: %d customers, %d replays, %d answered 409 in flight",
		keys, requests, len(customers), replays, conflicts)
}
