package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/casapay/casapay"
)

// newCard stores an unattached card payment method in scope and returns it.
func newCard(t *testing.T, s casapay.Store, scope casapay.Scope, number string) *casapay.PaymentMethod {
	t.Helper()
	key, err := s.FingerprintKey(t.Context(), scope)
	if err != nil {
		t.Fatalf("FingerprintKey: %v", err)
	}
	month, year := int64(12), int64(time.Now().Year()+1)
	p := &casapay.PaymentMethodParams{Type: casapay.PaymentMethodCard, Card: &casapay.CardParams{Number: number, ExpMonth: &month, ExpYear: &year}}
	if err := p.Validate(true, time.Now()); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	pm, err := casapay.NewPaymentMethod(scope, p, key, time.Now())
	if err != nil {
		t.Fatalf("NewPaymentMethod: %v", err)
	}
	if _, err := s.CreatePaymentMethod(t.Context(), scope, pm, casapay.Request{}); err != nil {
		t.Fatalf("CreatePaymentMethod: %v", err)
	}
	return pm
}

// testAttachRace attaches one payment method to many customers at once: exactly one attach wins, and
// every other answers payment_method_unexpected_state.
func testAttachRace(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	pm := newCard(t, s, scope, "4242424242424242")
	const n = 8
	customers := make([]string, n)
	for i := range customers {
		customers[i] = createCustomer(t, s, scope, janeParams(), int64(i)).ID
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, c := range customers {
		wg.Go(func() { _, errs[i] = s.AttachPaymentMethod(ctx, scope, pm.ID, c, casapay.Request{}) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		var e *casapay.Error
		switch {
		case err == nil:
			won++
			got, err := s.FindPaymentMethod(ctx, scope, pm.ID)
			if err != nil || got.Customer == nil || *got.Customer != customers[i] {
				t.Errorf("winner %s, but the payment method is %+v, %v", customers[i], got, err)
			}
		case !errors.As(err, &e) || e.Code != casapay.CodePaymentMethodUnexpectedState:
			t.Errorf("attach to %s: %v, want payment_method_unexpected_state", customers[i], err)
		}
	}
	if won != 1 {
		t.Errorf("%d attaches won, want 1", won)
	}
}

// testPaymentMethodWritesInterleave runs, at once and many times over, every write that holds a customer
// and its payment methods: attach, detach, a new default, an update and the customer's delete. None may
// fail but with an error a client may see (on PostgreSQL a deadlock would be an outage), and afterwards
// the customer's default, if any, is attached to it.
func testPaymentMethodWritesInterleave(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	for round := range 10 {
		c := createCustomer(t, s, scope, janeParams(), int64(round))
		var pms []string
		for range 3 {
			r, err := s.AttachPaymentMethod(ctx, scope, "pm_card_visa", c.ID, casapay.Request{})
			if err != nil {
				t.Fatalf("attach: %v", err)
			}
			var pm casapay.PaymentMethod
			if err := json.Unmarshal(r.Body, &pm); err != nil {
				t.Fatalf("decode: %v", err)
			}
			pms = append(pms, pm.ID)
		}
		if _, _, err := s.UpdateCustomer(ctx, scope, c.ID, &casapay.CustomerParams{DefaultPaymentMethod: &pms[0]}, casapay.Request{}); err != nil {
			t.Fatalf("set default: %v", err)
		}
		writes := []func() error{
			func() error { _, err := s.DetachPaymentMethod(ctx, scope, pms[0], casapay.Request{}); return err },
			func() error {
				_, _, err := s.UpdateCustomer(ctx, scope, c.ID, &casapay.CustomerParams{DefaultPaymentMethod: &pms[1]}, casapay.Request{})
				return err
			},
			func() error {
				_, err := s.AttachPaymentMethod(ctx, scope, "pm_card_mastercard", c.ID, casapay.Request{})
				return err
			},
			func() error {
				_, err := s.UpdatePaymentMethod(ctx, scope, pms[2], &casapay.PaymentMethodParams{Metadata: map[string]string{"k": "v"}}, casapay.Request{})
				return err
			},
			func() error { _, err := s.DetachPaymentMethod(ctx, scope, pms[1], casapay.Request{}); return err },
			func() error { _, err := s.DeleteCustomer(ctx, scope, c.ID, casapay.Request{}); return err },
		}
		var wg sync.WaitGroup
		for _, w := range writes {
			wg.Go(func() {
				var e *casapay.Error
				if err := w(); err != nil && !errors.As(err, &e) {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		wg.Wait()
		got, err := s.FindCustomer(ctx, scope, c.ID)
		if err != nil {
			t.Fatalf("FindCustomer: %v", err)
		}
		attached, _, err := s.ListPaymentMethods(ctx, scope, casapay.PaymentMethodFilter{Limit: 100})
		if err != nil {
			t.Fatalf("ListPaymentMethods: %v", err)
		}
		for _, pm := range attached {
			if got.Deleted && pm.Customer != nil && *pm.Customer == c.ID {
				t.Errorf("round %d: %s still attached to a deleted customer", round, pm.ID)
			}
		}
		if !got.Deleted && got.DefaultPaymentMethod != nil {
			pm, err := s.FindPaymentMethod(ctx, scope, *got.DefaultPaymentMethod)
			if err != nil || pm.Customer == nil || *pm.Customer != c.ID {
				t.Errorf("round %d: default %s is not attached to the customer: %+v, %v", round, *got.DefaultPaymentMethod, pm, err)
			}
		}
	}
}
