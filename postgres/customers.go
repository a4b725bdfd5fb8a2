package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
)

const customerColumns = `id, livemode, name, email, phone, address, default_payment_method, balance, currency,
	metadata, created, deleted`

// scanCustomer reads a row of customerColumns.
func scanCustomer(row pgx.CollectableRow) (*casapay.Customer, error) {
	c := casapay.Customer{Object: "customer"}
	err := row.Scan(&c.ID, &c.Livemode, &c.Name, &c.Email, &c.Phone, &c.Address, &c.DefaultPaymentMethod,
		&c.Balance, &c.Currency, &c.Metadata, &c.Created, &c.Deleted)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// customerArgs returns the values of every column a write sets, in the order of insertCustomer's $4 to
// $13 and updateCustomer's. email_lower is derived here, on every write, so the email filter can never
// disagree with email.
func customerArgs(c *casapay.Customer) []any {
	var emailLower *string
	if c.Email != nil {
		lower := strings.ToLower(*c.Email)
		emailLower = &lower
	}
	metadata := c.Metadata
	if metadata == nil {
		metadata = map[string]string{} // the column is NOT NULL; the customer object's metadata is {} when empty
	}
	// A nil *Address reaches pgx as a typed nil, which it sends as SQL NULL, not as JSON null.
	return []any{c.Name, c.Email, emailLower, c.Phone, c.Address, c.DefaultPaymentMethod, c.Balance, c.Currency,
		metadata, c.Created}
}

// customerRowColumns are the columns customerRow fills, in its order, which is insertCustomer's.
var customerRowColumns = []string{"account_id", "livemode", "id", "name", "email", "email_lower", "phone", "address",
	"default_payment_method", "balance", "currency", "metadata", "created"}

// customerRow returns the values of a new customer's row, for customerRowColumns: every insert, single
// or bulk, writes exactly these.
func customerRow(scope casapay.Scope, c *casapay.Customer) []any {
	return append([]any{scope.AccountID, scope.Livemode, c.ID}, customerArgs(c)...)
}

const insertCustomer = `
INSERT INTO customers (account_id, livemode, id, name, email, email_lower, phone, address, default_payment_method,
	balance, currency, metadata, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// CreateCustomer stores c in scope, unless idem replays (see casapay.Store).
func (s *Store) CreateCustomer(ctx context.Context, scope casapay.Scope, c *casapay.Customer, idem *casapay.Idempotency) (*casapay.Replay, error) {
	_, replay, err := idempotent(ctx, s, scope, idem, func(tx pgx.Tx) (*casapay.Customer, error) {
		return createCustomer(ctx, tx, scope, c)
	})
	return replay, err
}

func createCustomer(ctx context.Context, tx pgx.Tx, scope casapay.Scope, c *casapay.Customer) (*casapay.Customer, error) {
	if _, err := tx.Exec(ctx, insertCustomer, customerRow(scope, c)...); err != nil {
		return nil, fmt.Errorf("insert customer %s: %w", c.ID, err)
	}
	return c, nil
}

// ImportCustomers stores cs, which casapay.NewCustomer built for scope, with one COPY in one transaction:
// all of them, or none if any fails (an ID that already exists fails with an error that is not a
// *casapay.Error). It stores no idempotency record, and it holds no lock that other writes wait for,
// beyond the rows it inserts.
func (s *Store) ImportCustomers(ctx context.Context, scope casapay.Scope, cs []*casapay.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows := pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) { return customerRow(scope, cs[i]), nil })
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"customers"}, customerRowColumns, rows)
		return err
	})
	if err != nil {
		return fmt.Errorf("import customers: %w", err)
	}
	return nil
}

const findCustomer = `SELECT ` + customerColumns + ` FROM customers WHERE account_id = $1 AND livemode = $2 AND id = $3`

// FindCustomer returns the scope's customer, deleted or not, or resource_missing (param "id").
func (s *Store) FindCustomer(ctx context.Context, scope casapay.Scope, id string) (*casapay.Customer, error) {
	rows, err := s.pool.Query(ctx, findCustomer, scope.AccountID, scope.Livemode, id)
	if err != nil {
		return nil, fmt.Errorf("find customer %s: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCustomer)
	switch err := interpret(err); {
	case errors.Is(err, errNoRows):
		return nil, casapay.NotFound("customer", "id", id)
	case err != nil:
		return nil, fmt.Errorf("find customer %s: %w", id, err)
	}
	return c, nil
}

// lockCustomer reads a customer to change it. FOR UPDATE holds concurrent updates of the same customer
// until this transaction ends, so each applies its parameters to what the one before it wrote, and none is lost.
const lockCustomer = findCustomer + ` FOR UPDATE`

const updateCustomer = `
UPDATE customers SET name = $4, email = $5, email_lower = $6, phone = $7, address = $8, default_payment_method = $9,
	balance = $10, currency = $11, metadata = $12, created = $13
WHERE account_id = $1 AND livemode = $2 AND id = $3`

// UpdateCustomer applies p to the scope's customer and returns the result, unless idem replays (see
// casapay.Store). It returns resource_missing (param "id") for a missing or deleted customer, and
// Apply's error for an invalid result; neither is stored under idem.
func (s *Store) UpdateCustomer(ctx context.Context, scope casapay.Scope, id string, p *casapay.CustomerParams, idem *casapay.Idempotency) (*casapay.Customer, *casapay.Replay, error) {
	return idempotent(ctx, s, scope, idem, func(tx pgx.Tx) (*casapay.Customer, error) {
		rows, err := tx.Query(ctx, lockCustomer, scope.AccountID, scope.Livemode, id)
		if err != nil {
			return nil, fmt.Errorf("lock customer %s: %w", id, err)
		}
		c, err := pgx.CollectExactlyOneRow(rows, scanCustomer)
		switch err := interpret(err); {
		case errors.Is(err, errNoRows):
			return nil, casapay.NotFound("customer", "id", id)
		case err != nil:
			return nil, fmt.Errorf("lock customer %s: %w", id, err)
		case c.Deleted:
			return nil, casapay.NotFound("customer", "id", id)
		}
		if err := c.Apply(p); err != nil {
			return nil, err
		}
		args := append([]any{scope.AccountID, scope.Livemode, id}, customerArgs(c)...)
		if _, err := tx.Exec(ctx, updateCustomer, args...); err != nil {
			return nil, fmt.Errorf("update customer %s: %w", id, err)
		}
		return c, nil
	})
}

const deleteCustomer = `UPDATE customers SET deleted = true WHERE account_id = $1 AND livemode = $2 AND id = $3 AND NOT deleted`

// DeleteCustomer marks the scope's customer deleted, or returns resource_missing (param "id") for a
// missing or already deleted customer. The row stays: retrieve answers its deleted stub, and it still
// works as a list cursor.
func (s *Store) DeleteCustomer(ctx context.Context, scope casapay.Scope, id string) error {
	tag, err := s.pool.Exec(ctx, deleteCustomer, scope.AccountID, scope.Livemode, id)
	if err != nil {
		return fmt.Errorf("delete customer %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return casapay.NotFound("customer", "id", id)
	}
	return nil
}

// findCursor looks up a list cursor. Deleted customers count: a client paging through a list must be able
// to go on from a customer deleted since it fetched the page.
const findCursor = `SELECT created FROM customers WHERE account_id = $1 AND livemode = $2 AND id = $3`

// The list queries share their filters. Each optional one is written `$n IS NULL OR …`, and the queries
// run as unnamed statements (QueryExecModeExec), which PostgreSQL plans for each execution with the
// actual values: it folds away the absent filters and turns the rest, the (created, id) row comparison
// included, into bounds of an index scan on customers_list_idx or customers_email_idx, which stops after
// limit+1 rows. A cached generic plan could not know which filters are absent and would scan the scope
// from its newest customer. Every page, however deep, costs one index descent plus the page.
const listCustomersWhere = `
WHERE account_id = $1 AND livemode = $2 AND NOT deleted
	AND ($5::bigint IS NULL OR created > $5) AND ($6::bigint IS NULL OR created >= $6)
	AND ($7::bigint IS NULL OR created < $7) AND ($8::bigint IS NULL OR created <= $8)
	AND ($9::text IS NULL OR email_lower = $9)`

// listCustomersOlder pages newest first, from the top or strictly after the cursor ($3, $4).
const listCustomersOlder = `SELECT ` + customerColumns + ` FROM customers` + listCustomersWhere + `
	AND ($3::bigint IS NULL OR (created, id) < ($3, $4::text))
ORDER BY created DESC, id DESC LIMIT $10`

// listCustomersNewer pages oldest first from just before the cursor ($3, $4), for ending_before.
const listCustomersNewer = `SELECT ` + customerColumns + ` FROM customers` + listCustomersWhere + `
	AND (created, id) > ($3, $4::text)
ORDER BY created, id LIMIT $10`

// ListCustomers returns a page of the scope's customers that are not deleted, newest first, and whether
// more match beyond it in the direction of travel: older ones for a first page or starting_after, newer
// ones for ending_before. An unknown cursor gives resource_missing with the cursor's parameter.
func (s *Store) ListCustomers(ctx context.Context, scope casapay.Scope, f casapay.CustomerFilter) ([]*casapay.Customer, bool, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	query := listCustomersOlder
	var cursorCreated *int64
	var cursorID *string
	for _, cur := range []struct{ param, id string }{{"starting_after", f.StartingAfter}, {"ending_before", f.EndingBefore}} {
		if cur.id == "" {
			continue
		}
		var created int64
		err := s.pool.QueryRow(ctx, findCursor, scope.AccountID, scope.Livemode, cur.id).Scan(&created)
		switch err := interpret(err); {
		case errors.Is(err, errNoRows):
			return nil, false, casapay.NotFound("customer", cur.param, cur.id)
		case err != nil:
			return nil, false, fmt.Errorf("find %s cursor %s: %w", cur.param, cur.id, err)
		}
		cursorCreated, cursorID = &created, &cur.id
		if cur.param == "ending_before" {
			query = listCustomersNewer
		}
	}
	var email *string
	if f.Email != nil {
		lower := strings.ToLower(*f.Email)
		email = &lower
	}
	rows, err := s.pool.Query(ctx, query, pgx.QueryExecModeExec, scope.AccountID, scope.Livemode,
		cursorCreated, cursorID, f.Created.Gt, f.Created.Gte, f.Created.Lt, f.Created.Lte, email, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	page, err := pgx.CollectRows(rows, scanCustomer)
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	hasMore := len(page) > limit
	page = page[:min(len(page), limit)]
	if query == listCustomersNewer {
		slices.Reverse(page) // the limit customers just newer than the cursor, still newest first
	}
	return page, hasMore, nil
}
