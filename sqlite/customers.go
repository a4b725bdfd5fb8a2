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
	if c.Livemode != scope.Livemode {
		return nil, fmt.Errorf("customer %s: livemode %t outside scope's mode %t", c.ID, c.Livemode, scope.Livemode)
	}
	address, metadata, err := encodeCustomer(c)
	if err != nil {
		return nil, fmt.Errorf("customer %s: %w", c.ID, err)
	}
	return []any{c.ID, scope.AccountID, scope.Livemode, c.Name, c.Email, lower(c.Email), c.Phone, address,
		c.DefaultPaymentMethod, c.Balance, c.Currency, metadata, c.Created}, nil
}

// CreateCustomer stores c, which casapay.NewCustomer built for scope, unless idem replays a stored
// response (see casapay.Store).
func (s *Store) CreateCustomer(ctx context.Context, scope casapay.Scope, c *casapay.Customer, idem *casapay.Idempotency) (*casapay.Replay, error) {
	row, err := customerRow(scope, c)
	if err != nil {
		return nil, fmt.Errorf("insert customer: %w", err)
	}
	return s.writeIdempotent(ctx, scope, idem, func(ctx context.Context, tx *sql.Tx) (any, error) {
		if _, err := s.exec(ctx, tx, insertCustomerSQL, row...); err != nil {
			return nil, fmt.Errorf("insert customer %s: %w", c.ID, interpret(err))
		}
		return c, nil
	})
}

// importChunk is how many customers one INSERT of ImportCustomers carries: 13 values each, well under
// SQLite's limit of 32766 bound values per statement, and large enough that parsing and stepping the
// statement, not the round trips into the driver, is what an import costs.
const importChunk = 500

// ImportCustomers stores cs, which casapay.NewCustomer built for scope, in one transaction: all of them,
// or none if any fails (an ID that already exists fails with an error that is not a *casapay.Error). It
// stores no idempotency record. The import holds the writer while it runs, so other writes wait behind
// it: load a large set in calls of some thousands. ctx is checked between chunks, never within a
// statement (see Store.write).
func (s *Store) ImportCustomers(ctx context.Context, scope casapay.Scope, cs []*casapay.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	rows := make([][]any, len(cs))
	for i, c := range cs {
		row, err := customerRow(scope, c)
		if err != nil {
			return fmt.Errorf("import customers: %w", err)
		}
		rows[i] = row
	}
	callerCtx := ctx
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for chunk := range slices.Chunk(rows, importChunk) {
			// A long import still stops when its caller gives up, but only here, between statements,
			// where failing simply rolls back the chunks already inserted with the rest of the request.
			if err := callerCtx.Err(); err != nil {
				return fmt.Errorf("import customers: %w", err)
			}
			query := insertCustomersSQL(len(chunk))
			args := make([]any, 0, len(chunk)*len(chunk[0]))
			for _, row := range chunk {
				args = append(args, row...)
			}
			var err error
			if len(chunk) == importChunk {
				_, err = s.exec(ctx, tx, query, args...)
			} else {
				// The last chunk's length differs from import to import, and the writer cannot prepare a
				// statement during a batch (see Store.exec), so this one is parsed for this import alone.
				_, err = tx.ExecContext(ctx, query, args...)
			}
			if err != nil {
				return fmt.Errorf("import customers: %w", interpret(err))
			}
		}
		return nil
	})
}

const findCustomerSQL = `SELECT ` + customerColumns + ` FROM customers
WHERE id = ? AND account_id = ? AND livemode = ?`

// FindCustomer returns a customer of scope, deleted ones included (with Deleted set), or
// resource_missing with param "id".
func (s *Store) FindCustomer(ctx context.Context, scope casapay.Scope, id string) (*casapay.Customer, error) {
	find, err := s.reads.prepare(ctx, findCustomerSQL)
	if err != nil {
		return nil, fmt.Errorf("find customer %s: %w", id, err)
	}
	c, err := scanCustomer(find.QueryRowContext(ctx, id, scope.AccountID, scope.Livemode))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, casapay.NotFound("customer", "id", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find customer %s: %w", id, err)
	}
	return c, nil
}

