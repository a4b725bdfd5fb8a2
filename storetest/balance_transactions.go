package storetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/casapay/casapay"
)

// checkLedger holds a customer of scope to the ledger's rule: its balance is the sum of its
// transactions, and in the ledger's order (the list's, turned around) each ending_balance is the
// running sum. It returns the ledger, oldest first.
func checkLedger(t *testing.T, s casapay.Store, scope casapay.Scope, id string) []*casapay.BalanceTransaction {
	t.Helper()
	var all []*casapay.BalanceTransaction
	f := casapay.BalanceTransactionFilter{Customer: id, Limit: 100}
	for {
		page, more, err := s.ListBalanceTransactions(t.Context(), scope, f)
		if err != nil {
			t.Fatalf("ListBalanceTransactions: %v", err)
		}
		all = append(all, page...)
		if !more {
			break
		}
		f.StartingAfter = page[len(page)-1].ID
	}
	slices.Reverse(all)
	var sum int64
	for i, b := range all {
		sum += b.Amount
		if b.EndingBalance != sum {
			t.Errorf("%s: transaction %d (%s) ends at %d, want the running sum %d", id, i+1, b.ID, b.EndingBalance, sum)
		}
	}
	c := findCustomer(t, s, scope, id)
	if !c.Deleted && c.Balance != sum {
		t.Errorf("%s: balance %d, want the sum of its %d transactions, %d", id, c.Balance, len(all), sum)
	}
	return all
}

// testLedger writes to a customer's ledger in every way there is, checking the ledger after each
// write, and then with several writers at once.
func testLedger(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	p := janeParams()
	p.Balance, p.Currency = i64(5000), str("gbp")
	c := createCustomer(t, s, scope, p, 0)
	if got := checkLedger(t, s, scope, c.ID); len(got) != 1 || got[0].Type != casapay.BalanceInitial {
		t.Errorf("opening ledger %+v, want one initial transaction", got)
	}
	post := func(amount int64, cur string) error {
		_, err := s.CreateBalanceTransaction(ctx, scope, c.ID, &casapay.BalanceTransactionParams{Amount: &amount, Currency: &cur}, casapay.Request{})
		return err
	}
	if err := post(-7000, "gbp"); err != nil {
		t.Fatalf("CreateBalanceTransaction: %v", err)
	}
	checkLedger(t, s, scope, c.ID)
	wantError(t, "CreateBalanceTransaction(eur)", post(100, "eur"), casapay.ErrCurrencyMismatch("gbp"))
	checkLedger(t, s, scope, c.ID)
	wantError(t, "CreateBalanceTransaction(beyond the bound)", post(-casapay.MaxBalance, "gbp"), casapay.ErrBalanceBounds("amount"))
	checkLedger(t, s, scope, c.ID)
	if _, _, err := s.UpdateCustomer(ctx, scope, c.ID, &casapay.CustomerParams{Balance: i64(12345)}, casapay.Request{}); err != nil {
		t.Fatalf("UpdateCustomer(balance): %v", err)
	}
	if got := checkLedger(t, s, scope, c.ID); len(got) != 3 || got[2].Amount != 12345+2000 {
		t.Errorf("ledger after the update %+v, want an adjustment of 14345", got)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				amount := int64(w*10 + i + 1)
				if i%2 == 1 {
					amount = -amount
				}
				if err := post(amount, "gbp"); err != nil {
					t.Errorf("CreateBalanceTransaction: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if got := checkLedger(t, s, scope, c.ID); len(got) != 83 {
		t.Errorf("ledger holds %d transactions, want 83", len(got))
	}
	if _, err := s.DeleteCustomer(ctx, scope, c.ID, casapay.Request{}); err != nil {
		t.Fatalf("DeleteCustomer: %v", err)
	}
	if got := checkLedger(t, s, scope, c.ID); len(got) != 83 {
		t.Errorf("a deleted customer's ledger lists %d transactions, want 83", len(got))
	}
	if err := post(1, "gbp"); !casapay.IsNotFound(err) {
		t.Errorf("a transaction on a deleted customer: %v, want resource_missing", err)
	}
}
