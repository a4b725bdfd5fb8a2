package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/casapay/casapay"
)

// BalanceTransactionExecutor runs the statements of customers' balance transactions.
type BalanceTransactionExecutor interface {
	// BalanceTransactionInsert inserts b in scope.
	BalanceTransactionInsert(ctx context.Context, scope casapay.Scope, b *casapay.BalanceTransaction) error
	// BalanceTransactionGet returns a transaction of the customer, or ErrNoRows.
	BalanceTransactionGet(ctx context.Context, scope casapay.Scope, customerID, id string) (*casapay.BalanceTransaction, error)
	// BalanceTransactionGetForUpdate is BalanceTransactionGet, and holds the row until the transaction ends.
	BalanceTransactionGetForUpdate(ctx context.Context, scope casapay.Scope, customerID, id string) (*casapay.BalanceTransaction, error)
	// BalanceTransactionUpdate writes b's description and metadata.
	BalanceTransactionUpdate(ctx context.Context, scope casapay.Scope, b *casapay.BalanceTransaction) error
	// BalanceTransactionPosition returns the created time of a transaction of the customer, or ErrNoRows.
	BalanceTransactionPosition(ctx context.Context, scope casapay.Scope, customerID, id string) (int64, error)
	// BalanceTransactionPage reads up to fetch of the customer's transactions from the keyset (nil: from
	// the newest), in reading order.
	BalanceTransactionPage(ctx context.Context, scope casapay.Scope, customerID string, from *Keyset, fetch int) ([]*casapay.BalanceTransaction, error)
}

var _ casapay.BalanceTransactionStore = (*Store)(nil)

// CreateBalanceTransaction adds a transaction to a customer's ledger, and changes its balance (and sets
// its currency, the first time) in the same transaction, recording customer.updated.
func (s *Store) CreateBalanceTransaction(ctx context.Context, scope casapay.Scope, customerID string, p *casapay.BalanceTransactionParams,
	req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		c, err := liveCustomer(ctx, ex, scope, customerID, true)
		if err != nil {
			return nil, err
		}
		before, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("encode customer %s: %w", customerID, err)
		}
		at := s.now()
		b, err := casapay.NewBalanceTransaction(scope, c, casapay.BalanceAdjustment, *p.Amount, *p.Currency, at)
		if err != nil {
			return nil, err
		}
		if err := b.Apply(p); err != nil {
			return nil, err
		}
		updated, err := s.postBalance(ctx, ex, scope, c, b, before, at)
		if err != nil {
			return nil, err
		}
		ch, err := balanceAnswer(b, c, req.Expand)
		if err != nil {
			return nil, err
		}
		ch.events = []pendingEvent{updated}
		return ch, nil
	})
}

// postBalance inserts b, writes c (whose balance b changed), and returns the customer.updated that
// records the change of c from before.
func (s *Store) postBalance(ctx context.Context, ex Executor, scope casapay.Scope, c *casapay.Customer, b *casapay.BalanceTransaction,
	before []byte, at time.Time) (pendingEvent, error) {
	if err := ex.BalanceTransactionInsert(ctx, scope, b); err != nil {
		return pendingEvent{}, fmt.Errorf("insert balance transaction %s: %w", b.ID, err)
	}
	return customerUpdated(ctx, ex, scope, c, before, at)
}

// FindBalanceTransaction returns a transaction of a customer of scope, deleted or not, or
// resource_missing (param "id") for a missing customer or transaction.
func (s *Store) FindBalanceTransaction(ctx context.Context, scope casapay.Scope, customerID, id string, expand ...string) (*casapay.BalanceTransaction, error) {
	var b *casapay.BalanceTransaction
	err := s.d.InReadTx(ctx, func(ctx context.Context, ex Executor) error {
		c, err := ex.CustomerGet(ctx, scope, customerID)
		if _, err = found(c, err, "customer", "id", customerID); err != nil {
			return err
		}
		got, err := ex.BalanceTransactionGet(ctx, scope, customerID, id)
		if b, err = found(got, err, "customer_balance_transaction", "id", id); err != nil {
			return err
		}
		if slices.Contains(expand, "customer") {
			b.CustomerObject = casapay.ExpandedCustomer(c)
		}
		return nil
	})
	return b, err
}

// UpdateBalanceTransaction changes a transaction's description and metadata, and nothing of its
// customer: it records no event. A deleted customer's ledger can be read, not changed.
func (s *Store) UpdateBalanceTransaction(ctx context.Context, scope casapay.Scope, customerID, id string, p *casapay.BalanceTransactionParams,
	req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		c, err := liveCustomer(ctx, ex, scope, customerID, false)
		if err != nil {
			return nil, err
		}
		b, err := ex.BalanceTransactionGetForUpdate(ctx, scope, customerID, id)
		if b, err = found(b, err, "customer_balance_transaction", "id", id); err != nil {
			return nil, err
		}
		if err := b.Apply(p); err != nil {
			return nil, err
		}
		if err := ex.BalanceTransactionUpdate(ctx, scope, b); err != nil {
			return nil, fmt.Errorf("update balance transaction %s: %w", id, err)
		}
		return balanceAnswer(b, c, req.Expand)
	})
}

// ListBalanceTransactions returns a page of a customer's transactions, newest first: the order they
// were applied in, turned around. A deleted customer's ledger is listed too.
func (s *Store) ListBalanceTransactions(ctx context.Context, scope casapay.Scope, f casapay.BalanceTransactionFilter) ([]*casapay.BalanceTransaction, bool, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, false, fmt.Errorf("list balance transactions: %w", err)
	}
	c, err := s.d.Executor().CustomerGet(ctx, scope, f.Customer)
	if c, err = found(c, err, "customer", "id", f.Customer); err != nil {
		return nil, false, err
	}
	page, hasMore, err := list(ctx, s.d, pageQuery[*casapay.BalanceTransaction]{
		kind: "customer_balance_transaction", limit: limit, startingAfter: f.StartingAfter, endingBefore: f.EndingBefore,
		position: func(ctx context.Context, ex Executor, id string) (int64, error) {
			return ex.BalanceTransactionPosition(ctx, scope, f.Customer, id)
		},
		read: func(ctx context.Context, ex Executor, from *Keyset, fetch int) ([]*casapay.BalanceTransaction, error) {
			return ex.BalanceTransactionPage(ctx, scope, f.Customer, from, fetch)
		},
	})
	if err == nil && slices.Contains(f.Expand, "customer") {
		for _, b := range page {
			b.CustomerObject = casapay.ExpandedCustomer(c)
		}
	}
	return page, hasMore, err
}

// balanceAnswer returns a change answering b, its customer c (as the write left it) expanded if expand
// asks.
func balanceAnswer(b *casapay.BalanceTransaction, c *casapay.Customer, expand []string) (*change, error) {
	if !slices.Contains(expand, "customer") {
		return answer(b)
	}
	expanded := *b
	expanded.CustomerObject = casapay.ExpandedCustomer(c)
	return answer(expanded)
}
