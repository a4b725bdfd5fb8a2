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

// CustomerExecutor runs the statements of customers.
type CustomerExecutor interface {
	// CustomerInsert inserts c in scope.
	CustomerInsert(ctx context.Context, scope casapay.Scope, c *casapay.Customer) error
	// CustomerInsertMany inserts cs in scope, in as few statements as the dialect likes.
	CustomerInsertMany(ctx context.Context, scope casapay.Scope, cs []*casapay.Customer) error
	// CustomerGet returns a customer, deleted or not, or ErrNoRows.
	CustomerGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.Customer, error)
	// CustomerGetForUpdate is CustomerGet, and holds the row against other writers until the
	// transaction ends, so concurrent updates of one customer apply one after the other.
	CustomerGetForUpdate(ctx context.Context, scope casapay.Scope, id string) (*casapay.Customer, error)
	// CustomerUpdate writes every field of c that can change, deleted included; never id or created.
	CustomerUpdate(ctx context.Context, scope casapay.Scope, c *casapay.Customer) error
	// CustomerPosition returns the created time of a customer, deleted or not, or ErrNoRows.
	CustomerPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error)
	// CustomerPage reads up to fetch customers of f that are not deleted, from the keyset (nil: from the
	// newest), in reading order. f's Created has only Gte and Lte set.
	CustomerPage(ctx context.Context, scope casapay.Scope, f casapay.CustomerFilter, from *Keyset, fetch int) ([]*casapay.Customer, error)
}

var _ casapay.CustomerStore = (*Store)(nil)

// CreateCustomer stores c, which casapay.NewCustomer built for scope, and records customer.created.
// When c names a payment method, it is attached to c and becomes its default, in the same
// transaction, and payment_method.attached follows customer.created.
func (s *Store) CreateCustomer(ctx context.Context, scope casapay.Scope, c *casapay.Customer, req casapay.Request) (*casapay.Response, error) {
	if c.Livemode != scope.Livemode {
		return nil, fmt.Errorf("create customer %s: livemode %t outside the scope's mode", c.ID, c.Livemode)
	}
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		paymentMethod := c.DefaultPaymentMethod
		c.DefaultPaymentMethod = nil
		if err := ex.CustomerInsert(ctx, scope, c); err != nil {
			return nil, fmt.Errorf("insert customer %s: %w", c.ID, err)
		}
		if b := casapay.InitialBalanceTransaction(scope, c); b != nil {
			if err := ex.BalanceTransactionInsert(ctx, scope, b); err != nil {
				return nil, fmt.Errorf("insert balance transaction %s: %w", b.ID, err)
			}
		}
		var attached []pendingEvent
		if paymentMethod != nil {
			pm, events, err := s.attach(ctx, ex, scope, *paymentMethod, "payment_method", c, req.Time)
			if err != nil {
				return nil, err
			}
			c.DefaultPaymentMethod, attached = &pm.ID, events
			if err := ex.CustomerUpdate(ctx, scope, c); err != nil {
				return nil, fmt.Errorf("set default payment method of %s: %w", c.ID, err)
			}
		}
		ch, plain, err := customerAnswer(ctx, ex, scope, c, req.Expand)
		if err != nil {
			return nil, err
		}
		ch.events = append([]pendingEvent{{typ: casapay.EventCustomerCreated, object: plain}}, attached...)
		return ch, nil
	})
}

// FindCustomer returns a customer of scope, deleted ones included, or resource_missing (param "id").
func (s *Store) FindCustomer(ctx context.Context, scope casapay.Scope, id string, expand ...string) (*casapay.Customer, error) {
	if len(expand) == 0 {
		c, err := s.d.Executor().CustomerGet(ctx, scope, id)
		return found(c, err, "customer", "id", id)
	}
	var c *casapay.Customer
	err := s.d.InReadTx(ctx, func(ctx context.Context, ex Executor) error {
		var err error
		if c, err = ex.CustomerGet(ctx, scope, id); err != nil {
			_, err = found(c, err, "customer", "id", id)
			return err
		}
		return expandCustomer(ctx, ex, scope, c, expand)
	})
	return c, err
}

