package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// customerColumns are the columns scanCustomer reads, in its order.
const customerColumns = `id, livemode, name, email, phone, address, default_payment_method, balance, currency,
	metadata, created, deleted`

// customerRowColumns are the columns customerRow fills, in its order: every insert of a customer, single
// or bulk, writes exactly these.
const customerRowColumns = `id, account_id, livemode, name, email, email_lower, phone, address,
	default_payment_method, balance, currency, metadata, created`

// customerRowValues holds one row's placeholders, one per column of customerRowColumns.
const customerRowValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const insertCustomerSQL = `INSERT INTO customers (` + customerRowColumns + `) VALUES ` + customerRowValues

// insertCustomersSQL returns an INSERT of n customers, n > 0.
func insertCustomersSQL(n int) string {
	return `INSERT INTO customers (` + customerRowColumns + `) VALUES ` +
		strings.Repeat(customerRowValues+`, `, n-1) + customerRowValues
}

// customerRow returns c's values for customerRowColumns in scope. email_lower is derived here, for every
// insert, so the email filter never disagrees with email.
func customerRow(scope casapay.Scope, c *casapay.Customer) ([]any, error) {
	address, metadata, err := encodeCustomer(c)
	if err != nil {
		return nil, fmt.Errorf("customer %s: %w", c.ID, err)
	}
	return []any{c.ID, scope.AccountID, scope.Livemode, c.Name, c.Email, lower(c.Email), c.Phone, address,
		c.DefaultPaymentMethod, c.Balance, c.Currency, metadata, c.Created}, nil
}

// CustomerInsert inserts c in scope.
func (e *executor) CustomerInsert(ctx context.Context, scope casapay.Scope, c *casapay.Customer) error {
	row, err := customerRow(scope, c)
	if err != nil {
		return err
	}
	_, err = e.exec(ctx, insertCustomerSQL, row...)
	return err
}

// importChunk is how many customers one INSERT of CustomerInsertMany carries: 13 values each, well under
// SQLite's limit of 32766 bound values per statement, and large enough that parsing and stepping the
// statement, not the round trips into the driver, is what an import costs.
const importChunk = 500

