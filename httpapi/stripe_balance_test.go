package httpapi_test

import (
	"errors"
	"testing"

	"github.com/stripe/stripe-go/v82"

	"github.com/casapay/casapay/storetest"
)

// TestStripeGoBalanceTransactions drives a customer's ledger through stripe-go's customer balance
// transaction service, unchanged.
func TestStripeGoBalanceTransactions(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		sc, other := newStripeClient(t, open)
		ctx := t.Context()
		cus, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Name: stripe.String("Jane Doe"),
			Balance: stripe.Int64(2500)})
		var se *stripe.Error
		if !errors.As(err, &se) || se.Param != "currency" {
			t.Errorf("create with a balance and no currency: %v", err)
		}
		cus, err = sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Name: stripe.String("Jane Doe")})
		if err != nil {
			t.Fatalf("Customers.Create: %v", err)
		}
		debit, err := sc.V1CustomerBalanceTransactions.Create(ctx, &stripe.CustomerBalanceTransactionCreateParams{
			Customer: stripe.String(cus.ID), Amount: stripe.Int64(125000), Currency: stripe.String("gbp"),
			Description: stripe.String("April rent"), Metadata: map[string]string{"unit": "4B"}})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if debit.Amount != 125000 || debit.EndingBalance != 125000 || debit.Currency != stripe.CurrencyGBP ||
			debit.Type != stripe.CustomerBalanceTransactionTypeAdjustment || debit.Customer.ID != cus.ID || debit.Metadata["unit"] != "4B" {
			t.Errorf("Create answered %+v", debit)
		}
		credit, err := sc.V1CustomerBalanceTransactions.Create(ctx, &stripe.CustomerBalanceTransactionCreateParams{
			Customer: stripe.String(cus.ID), Amount: stripe.Int64(-30000), Currency: stripe.String("gbp")})
		if err != nil || credit.EndingBalance != 95000 {
			t.Fatalf("credit: %+v, %v", credit, err)
		}
		_, err = sc.V1CustomerBalanceTransactions.Create(ctx, &stripe.CustomerBalanceTransactionCreateParams{
			Customer: stripe.String(cus.ID), Amount: stripe.Int64(100), Currency: stripe.String("eur")})
		if !errors.As(err, &se) || se.HTTPStatusCode != 400 || se.Param != "currency" {
			t.Errorf("another currency: %v", err)
		}
		got, err := sc.V1CustomerBalanceTransactions.Retrieve(ctx, debit.ID, &stripe.CustomerBalanceTransactionRetrieveParams{Customer: stripe.String(cus.ID)})
		if err != nil || got.ID != debit.ID || got.Description != "April rent" {
			t.Errorf("Retrieve = %+v, %v", got, err)
		}
		updated, err := sc.V1CustomerBalanceTransactions.Update(ctx, debit.ID, &stripe.CustomerBalanceTransactionUpdateParams{
			Customer: stripe.String(cus.ID), Description: stripe.String("April rent, paid")})
		if err != nil || updated.Description != "April rent, paid" || updated.Amount != 125000 {
			t.Errorf("Update = %+v, %v", updated, err)
		}
		var listed []int64
		for b, err := range sc.V1CustomerBalanceTransactions.List(ctx, &stripe.CustomerBalanceTransactionListParams{Customer: stripe.String(cus.ID)}) {
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			listed = append(listed, b.EndingBalance)
		}
		if len(listed) != 2 || listed[0] != 95000 || listed[1] != 125000 {
			t.Errorf("List ending balances %v, want 95000, 125000 (newest first)", listed)
		}
		after, err := sc.V1Customers.Retrieve(ctx, cus.ID, nil)
		if err != nil || after.Balance != 95000 || after.Currency != stripe.CurrencyGBP {
			t.Errorf("customer after the ledger: %+v, %v", after, err)
		}
		if _, err := other.V1CustomerBalanceTransactions.Retrieve(ctx, debit.ID,
			&stripe.CustomerBalanceTransactionRetrieveParams{Customer: stripe.String(cus.ID)}); !isStripeError(err, 404, stripe.ErrorCodeResourceMissing) {
			t.Errorf("another account read the ledger: %v", err)
		}
	})
}
