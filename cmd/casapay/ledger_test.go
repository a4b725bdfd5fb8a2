package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// ledgerLine is what the ledger tests read of a balance transaction.
type ledgerLine struct {
	ID            string `json:"id"`
	Amount        int64  `json:"amount"`
	EndingBalance int64  `json:"ending_balance"`
}

// checkLedger reads a customer's ledger and balance through p and holds them to the ledger's rule: the
// balance is the sum of the transactions, and in the ledger's order (the list's, turned around) each
// ending_balance is the running sum. It returns the number of transactions.
func checkLedger(t *testing.T, client *http.Client, p *serveProcess, key, customer string) int {
	t.Helper()
	lines := walk(t, client, p.URL, "/v1/customers/"+customer+"/balance_transactions?limit=100", key, 1_000_000,
		func(l ledgerLine) string { return l.ID })
	slices.Reverse(lines)
	var sum int64
	for i, l := range lines {
		sum += l.Amount
		if l.EndingBalance != sum {
			t.Errorf("%s, transaction %d of %d (%s): ending_balance %d, want the running sum %d", customer, i+1, len(lines), l.ID, l.EndingBalance, sum)
			break
		}
	}
	a, err := do(t.Context(), client, "GET", p.URL+"/v1/customers/"+customer, key, "", nil)
	var c struct {
		Balance int64 `json:"balance"`
		Deleted bool  `json:"deleted"`
	}
	if err != nil || a.Status != http.StatusOK || json.Unmarshal(a.Body, &c) != nil {
		t.Fatalf("retrieve %s: %v %d %s", customer, err, a.Status, a.Body)
	}
	if !c.Deleted && c.Balance != sum {
		t.Errorf("%s: balance %d, want the sum of its %d transactions, %d", customer, c.Balance, len(lines), sum)
	}
	return len(lines)
}

// TestLedgerUnderConcurrency has 32 clients post 100 balance transactions each, of random signs, to one
// customer: on SQLite through one serve process, on PostgreSQL through two. Afterwards the balance is the
// sum of the 3,200 transactions and the ledger's order reproduces every ending_balance.
func TestLedgerUnderConcurrency(t *testing.T) {
	const clients, each = 32, 100
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dsn := db(t)
			key := createAccountProcess(t, dsn)
			procs := []*serveProcess{startServeProcess(t, dsn)}
			if name == "postgres" {
				procs = append(procs, startServeProcess(t, dsn))
			}
			client := newKeepAliveClient(t)
			a, err := do(t.Context(), client, "POST", procs[0].URL+"/v1/customers", key, "", url.Values{"name": {"Busy Tenant"}})
			var cus struct{ ID string }
			if err != nil || a.Status != http.StatusOK || json.Unmarshal(a.Body, &cus) != nil {
				t.Fatalf("create customer: %v %d %s", err, a.Status, a.Body)
			}
			var (
				mu  sync.Mutex
				sum int64
				wg  sync.WaitGroup
			)
			for w := range clients {
				wg.Go(func() {
					p := procs[w%len(procs)]
					rng := rand.New(rand.NewPCG(uint64(w), 7))
					for i := range each {
						amount := rng.Int64N(10_000) + 1
						if rng.IntN(2) == 0 {
							amount = -amount
						}
						form := url.Values{"amount": {strconv.FormatInt(amount, 10)}, "currency": {"gbp"}}
						a, err := do(t.Context(), client, "POST", p.URL+"/v1/customers/"+cus.ID+"/balance_transactions", key,
							fmt.Sprintf("ledger-%d-%d", w, i), form)
						if err != nil || a.Status != http.StatusOK {
							t.Errorf("transaction %d of client %d: %v %d %s", i, w, err, a.Status, a.Body)
							return
						}
						mu.Lock()
						sum += amount
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if n := checkLedger(t, client, procs[0], key, cus.ID); n != clients*each {
				t.Errorf("ledger holds %d transactions, want %d", n, clients*each)
			}
			a, _ = do(t.Context(), client, "GET", procs[len(procs)-1].URL+"/v1/customers/"+cus.ID, key, "", nil)
			var got struct{ Balance int64 }
			if json.Unmarshal(a.Body, &got) != nil || got.Balance != sum {
				t.Errorf("balance %d, want %d, the sum of what was acknowledged", got.Balance, sum)
			}
		})
	}
}