// liveCustomer returns a customer that is not deleted, held for this transaction with forUpdate, or
// resource_missing (param "id").
func liveCustomer(ctx context.Context, ex Executor, scope casapay.Scope, id string, forUpdate bool) (*casapay.Customer, error) {
	get := ex.CustomerGet
	if forUpdate {
		get = ex.CustomerGetForUpdate
	}
	c, err := get(ctx, scope, id)
	c, err = found(c, err, "customer", "id", id)
	if err == nil && c.Deleted {
		return nil, casapay.NotFound("customer", "id", id)
	}
	return c, err
}

// UpdateCustomer applies p to a customer of scope and returns the result (nil when replayed). It records
// customer.updated with the fields that changed, and nothing at all, not even the write, when none did.
// A default_payment_method must be attached to the customer already, unless it is a test token, whose
// new payment method is attached first (payment_method.attached, then customer.updated).
//
// The event is stamped with the store's clock once the customer is held (see liveCustomer),
// not with the time the request arrived: a request that waited for another update of the same customer
// is applied after it, and its event must sort after that one's, so that the newest event shows the
// customer as it is. Deletes are stamped the same way. A create's event keeps the customer's created time.
func (s *Store) UpdateCustomer(ctx context.Context, scope casapay.Scope, id string, p *casapay.CustomerParams,
	req casapay.Request) (*casapay.Customer, *casapay.Response, error) {
	var updated *casapay.Customer
	resp, err := s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		c, err := liveCustomer(ctx, ex, scope, id, true)
		if err != nil {
			return nil, err
		}
		var events []pendingEvent
		if pm := p.DefaultPaymentMethod; pm != nil && *pm != "" {
			newDefault, attached, err := s.defaultPaymentMethod(ctx, ex, scope, c, *pm, req.Time)
			if err != nil {
				return nil, err
			}
			q := *p
			q.DefaultPaymentMethod, p, events = &newDefault, &q, attached
		}
		before, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("encode customer %s: %w", id, err)
		}
		if err := s.setBalance(ctx, ex, scope, c, p); err != nil {
			return nil, err
		}
		if err := c.Apply(p); err != nil {
			return nil, err
		}
		ch, plain, err := customerAnswer(ctx, ex, scope, c, req.Expand)
		if err != nil {
			return nil, err
		}
		previous, err := casapay.PreviousAttributes(before, plain)
		if err != nil {
			return nil, fmt.Errorf("update customer %s: %w", id, err)
		}
		updated = c
		if previous == nil {
			return ch, nil
		}
		if err := ex.CustomerUpdate(ctx, scope, c); err != nil {
			return nil, fmt.Errorf("update customer %s: %w", id, err)
		}
		ch.events = append(events, pendingEvent{typ: casapay.EventCustomerUpdated, object: plain, previous: previous, at: s.now()})
		return ch, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if resp.Replayed {
		updated = nil
	}
	return updated, resp, nil
}

// setBalance applies an update's balance to c, which the caller holds, through an adjustment of the
// difference in c's ledger, in the update's transaction. An unchanged balance records nothing.
func (s *Store) setBalance(ctx context.Context, ex Executor, scope casapay.Scope, c *casapay.Customer, p *casapay.CustomerParams) error {
	if p.Currency != nil && c.Currency != nil && *p.Currency != *c.Currency {
		return casapay.ErrCurrencyMismatch(*c.Currency) // even with the balance unchanged: it says something false
	}
	if p.Balance == nil || *p.Balance == c.Balance {
		return nil
	}
	cur := c.Currency
	if p.Currency != nil {
		cur = p.Currency
	}
	if cur == nil {
		return casapay.InvalidParam(casapay.CodeParameterMissing, "currency",
			"Missing required param: currency, the currency of balance, which the customer does not have yet.")
	}
	amount := *p.Balance - c.Balance
	if amount > casapay.MaxBalance || amount < -casapay.MaxBalance {
		return casapay.ErrBalanceBounds("balance")
	}
	b, err := casapay.NewBalanceTransaction(scope, c, casapay.BalanceAdjustment, amount, *cur, s.now())
	if err != nil {
		return err
	}
	if err := ex.BalanceTransactionInsert(ctx, scope, b); err != nil {
		return fmt.Errorf("insert balance transaction %s: %w", b.ID, err)
	}
	return nil
}

