package storage

import (
	"context"
	"encoding/json"
	"fmt"

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
func (s *Store) CreateCustomer(ctx context.Context, scope casapay.Scope, c *casapay.Customer, req casapay.Request) (*casapay.Response, error) {
	if c.Livemode != scope.Livemode {
		return nil, fmt.Errorf("create customer %s: livemode %t outside the scope's mode", c.ID, c.Livemode)
	}
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		if c.DefaultPaymentMethod != nil {
			if err := checkPaymentMethod(ctx, ex, scope, "payment_method", *c.DefaultPaymentMethod); err != nil {
				return nil, err
			}
		}
		if err := ex.CustomerInsert(ctx, scope, c); err != nil {
			return nil, fmt.Errorf("insert customer %s: %w", c.ID, err)
		}
		ch, err := answer(c)
		if err != nil {
			return nil, err
		}
		ch.event = &pendingEvent{typ: casapay.EventCustomerCreated}
		return ch, nil
	})
}

// checkPaymentMethod returns resource_missing, naming param, unless scope has the payment method id.
// It runs inside the write's transaction, so the payment method cannot go between the check and the
// write. CasaPay stores no payment methods yet, so every ID names a missing one.
func checkPaymentMethod(_ context.Context, _ Executor, _ casapay.Scope, param, id string) error {
	return casapay.NotFound("PaymentMethod", param, id)
}

// FindCustomer returns a customer of scope, deleted ones included, or resource_missing (param "id").
func (s *Store) FindCustomer(ctx context.Context, scope casapay.Scope, id string) (*casapay.Customer, error) {
	c, err := s.d.Executor().CustomerGet(ctx, scope, id)
	return found(c, err, "customer", "id", id)
}

// liveCustomerForUpdate returns a customer that is not deleted, held for this transaction, or
// resource_missing (param "id").
func liveCustomerForUpdate(ctx context.Context, ex Executor, scope casapay.Scope, id string) (*casapay.Customer, error) {
	c, err := ex.CustomerGetForUpdate(ctx, scope, id)
	c, err = found(c, err, "customer", "id", id)
	if err == nil && c.Deleted {
		return nil, casapay.NotFound("customer", "id", id)
	}
	return c, err
}

// UpdateCustomer applies p to a customer of scope and returns the result (nil when replayed). It records
// customer.updated with the fields that changed, and nothing at all, not even the write, when none did.
//
// The event is stamped with the store's clock once the customer is held (see liveCustomerForUpdate),
// not with the time the request arrived: a request that waited for another update of the same customer
// is applied after it, and its event must sort after that one's, so that the newest event shows the
// customer as it is. Deletes are stamped the same way. A create's event keeps the customer's created time.
func (s *Store) UpdateCustomer(ctx context.Context, scope casapay.Scope, id string, p *casapay.CustomerParams,
	req casapay.Request) (*casapay.Customer, *casapay.Response, error) {
	var updated *casapay.Customer
	resp, err := s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		c, err := liveCustomerForUpdate(ctx, ex, scope, id)
		if err != nil {
			return nil, err
		}
		if pm := p.DefaultPaymentMethod; pm != nil && *pm != "" {
			if err := checkPaymentMethod(ctx, ex, scope, "default_payment_method", *pm); err != nil {
				return nil, err
			}
		}
		before, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("encode customer %s: %w", id, err)
		}
		if err := c.Apply(p); err != nil {
			return nil, err
		}
		ch, err := answer(c)
		if err != nil {
			return nil, err
		}
		previous, err := casapay.PreviousAttributes(before, ch.body)
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
		ch.event = &pendingEvent{typ: casapay.EventCustomerUpdated, previous: previous, at: s.now()}
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

// DeleteCustomer marks a customer of scope deleted, or returns resource_missing (param "id") if it is
// missing or already deleted. The row stays, so the customer is still found by ID and still works as a
// list cursor. It answers the deleted stub and records customer.deleted with the whole customer.
func (s *Store) DeleteCustomer(ctx context.Context, scope casapay.Scope, id string, req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		c, err := liveCustomerForUpdate(ctx, ex, scope, id)
		if err != nil {
			return nil, err
		}
		c.Deleted = true
		if err := ex.CustomerUpdate(ctx, scope, c); err != nil {
			return nil, fmt.Errorf("delete customer %s: %w", id, err)
		}
		ch, err := answer(c.Stub())
		if err != nil {
			return nil, err
		}
		object, err := c.DeletedJSON()
		if err != nil {
			return nil, fmt.Errorf("encode customer %s: %w", id, err)
		}
		ch.event = &pendingEvent{typ: casapay.EventCustomerDeleted, object: object, at: s.now()}
		return ch, nil
	})
}

// ListCustomers returns a page of scope's customers that are not deleted, newest first (see list).
func (s *Store) ListCustomers(ctx context.Context, scope casapay.Scope, f casapay.CustomerFilter) ([]*casapay.Customer, bool, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	f.Created = inclusive(f.Created)
	return list(ctx, s.d, pageQuery[*casapay.Customer]{
		kind: "customer", limit: limit, startingAfter: f.StartingAfter, endingBefore: f.EndingBefore,
		position: func(ctx context.Context, ex Executor, id string) (int64, error) {
			return ex.CustomerPosition(ctx, scope, id)
		},
		read: func(ctx context.Context, ex Executor, from *Keyset, fetch int) ([]*casapay.Customer, error) {
			return ex.CustomerPage(ctx, scope, f, from, fetch)
		},
	})
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
	}
	err := s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
		return ex.CustomerInsertMany(ctx, scope, cs)
	})
	if err != nil {
		return fmt.Errorf("import customers: %w", err)
	}
	return nil
}