const (
	findLiveCustomerSQL = findCustomerSQL + ` AND NOT deleted`

	updateCustomerSQL = `
UPDATE customers SET name = ?, email = ?, email_lower = ?, phone = ?, address = ?,
	default_payment_method = ?, balance = ?, currency = ?, metadata = ?
WHERE id = ? AND account_id = ? AND livemode = ?`
)

// UpdateCustomer applies p to a customer of scope and returns the result, unless idem replays a stored
// response. A missing or deleted customer gives resource_missing with param "id"; a result that would
// break a limit gives Customer.Apply's error. Neither changes anything or is stored under idem.
func (s *Store) UpdateCustomer(ctx context.Context, scope casapay.Scope, id string, p *casapay.CustomerParams,
	idem *casapay.Idempotency) (*casapay.Customer, *casapay.Replay, error) {
	var c *casapay.Customer
	replay, err := s.writeIdempotent(ctx, scope, idem, func(ctx context.Context, tx *sql.Tx) (any, error) {
		var err error
		c, err = scanCustomer(s.queryRow(ctx, tx, findLiveCustomerSQL, id, scope.AccountID, scope.Livemode))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, casapay.NotFound("customer", "id", id)
		}
		if err != nil {
			return nil, fmt.Errorf("find customer %s: %w", id, err)
		}
		if err := c.Apply(p); err != nil {
			return nil, err
		}
		address, metadata, err := encodeCustomer(c)
		if err != nil {
			return nil, fmt.Errorf("update customer %s: %w", id, err)
		}
		_, err = s.exec(ctx, tx, updateCustomerSQL, c.Name, c.Email, lower(c.Email), c.Phone, address,
			c.DefaultPaymentMethod, c.Balance, c.Currency, metadata, id, scope.AccountID, scope.Livemode)
		if err != nil {
			return nil, fmt.Errorf("update customer %s: %w", id, interpret(err))
		}
		return c, nil
	})
	if err != nil || replay != nil {
		return nil, replay, err
	}
	return c, nil, nil
}

const deleteCustomerSQL = `
UPDATE customers SET deleted = 1
WHERE id = ? AND account_id = ? AND livemode = ? AND NOT deleted`

// DeleteCustomer marks a customer of scope deleted, or returns resource_missing with param "id" if it
// is missing or already deleted. The row stays, so the customer is still found by ID and still works as
// a list cursor.
func (s *Store) DeleteCustomer(ctx context.Context, scope casapay.Scope, id string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, deleteCustomerSQL, id, scope.AccountID, scope.Livemode)
		if err != nil {
			return fmt.Errorf("delete customer %s: %w", id, interpret(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("delete customer %s: %w", id, interpret(err))
		}
		if n == 0 {
			return casapay.NotFound("customer", "id", id)
		}
		return nil
	})
}

// findCursorSQL finds a cursor's position. Deleted customers count: a client paging through a list may
// hold the ID of a customer deleted since.
const findCursorSQL = `SELECT created FROM customers WHERE id = ? AND account_id = ? AND livemode = ?`