// CustomerInsertMany inserts cs in scope, importChunk rows per statement. It must run in a write
// transaction. The import holds the writer while it runs, so other writes wait behind it: load a large
// set in calls of some thousands.
func (e *executor) CustomerInsertMany(ctx context.Context, scope casapay.Scope, cs []*casapay.Customer) error {
	if e.tx == nil {
		return errors.New("insert customers: not in a write transaction")
	}
	for chunk := range slices.Chunk(cs, importChunk) {
		args := make([]any, 0, len(chunk)*13)
		for _, c := range chunk {
			row, err := customerRow(scope, c)
			if err != nil {
				return err
			}
			args = append(args, row...)
		}
		var err error
		if len(chunk) == importChunk {
			_, err = e.exec(ctx, insertCustomersSQL(importChunk), args...)
		} else {
			// The last chunk's length differs from import to import, and the writer cannot prepare a
			// statement during a batch (see Open), so this one is parsed for this import alone.
			if _, err = e.tx.ExecContext(ctx, insertCustomersSQL(len(chunk)), args...); err != nil {
				err = interpret(err)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

const findCustomerSQL = `SELECT ` + customerColumns + ` FROM customers
WHERE id = ? AND account_id = ? AND livemode = ?`

// CustomerGet returns a customer of scope, deleted or not, or storage.ErrNoRows.
func (e *executor) CustomerGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.Customer, error) {
	return scanCustomer(e.queryRow(ctx, findCustomerSQL, id, scope.AccountID, scope.Livemode))
}

// CustomerGetForUpdate is CustomerGet: every write transaction began IMMEDIATE on the one writer
// connection, so nothing else can change the row until it ends.
func (e *executor) CustomerGetForUpdate(ctx context.Context, scope casapay.Scope, id string) (*casapay.Customer, error) {
	return e.CustomerGet(ctx, scope, id)
}

const updateCustomerSQL = `
UPDATE customers SET name = ?, email = ?, email_lower = ?, phone = ?, address = ?,
	default_payment_method = ?, balance = ?, currency = ?, metadata = ?, deleted = ?
WHERE id = ? AND account_id = ? AND livemode = ?`

// CustomerUpdate writes c's changeable fields.
func (e *executor) CustomerUpdate(ctx context.Context, scope casapay.Scope, c *casapay.Customer) error {
	address, metadata, err := encodeCustomer(c)
	if err != nil {
		return fmt.Errorf("customer %s: %w", c.ID, err)
	}
	_, err = e.exec(ctx, updateCustomerSQL, c.Name, c.Email, lower(c.Email), c.Phone, address,
		c.DefaultPaymentMethod, c.Balance, c.Currency, metadata, c.Deleted, c.ID, scope.AccountID, scope.Livemode)
	return err
}

// customerPositionSQL finds a cursor's position. Deleted customers count: a client paging through a
// list may hold the ID of a customer deleted since.
const customerPositionSQL = `SELECT created FROM customers WHERE id = ? AND account_id = ? AND livemode = ?`

// CustomerPosition returns the created time of a customer of scope, or storage.ErrNoRows.
func (e *executor) CustomerPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error) {
	return e.position(ctx, customerPositionSQL, scope, id)
}

// customersPage is the FROM and WHERE of a customer page: it walks customers_list, or
// customers_list_email with the email filter. The condition repeats the indexes' WHERE NOT deleted word
// for word, which is how SQLite knows the partial indexes apply.
const (
	customersPage    = `customers WHERE account_id = ? AND livemode = ? AND NOT deleted`
	customersByEmail = ` AND email_lower = ?`
)

// CustomerPage reads a page of customers (see pageSQL).
func (e *executor) CustomerPage(ctx context.Context, scope casapay.Scope, f casapay.CustomerFilter, from *storage.Keyset, fetch int) ([]*casapay.Customer, error) {
	query, args := customerPageQuery(scope, f, from, fetch)
	return queryAll(ctx, e, scanCustomer, query, args...)
}

// customerPageQuery returns the query of a customer page and its arguments.
func customerPageQuery(scope casapay.Scope, f casapay.CustomerFilter, from *storage.Keyset, fetch int) (string, []any) {
	filter, args := ``, []any{scope.AccountID, scope.Livemode}
	if f.Email != nil {
		filter = customersByEmail
		args = append(args, strings.ToLower(*f.Email))
	}
	return pageSQL(customersPage, customerColumns, filter, shapeOf(f.Created, from)), pageArgs(args, f.Created, from, fetch)
}

// encodeCustomer returns c's address (nil when unset) and metadata as the JSON text the columns hold.
func encodeCustomer(c *casapay.Customer) (address, metadata any, err error) {
	if c.Address != nil {
		b, err := json.Marshal(c.Address)
		if err != nil {
			return nil, nil, fmt.Errorf("encode address: %w", err)
		}
		address = string(b)
	}
	m, err := encodeMetadata(c.Metadata)
	if err != nil {
		return nil, nil, err
	}
	return address, m, nil
}

// scanCustomer reads customerColumns.
func scanCustomer(row scanner) (*casapay.Customer, error) {
	var (
		c        = casapay.Customer{Object: "customer"}
		address  sql.Null[string]
		metadata string
	)
	err := row.Scan(&c.ID, &c.Livemode, &c.Name, &c.Email, &c.Phone, &address, &c.DefaultPaymentMethod, &c.Balance,
		&c.Currency, &metadata, &c.Created, &c.Deleted)
	if err != nil {
		return nil, interpret(err)
	}
	if address.Valid {
		if err := json.Unmarshal([]byte(address.V), &c.Address); err != nil {
			return nil, fmt.Errorf("decode address of %s: %w", c.ID, err)
		}
	}
	c.Metadata = map[string]string{}
	if err := json.Unmarshal([]byte(metadata), &c.Metadata); err != nil {
		return nil, fmt.Errorf("decode metadata of %s: %w", c.ID, err)
	}
	return &c, nil
}

// lower returns the lower-case form of an optional email, which the email filter compares.
func lower(email *string) *string {
	if email == nil {
		return nil
	}
	l := strings.ToLower(*email)
	return &l
}
