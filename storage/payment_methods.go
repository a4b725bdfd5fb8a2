package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/casapay/casapay"
)

// PaymentMethodExecutor runs the statements of payment methods.
type PaymentMethodExecutor interface {
	// PaymentMethodInsert inserts pm in scope.
	PaymentMethodInsert(ctx context.Context, scope casapay.Scope, pm *casapay.PaymentMethod) error
	// PaymentMethodGet returns a payment method, or ErrNoRows.
	PaymentMethodGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.PaymentMethod, error)
	// PaymentMethodGetForUpdate is PaymentMethodGet, and holds the row against other writers until the
	// transaction ends. A transaction that holds a customer too takes the customer first.
	PaymentMethodGetForUpdate(ctx context.Context, scope casapay.Scope, id string) (*casapay.PaymentMethod, error)
	// PaymentMethodUpdate writes every field of pm that can change: billing details, card, customer,
	// detached, metadata.
	PaymentMethodUpdate(ctx context.Context, scope casapay.Scope, pm *casapay.PaymentMethod) error
	// PaymentMethodsAttached returns every payment method attached to the customer, oldest first, and holds
	// them against other writers until the transaction ends.
	PaymentMethodsAttached(ctx context.Context, scope casapay.Scope, customerID string) ([]*casapay.PaymentMethod, error)
	// PaymentMethodsDetach detaches every payment method attached to the customer.
	PaymentMethodsDetach(ctx context.Context, scope casapay.Scope, customerID string) error
	// PaymentMethodCount returns how many payment methods are attached to the customer.
	PaymentMethodCount(ctx context.Context, scope casapay.Scope, customerID string) (int, error)
	// PaymentMethodPosition returns the created time of a payment method, or ErrNoRows.
	PaymentMethodPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error)
	// PaymentMethodPage reads up to fetch payment methods of f (its Customer and Type) from the keyset
	// (nil: from the newest), in reading order.
	PaymentMethodPage(ctx context.Context, scope casapay.Scope, f casapay.PaymentMethodFilter, from *Keyset, fetch int) ([]*casapay.PaymentMethod, error)
}

var _ casapay.PaymentMethodStore = (*Store)(nil)

// CreatePaymentMethod stores pm, which casapay.NewPaymentMethod built for scope, attached to no customer.
func (s *Store) CreatePaymentMethod(ctx context.Context, scope casapay.Scope, pm *casapay.PaymentMethod, req casapay.Request) (*casapay.Response, error) {
	if pm.Livemode != scope.Livemode {
		return nil, fmt.Errorf("create payment method %s: livemode %t outside the scope's mode", pm.ID, pm.Livemode)
	}
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		if err := ex.PaymentMethodInsert(ctx, scope, pm); err != nil {
			return nil, fmt.Errorf("insert payment method %s: %w", pm.ID, err)
		}
		ch, _, err := paymentMethodAnswer(ctx, ex, scope, pm, req.Expand)
		return ch, err
	})
}

// findPaymentMethod returns a payment method of scope, held for this transaction when forUpdate is set,
// or resource_missing (param "id").
func findPaymentMethod(ctx context.Context, ex Executor, scope casapay.Scope, id string, forUpdate bool) (*casapay.PaymentMethod, error) {
	get := ex.PaymentMethodGet
	if forUpdate {
		get = ex.PaymentMethodGetForUpdate
	}
	pm, err := get(ctx, scope, id)
	return found(pm, err, "PaymentMethod", "id", id)
}

// FindPaymentMethod returns a payment method of scope, or resource_missing (param "id").
func (s *Store) FindPaymentMethod(ctx context.Context, scope casapay.Scope, id string, expand ...string) (*casapay.PaymentMethod, error) {
	if len(expand) == 0 {
		return findPaymentMethod(ctx, s.d.Executor(), scope, id, false)
	}
	var pm *casapay.PaymentMethod
	err := s.d.InReadTx(ctx, func(ctx context.Context, ex Executor) error {
		var err error
		if pm, err = findPaymentMethod(ctx, ex, scope, id, false); err != nil {
			return err
		}
		return expandPaymentMethod(ctx, ex, scope, pm, expand)
	})
	return pm, err
}