// ListCustomers returns a page of scope's customers that are not deleted, newest first, and whether more
// match beyond the page in the direction of travel: older ones, or newer ones for EndingBefore.
// A cursor that names no customer in scope gives resource_missing with the cursor's param.
func (s *Store) ListCustomers(ctx context.Context, scope casapay.Scope, f casapay.CustomerFilter) ([]*casapay.Customer, bool, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	// Both statements are prepared before the read transaction holds a connection (see stmtCache.prepare).
	query, args := listQuery(scope, f, limit+1)
	list, err := s.reads.prepare(ctx, query)
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	findCursor, err := s.reads.prepare(ctx, findCursorSQL)
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	page := []*casapay.Customer{} // an empty page is [], not null, once encoded
	// One read transaction, so the page is read from the same snapshot as the cursor's position.
	err = s.read(ctx, func(tx *sql.Tx) error {
		var cursor int64
		for _, c := range []struct{ param, id string }{{"starting_after", f.StartingAfter}, {"ending_before", f.EndingBefore}} {
			if c.id == "" {
				continue
			}
			err := tx.StmtContext(ctx, findCursor).QueryRowContext(ctx, c.id, scope.AccountID, scope.Livemode).Scan(&cursor)
			if errors.Is(err, sql.ErrNoRows) {
				return casapay.NotFound("customer", c.param, c.id)
			}
			if err != nil {
				return fmt.Errorf("find cursor %s: %w", c.id, interpret(err))
			}
		}

		rows, err := tx.StmtContext(ctx, list).QueryContext(ctx, args(cursor)...)
		if err != nil {
			return fmt.Errorf("list customers: %w", interpret(err))
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCustomer(rows)
			if err != nil {
				return fmt.Errorf("list customers: %w", err)
			}
			page = append(page, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list customers: %w", interpret(err))
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}

	hasMore := len(page) > limit
	page = page[:min(len(page), limit)]
	if f.EndingBefore != "" {
		slices.Reverse(page) // read oldest first from the cursor; answered newest first
	}
	return page, hasMore, nil
}

// listQuery returns the page query for f and its arguments; fetch is how many rows to read. args takes
// the created time of f's cursor customer, and ignores it without a cursor: the query's text depends
// only on which of f's fields are set, never on their values or the cursor's, so it is known, and its
// statement prepared, before the read transaction that finds the cursor (see Store.ListCustomers).
//
// The query walks customers_list, or customers_list_email when filtering by email, from the cursor's
// (created, id) position: SQLite turns the row-value comparison into a range on the index, so the page
// costs the same wherever it starts. Pages before the cursor (ending_before) are read in ascending
// order, the fetch nearest the cursor, and reversed by the caller. The conditions repeat the indexes'
// WHERE NOT deleted word for word, which is how SQLite knows the partial indexes apply.
func listQuery(scope casapay.Scope, f casapay.CustomerFilter, fetch int) (query string, args func(cursor int64) []any) {
	var q strings.Builder
	q.WriteString(`SELECT ` + customerColumns + ` FROM customers WHERE account_id = ? AND livemode = ? AND NOT deleted`)
	bound := []any{scope.AccountID, scope.Livemode}
	if f.Email != nil {
		q.WriteString(` AND email_lower = ?`)
		bound = append(bound, strings.ToLower(*f.Email))
	}
	for _, b := range []struct {
		cond  string
		bound *int64
	}{{` AND created > ?`, f.Created.Gt}, {` AND created >= ?`, f.Created.Gte}, {` AND created < ?`, f.Created.Lt}, {` AND created <= ?`, f.Created.Lte}} {
		if b.bound != nil {
			q.WriteString(b.cond)
			bound = append(bound, *b.bound)
		}
	}
	order := ` ORDER BY created DESC, id DESC`
	cursorID := "" // f's cursor customer, if any
	switch {
	case f.StartingAfter != "":
		q.WriteString(` AND (created, id) < (?, ?)`)
		cursorID = f.StartingAfter
	case f.EndingBefore != "":
		q.WriteString(` AND (created, id) > (?, ?)`)
		cursorID = f.EndingBefore
		order = ` ORDER BY created ASC, id ASC`
	}
	q.WriteString(order + ` LIMIT ?`)
	return q.String(), func(cursor int64) []any {
		if cursorID == "" {
			return slices.Concat(bound, []any{fetch})
		}
		return slices.Concat(bound, []any{cursor, cursorID, fetch})
	}
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
	m := c.Metadata
	if m == nil {
		m = map[string]string{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, nil, fmt.Errorf("encode metadata: %w", err)
	}
	return address, string(b), nil
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