// defaultPaymentMethod checks id, an update's default_payment_method for c, and returns the ID the
// customer's default becomes: id itself, which must be attached to c, or for a test token the ID of
// the new payment method attached to c, with the event of that attach.
func (s *Store) defaultPaymentMethod(ctx context.Context, ex Executor, scope casapay.Scope, c *casapay.Customer, id string,
	at time.Time) (string, []pendingEvent, error) {
	const param = "default_payment_method"
	if casapay.TestToken(id) {
		pm, events, err := s.attach(ctx, ex, scope, id, param, c, at)
		if err != nil {
			return "", nil, err
		}
		return pm.ID, events, nil
	}
	pm, err := ex.PaymentMethodGet(ctx, scope, id)
	switch {
	case errors.Is(err, ErrNoRows) || (err == nil && (pm.Customer == nil || *pm.Customer != c.ID)):
		return "", nil, casapay.MissingParam("PaymentMethod", param, id)
	case err != nil:
		return "", nil, fmt.Errorf("find payment method %s: %w", id, err)
	}
	return id, nil, nil
}

// DeleteCustomer marks a customer of scope deleted, or returns resource_missing (param "id") if it is
// missing or already deleted. The row stays, so the customer is still found by ID and still works as a
// list cursor. It answers the deleted stub, records customer.deleted with the whole customer, and
// detaches the customer's payment methods, each with its payment_method.detached.
func (s *Store) DeleteCustomer(ctx context.Context, scope casapay.Scope, id string, req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		c, err := liveCustomer(ctx, ex, scope, id, true)
		if err != nil {
			return nil, err
		}
		object, err := c.DeletedJSON()
		if err != nil {
			return nil, fmt.Errorf("encode customer %s: %w", id, err)
		}
		// The event shows the customer as it was; the row keeps no default, as its payment methods go.
		c.Deleted, c.DefaultPaymentMethod = true, nil
		if err := ex.CustomerUpdate(ctx, scope, c); err != nil {
			return nil, fmt.Errorf("delete customer %s: %w", id, err)
		}
		ch, err := answer(c.Stub())
		if err != nil {
			return nil, err
		}
		at := s.now()
		ch.events = []pendingEvent{{typ: casapay.EventCustomerDeleted, object: object, at: at}}
		attached, err := ex.PaymentMethodsAttached(ctx, scope, id)
		if err != nil {
			return nil, fmt.Errorf("find payment methods of %s: %w", id, err)
		}
		if len(attached) == 0 {
			return ch, nil
		}
		if err := ex.PaymentMethodsDetach(ctx, scope, id); err != nil {
			return nil, fmt.Errorf("detach payment methods of %s: %w", id, err)
		}
		for _, pm := range attached {
			pm.Customer, pm.Detached = nil, true
			object, err := json.Marshal(pm)
			if err != nil {
				return nil, fmt.Errorf("encode payment method %s: %w", pm.ID, err)
			}
			ch.events = append(ch.events, pendingEvent{typ: casapay.EventPaymentMethodDetached, object: object, at: at})
		}
		return ch, nil
	})
}

// expandCustomer sets c's expanded fields that expand names: "default_payment_method".
func expandCustomer(ctx context.Context, ex Executor, scope casapay.Scope, c *casapay.Customer, expand []string) error {
	if c.Deleted || c.DefaultPaymentMethod == nil || !slices.Contains(expand, "default_payment_method") {
		return nil
	}
	pm, err := ex.PaymentMethodGet(ctx, scope, *c.DefaultPaymentMethod)
	if err != nil {
		return fmt.Errorf("expand default payment method %s of %s: %w", *c.DefaultPaymentMethod, c.ID, err)
	}
	c.DefaultPaymentMethodObject = pm
	return nil
}