// UpdatePaymentMethod applies p to a payment method attached to a customer, and records
// payment_method.updated with the fields that changed; nothing at all when none did.
func (s *Store) UpdatePaymentMethod(ctx context.Context, scope casapay.Scope, id string, p *casapay.PaymentMethodParams,
	req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		pm, err := findPaymentMethod(ctx, ex, scope, id, true)
		if err != nil {
			return nil, err
		}
		if pm.Customer == nil {
			return nil, casapay.ErrNotAttached(pm, "updated")
		}
		before, err := json.Marshal(pm)
		if err != nil {
			return nil, fmt.Errorf("encode payment method %s: %w", id, err)
		}
		if err := pm.Apply(p, s.now()); err != nil {
			return nil, err
		}
		ch, plain, err := paymentMethodAnswer(ctx, ex, scope, pm, req.Expand)
		if err != nil {
			return nil, err
		}
		previous, err := casapay.PreviousAttributes(before, plain)
		if err != nil || previous == nil {
			return ch, err
		}
		if err := ex.PaymentMethodUpdate(ctx, scope, pm); err != nil {
			return nil, fmt.Errorf("update payment method %s: %w", id, err)
		}
		ch.events = []pendingEvent{{typ: casapay.EventPaymentMethodUpdated, object: plain, previous: previous, at: s.now()}}
		return ch, nil
	})
}

// AttachPaymentMethod attaches a payment method, or a test token's new one, to a customer of scope.
func (s *Store) AttachPaymentMethod(ctx context.Context, scope casapay.Scope, id, customerID string, req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		if !casapay.TestToken(id) {
			// A missing payment method is the path's 404, whatever the customer.
			if _, err := findPaymentMethod(ctx, ex, scope, id, false); err != nil {
				return nil, err
			}
		}
		c, err := liveCustomer(ctx, ex, scope, customerID, true)
		if casapay.IsNotFound(err) {
			return nil, casapay.MissingParam("customer", "customer", customerID)
		}
		if err != nil {
			return nil, err
		}
		pm, events, err := s.attach(ctx, ex, scope, id, "id", c, req.Time)
		if err != nil {
			return nil, err
		}
		ch, _, err := paymentMethodAnswer(ctx, ex, scope, pm, req.Expand)
		if err != nil {
			return nil, err
		}
		ch.events = events
		return ch, nil
	})
}

// attach attaches the payment method id, or the new one a test token makes, to c, which the caller
// holds, and returns it with the event the attach records (none when it was attached to c already).
// param names the parameter that gave id, for its errors. A test token's payment method takes at as its
// created time. The customer is held before the payment method, in every write that holds both, so two
// writes never wait for each other.
func (s *Store) attach(ctx context.Context, ex Executor, scope casapay.Scope, id, param string, c *casapay.Customer,
	at time.Time) (*casapay.PaymentMethod, []pendingEvent, error) {
	var pm *casapay.PaymentMethod
	if at.IsZero() {
		at = s.now()
	}
	if casapay.TestToken(id) {
		key, err := fingerprintKey(ctx, ex, scope)
		if err != nil {
			return nil, nil, fmt.Errorf("read fingerprint key: %w", err)
		}
		if pm, err = casapay.PaymentMethodFromToken(scope, id, param, key, at); err != nil {
			return nil, nil, err
		}
	} else {
		var err error
		pm, err = ex.PaymentMethodGetForUpdate(ctx, scope, id)
		switch {
		case errors.Is(err, ErrNoRows) && param == "id":
			return nil, nil, casapay.NotFound("PaymentMethod", param, id)
		case errors.Is(err, ErrNoRows):
			return nil, nil, casapay.MissingParam("PaymentMethod", param, id)
		case err != nil:
			return nil, nil, fmt.Errorf("find payment method %s: %w", id, err)
		}
	}
	if err := pm.Attachable(c.ID); err != nil {
		return nil, nil, err
	}
	if pm.Customer != nil {
		return pm, nil, nil // attached to c already
	}
	n, err := ex.PaymentMethodCount(ctx, scope, c.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("count payment methods of %s: %w", c.ID, err)
	}
	if n >= casapay.MaxCustomerPaymentMethods {
		return nil, nil, casapay.ErrTooManyPaymentMethods(c.ID)
	}
	pm.Customer = &c.ID
	if casapay.TestToken(id) {
		err = ex.PaymentMethodInsert(ctx, scope, pm)
	} else {
		err = ex.PaymentMethodUpdate(ctx, scope, pm)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("attach payment method %s: %w", pm.ID, err)
	}
	object, err := json.Marshal(pm)
	if err != nil {
		return nil, nil, fmt.Errorf("encode payment method %s: %w", pm.ID, err)
	}
	return pm, []pendingEvent{{typ: casapay.EventPaymentMethodAttached, object: object, at: s.now()}}, nil
}

