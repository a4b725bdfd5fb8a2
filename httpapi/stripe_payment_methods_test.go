package httpapi_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/casapay/casapay/storetest"
)

// TestStripeGoPaymentMethods drives payment methods through stripe-go, the official Go SDK, unchanged.
func TestStripeGoPaymentMethods(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		sc, other := newStripeClient(t, open)
		ctx := t.Context()

		cus, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Name: stripe.String("Jane Doe"), PaymentMethod: stripe.String("pm_card_visa")})
		if err != nil {
			t.Fatalf("Customers.Create with pm_card_visa: %v", err)
		}
		var raw struct {
			DefaultPaymentMethod string `json:"default_payment_method"`
		}
		if err := json.Unmarshal(cus.LastResponse.RawJSON, &raw); err != nil || raw.DefaultPaymentMethod == "" {
			t.Fatalf("customer's default_payment_method: %q, %v", raw.DefaultPaymentMethod, err)
		}

		pm, err := sc.V1PaymentMethods.Create(ctx, &stripe.PaymentMethodCreateParams{
			Type: stripe.String("card"),
			Card: &stripe.PaymentMethodCreateCardParams{Number: stripe.String("5555555555554444"), ExpMonth: stripe.Int64(12),
				ExpYear: stripe.Int64(int64(time.Now().Year() + 2)), CVC: stripe.String("123")},
			BillingDetails: &stripe.PaymentMethodCreateBillingDetailsParams{Name: stripe.String("Jane Doe"), Email: stripe.String("jane@example.com")},
			Metadata:       map[string]string{"unit": "4B"},
		})
		if err != nil {
			t.Fatalf("PaymentMethods.Create: %v", err)
		}
		if pm.Type != stripe.PaymentMethodTypeCard || pm.Card.Brand != stripe.PaymentMethodCardBrandMastercard || pm.Card.Last4 != "4444" ||
			pm.Card.Funding != stripe.CardFundingCredit || pm.BillingDetails.Email != "jane@example.com" || pm.Metadata["unit"] != "4B" || pm.Customer != nil {
			t.Errorf("Create answered %+v (card %+v)", pm, pm.Card)
		}
		got, err := sc.V1PaymentMethods.Retrieve(ctx, pm.ID, nil)
		if err != nil || got.ID != pm.ID || got.Card.Fingerprint != pm.Card.Fingerprint {
			t.Errorf("Retrieve = %+v, %v", got, err)
		}
		attached, err := sc.V1PaymentMethods.Attach(ctx, pm.ID, &stripe.PaymentMethodAttachParams{Customer: stripe.String(cus.ID)})
		if err != nil || attached.Customer == nil || attached.Customer.ID != cus.ID {
			t.Fatalf("Attach = %+v, %v", attached, err)
		}
		sepa, err := sc.V1PaymentMethods.Create(ctx, &stripe.PaymentMethodCreateParams{Type: stripe.String("sepa_debit"),
			SEPADebit: &stripe.PaymentMethodCreateSEPADebitParams{IBAN: stripe.String("DE89370400440532013000")}})
		if err != nil || sepa.SEPADebit.Last4 != "3000" || sepa.SEPADebit.Country != "DE" {
			t.Fatalf("Create sepa_debit = %+v, %v", sepa, err)
		}
		if _, err := sc.V1PaymentMethods.Attach(ctx, sepa.ID, &stripe.PaymentMethodAttachParams{Customer: stripe.String(cus.ID)}); err != nil {
			t.Fatalf("Attach sepa_debit: %v", err)
		}

		var listed []string
		for pm, err := range sc.V1Customers.ListPaymentMethods(ctx, &stripe.CustomerListPaymentMethodsParams{Customer: stripe.String(cus.ID)}) {
			if err != nil {
				t.Fatalf("Customers.ListPaymentMethods: %v", err)
			}
			listed = append(listed, pm.ID)
		}
		if len(listed) != 3 || listed[0] != sepa.ID || listed[1] != pm.ID || listed[2] != raw.DefaultPaymentMethod {
			t.Errorf("Customers.ListPaymentMethods = %v, want %s, %s, %s", listed, sepa.ID, pm.ID, raw.DefaultPaymentMethod)
		}
		var cards []string
		for pm, err := range sc.V1PaymentMethods.List(ctx, &stripe.PaymentMethodListParams{Customer: stripe.String(cus.ID), Type: stripe.String("card")}) {
			if err != nil {
				t.Fatalf("PaymentMethods.List: %v", err)
			}
			cards = append(cards, pm.ID)
		}
		if len(cards) != 2 {
			t.Errorf("PaymentMethods.List(type=card) = %v, want 2", cards)
		}
		own, err := sc.V1Customers.RetrievePaymentMethod(ctx, pm.ID, &stripe.CustomerRetrievePaymentMethodParams{Customer: stripe.String(cus.ID)})
		if err != nil || own.ID != pm.ID {
			t.Errorf("Customers.RetrievePaymentMethod = %+v, %v", own, err)
		}
		updated, err := sc.V1PaymentMethods.Update(ctx, pm.ID, &stripe.PaymentMethodUpdateParams{
			Card: &stripe.PaymentMethodUpdateCardParams{ExpMonth: stripe.Int64(3)}})
		if err != nil || updated.Card.ExpMonth != 3 {
			t.Errorf("Update = %+v, %v", updated, err)
		}
		detached, err := sc.V1PaymentMethods.Detach(ctx, pm.ID, nil)
		if err != nil || detached.Customer != nil {
			t.Errorf("Detach = %+v, %v", detached, err)
		}

		// Declines and errors reach the SDK as its own error types.
		_, err = sc.V1PaymentMethods.Attach(ctx, "pm_card_visa_chargeDeclinedInsufficientFunds", &stripe.PaymentMethodAttachParams{Customer: stripe.String(cus.ID)})
		var se *stripe.Error
		if !errors.As(err, &se) || se.Type != stripe.ErrorTypeCard || se.Code != stripe.ErrorCodeCardDeclined ||
			se.DeclineCode != stripe.DeclineCodeInsufficientFunds || se.HTTPStatusCode != 402 {
			t.Errorf("Attach of a declining token: %v", err)
		}
		_, err = sc.V1PaymentMethods.Create(ctx, &stripe.PaymentMethodCreateParams{Type: stripe.String("card"),
			Card: &stripe.PaymentMethodCreateCardParams{Number: stripe.String("4242424242424241"), ExpMonth: stripe.Int64(1), ExpYear: stripe.Int64(2070)}})
		if !errors.As(err, &se) || se.Code != stripe.ErrorCodeIncorrectNumber || se.Param != "card[number]" {
			t.Errorf("Create with a bad number: %v", err)
		}
		if _, err := other.V1PaymentMethods.Retrieve(ctx, sepa.ID, nil); !isStripeError(err, 404, stripe.ErrorCodeResourceMissing) {
			t.Errorf("another account retrieved %s: %v", sepa.ID, err)
		}
	})
}