// customerAnswer returns a change answering c, expanded as expand asks, and c's JSON unexpanded, which
// is what its events show.
func customerAnswer(ctx context.Context, ex Executor, scope casapay.Scope, c *casapay.Customer, expand []string) (*change, []byte, error) {
	plain, err := answer(c)
	if err != nil || len(expand) == 0 {
		return plain, bodyOf(plain), err
	}
	if err := expandCustomer(ctx, ex, scope, c, expand); err != nil {
		return nil, nil, err
	}
	defer func() { c.DefaultPaymentMethodObject = nil }()
	expanded, err := answer(c)
	return expanded, plain.body, err
}

// ListCustomers returns a page of scope's customers that are not deleted, newest first (see list).
func (s *Store) ListCustomers(ctx context.Context, scope casapay.Scope, f casapay.CustomerFilter) ([]*casapay.Customer, bool, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	f.Created = inclusive(f.Created)
	page, hasMore, err := list(ctx, s.d, pageQuery[*casapay.Customer]{
		kind: "customer", limit: limit, startingAfter: f.StartingAfter, endingBefore: f.EndingBefore,
		position: func(ctx context.Context, ex Executor, id string) (int64, error) {
			return ex.CustomerPosition(ctx, scope, id)
		},
		read: func(ctx context.Context, ex Executor, from *Keyset, fetch int) ([]*casapay.Customer, error) {
			return ex.CustomerPage(ctx, scope, f, from, fetch)
		},
	})
	if err != nil || len(f.Expand) == 0 {
		return page, hasMore, err
	}
	err = s.d.InReadTx(ctx, func(ctx context.Context, ex Executor) error {
		for _, c := range page {
			if err := expandCustomer(ctx, ex, scope, c, f.Expand); err != nil {
				return err
			}
		}
		return nil
	})
	return page, hasMore, err
}

// ImportCustomers stores cs, which casapay.NewCustomer built for scope, in one transaction: all of them,
// or none if any fails (an ID that already exists fails with ErrDuplicate in its chain, not a
// *casapay.Error). It stores no idempotency record and records no events.
func (s *Store) ImportCustomers(ctx context.Context, scope casapay.Scope, cs []*casapay.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	for _, c := range cs {
		if c.Livemode != scope.Livemode {
			return fmt.Errorf("import customers: %s has livemode %t outside the scope's mode", c.ID, c.Livemode)
		}
		if c.Balance != 0 || c.Currency != nil {
			return fmt.Errorf("import customers: %s has a balance: an imported customer starts at 0, and its balance is its ledger's", c.ID)
		}
	}
	err := s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
		return ex.CustomerInsertMany(ctx, scope, cs)
	})
	if err != nil {
		return fmt.Errorf("import customers: %w", err)
	}
	return nil
}

// customerUpdated writes c, changed from before (its JSON) by a write that was not the customer's own
// update (a balance transaction, a detach), and returns the customer.updated that records the change.
func customerUpdated(ctx context.Context, ex Executor, scope casapay.Scope, c *casapay.Customer, before []byte, at time.Time) (pendingEvent, error) {
	if err := ex.CustomerUpdate(ctx, scope, c); err != nil {
		return pendingEvent{}, fmt.Errorf("update customer %s: %w", c.ID, err)
	}
	after, err := json.Marshal(c)
	if err != nil {
		return pendingEvent{}, fmt.Errorf("encode customer %s: %w", c.ID, err)
	}
	previous, err := casapay.PreviousAttributes(before, after)
	if err != nil {
		return pendingEvent{}, fmt.Errorf("update customer %s: %w", c.ID, err)
	}
	return pendingEvent{typ: casapay.EventCustomerUpdated, object: after, previous: previous, at: at}, nil
}