// DetachPaymentMethod detaches a payment method of scope from its customer, and unsets the customer's
// default if it was that one.
func (s *Store) DetachPaymentMethod(ctx context.Context, scope casapay.Scope, id string, req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		// Read the payment method to learn its customer, hold the customer, then hold the payment
		// method: the order every write that holds both takes.
		pm, err := findPaymentMethod(ctx, ex, scope, id, false)
		if err != nil {
			return nil, err
		}
		if pm.Customer == nil {
			return nil, casapay.ErrNotAttached(pm, "detached")
		}
		c, err := ex.CustomerGetForUpdate(ctx, scope, *pm.Customer)
		if err != nil {
			return nil, fmt.Errorf("find customer %s of %s: %w", *pm.Customer, id, err)
		}
		if pm, err = findPaymentMethod(ctx, ex, scope, id, true); err != nil {
			return nil, err
		}
		if pm.Customer == nil || *pm.Customer != c.ID {
			return nil, casapay.ErrNotAttached(pm, "detached") // detached, or moved, meanwhile
		}
		pm.Customer, pm.Detached = nil, true
		if err := ex.PaymentMethodUpdate(ctx, scope, pm); err != nil {
			return nil, fmt.Errorf("detach payment method %s: %w", id, err)
		}
		ch, plain, err := paymentMethodAnswer(ctx, ex, scope, pm, req.Expand)
		if err != nil {
			return nil, err
		}
		at := s.now()
		ch.events = []pendingEvent{{typ: casapay.EventPaymentMethodDetached, object: plain, at: at}}
		if c.DefaultPaymentMethod != nil && *c.DefaultPaymentMethod == id {
			e, err := unsetDefault(ctx, ex, scope, c, at)
			if err != nil {
				return nil, err
			}
			ch.events = append(ch.events, e)
		}
		return ch, nil
	})
}

// unsetDefault sets c's default_payment_method to null and returns the customer.updated it records.
func unsetDefault(ctx context.Context, ex Executor, scope casapay.Scope, c *casapay.Customer, at time.Time) (pendingEvent, error) {
	before, err := json.Marshal(c)
	if err != nil {
		return pendingEvent{}, fmt.Errorf("encode customer %s: %w", c.ID, err)
	}
	c.DefaultPaymentMethod = nil
	return customerUpdated(ctx, ex, scope, c, before, at)
}

// ListPaymentMethods returns a page of scope's payment methods, newest first (see list).
func (s *Store) ListPaymentMethods(ctx context.Context, scope casapay.Scope, f casapay.PaymentMethodFilter) ([]*casapay.PaymentMethod, bool, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, false, fmt.Errorf("list payment methods: %w", err)
	}
	// The page's customers, read once each to expand them; the filter's customer is read here anyway.
	customers := map[string]*casapay.Customer{}
	if f.Customer != nil {
		c, err := s.d.Executor().CustomerGet(ctx, scope, *f.Customer)
		if errors.Is(err, ErrNoRows) || (err == nil && c.Deleted) {
			return nil, false, casapay.NotFound("customer", "customer", *f.Customer)
		}
		if err != nil {
			return nil, false, fmt.Errorf("find customer %s: %w", *f.Customer, err)
		}
		customers[c.ID] = c
	}
	page, hasMore, err := list(ctx, s.d, pageQuery[*casapay.PaymentMethod]{
		kind: "payment_method", limit: limit, startingAfter: f.StartingAfter, endingBefore: f.EndingBefore,
		position: func(ctx context.Context, ex Executor, id string) (int64, error) {
			return ex.PaymentMethodPosition(ctx, scope, id)
		},
		read: func(ctx context.Context, ex Executor, from *Keyset, fetch int) ([]*casapay.PaymentMethod, error) {
			return ex.PaymentMethodPage(ctx, scope, f, from, fetch)
		},
	})
	if err != nil || len(f.Expand) == 0 {
		return page, hasMore, err
	}
	err = s.d.InReadTx(ctx, func(ctx context.Context, ex Executor) error {
		for _, pm := range page {
			if pm.Customer == nil {
				continue
			}
			c, ok := customers[*pm.Customer]
			if !ok {
				var err error
				if c, err = ex.CustomerGet(ctx, scope, *pm.Customer); err != nil {
					return fmt.Errorf("expand customer %s of %s: %w", *pm.Customer, pm.ID, err)
				}
				customers[c.ID] = c
			}
			pm.CustomerObject = c
		}
		return nil
	})
	return page, hasMore, err
}

// expandPaymentMethod sets pm's expanded fields that expand names: "customer".
func expandPaymentMethod(ctx context.Context, ex Executor, scope casapay.Scope, pm *casapay.PaymentMethod, expand []string) error {
	if pm.Customer == nil || !slices.Contains(expand, "customer") {
		return nil
	}
	c, err := ex.CustomerGet(ctx, scope, *pm.Customer)
	if err != nil {
		return fmt.Errorf("expand customer %s of %s: %w", *pm.Customer, pm.ID, err)
	}
	pm.CustomerObject = c
	return nil
}

// paymentMethodAnswer returns a change answering pm, expanded as expand asks, and pm's JSON unexpanded,
// which is what its events show.
func paymentMethodAnswer(ctx context.Context, ex Executor, scope casapay.Scope, pm *casapay.PaymentMethod, expand []string) (*change, []byte, error) {
	plain, err := answer(pm)
	if err != nil || len(expand) == 0 {
		return plain, bodyOf(plain), err
	}
	if err := expandPaymentMethod(ctx, ex, scope, pm, expand); err != nil {
		return nil, nil, err
	}
	defer func() { pm.CustomerObject = nil }()
	expanded, err := answer(pm)
	return expanded, plain.body, err
}

// bodyOf returns ch's body, nil for no change.
func bodyOf(ch *change) []byte {
	if ch == nil {
		return nil
	}
	return ch.body
}

// PaymentMethodRow is what a payment method's JSON columns hold, as text: details (the hash named
// after its type), billing_details and metadata. Both dialects store and read them through it.
type PaymentMethodRow struct {
	Details, BillingDetails, Metadata string
}

// EncodePaymentMethod returns pm's JSON columns.
func EncodePaymentMethod(pm *casapay.PaymentMethod) (PaymentMethodRow, error) {
	var details any
	switch pm.Type {
	case casapay.PaymentMethodCard:
		details = pm.Card
	case casapay.PaymentMethodSepaDebit:
		details = pm.SepaDebit
	case casapay.PaymentMethodBacsDebit:
		details = pm.BacsDebit
	case casapay.PaymentMethodUSBankAccount:
		details = pm.USBankAccount
	default:
		return PaymentMethodRow{}, fmt.Errorf("payment method %s: unknown type %q", pm.ID, pm.Type)
	}
	metadata := pm.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	var r PaymentMethodRow
	for _, f := range []struct {
		dst *string
		v   any
	}{{&r.Details, details}, {&r.BillingDetails, pm.BillingDetails}, {&r.Metadata, metadata}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return PaymentMethodRow{}, fmt.Errorf("encode payment method %s: %w", pm.ID, err)
		}
		*f.dst = string(b)
	}
	return r, nil
}

// Decode sets pm's fields from the columns, by pm.Type.
func (r PaymentMethodRow) Decode(pm *casapay.PaymentMethod) error {
	var details any
	switch pm.Type {
	case casapay.PaymentMethodCard:
		details = &pm.Card
	case casapay.PaymentMethodSepaDebit:
		details = &pm.SepaDebit
	case casapay.PaymentMethodBacsDebit:
		details = &pm.BacsDebit
	case casapay.PaymentMethodUSBankAccount:
		details = &pm.USBankAccount
	default:
		return fmt.Errorf("unknown type %q", pm.Type)
	}
	pm.Metadata = map[string]string{}
	for _, f := range []struct {
		src string
		dst any
	}{{r.Details, details}, {r.BillingDetails, &pm.BillingDetails}, {r.Metadata, &pm.Metadata}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return fmt.Errorf("decode payment method: %w", err)
		}
	}
	return nil
}
