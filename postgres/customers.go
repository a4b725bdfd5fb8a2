package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
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

// customerArgs returns the values of the columns every write sets, in the order of insertCustomer's $4
// to $12 and updateCustomer's. email_lower is derived here, on every write, so the email filter can
// never disagree with email.
func customerArgs(c *casapay.Customer) []any {
	var emailLower *string
	if c.Email != nil {
		lower := strings.ToLower(*c.Email)
		emailLower = &lower
	}
	// A nil *Address reaches pgx as a typed nil, which it sends as SQL NULL, not as JSON null.
	return []any{c.Name, c.Email, emailLower, c.Phone, c.Address, c.DefaultPaymentMethod, c.Balance, c.Currency, metadataOrEmpty(c.Metadata)}
}

// customerRowColumns are the columns customerRow fills, in its order, which is insertCustomer's.
var customerRowColumns = []string{"account_id", "livemode", "id", "name", "email", "email_lower", "phone", "address",
	"default_payment_method", "balance", "currency", "metadata", "created"}

// customerRow returns the values of a new customer's row, for customerRowColumns: every insert, single
// or bulk, writes exactly these.
func customerRow(scope casapay.Scope, c *casapay.Customer) []any {
	return append(append([]any{scope.AccountID, scope.Livemode, c.ID}, customerArgs(c)...), c.Created)
}

const insertCustomer = `
INSERT INTO customers (account_id, livemode, id, name, email, email_lower, phone, address, default_payment_method,
	balance, currency, metadata, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// CustomerInsert inserts c in scope.
func (e executor) CustomerInsert(ctx context.Context, scope casapay.Scope, c *casapay.Customer) error {
	err := e.later(ctx, "insert customer", insertCustomer, customerRow(scope, c)...)
	return err
}

// CustomerInsertMany inserts cs in scope with one COPY, which holds no lock that other writes wait for
// beyond the rows it inserts.
func (e executor) CustomerInsertMany(ctx context.Context, scope casapay.Scope, cs []*casapay.Customer) error {
	rows := pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) { return customerRow(scope, cs[i]), nil })
	_, err := e.copyFrom(ctx, "customers", customerRowColumns, rows)
	return err
}

const findCustomer = `SELECT ` + customerColumns + ` FROM customers WHERE account_id = $1 AND livemode = $2 AND id = $3`

// CustomerGet returns the scope's customer, deleted or not, or storage.ErrNoRows.
func (e executor) CustomerGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.Customer, error) {
	return queryOne(ctx, e, scanCustomer, findCustomer, scope.AccountID, scope.Livemode, id)
}

// lockCustomer reads a customer to change it. FOR UPDATE holds concurrent updates of the same customer
// until this transaction ends, so each applies its parameters to what the one before it wrote, and none is lost.
const lockCustomer = findCustomer + ` FOR UPDATE`

// CustomerGetForUpdate returns the scope's customer, locked until the transaction ends, or storage.ErrNoRows.
func (e executor) CustomerGetForUpdate(ctx context.Context, scope casapay.Scope, id string) (*casapay.Customer, error) {
	return queryOne(ctx, e, scanCustomer, lockCustomer, scope.AccountID, scope.Livemode, id)
}

const updateCustomer = `
UPDATE customers SET name = $4, email = $5, email_lower = $6, phone = $7, address = $8, default_payment_method = $9,
	balance = $10, currency = $11, metadata = $12, deleted = $13
WHERE account_id = $1 AND livemode = $2 AND id = $3`

// CustomerUpdate writes c's changeable fields.
func (e executor) CustomerUpdate(ctx context.Context, scope casapay.Scope, c *casapay.Customer) error {
	args := append(append([]any{scope.AccountID, scope.Livemode, c.ID}, customerArgs(c)...), c.Deleted)
	err := e.later(ctx, "update customer", updateCustomer, args...)
	return err
}

// customerPosition looks up a list cursor. Deleted customers count: a client paging through a list must
// be able to go on from a customer deleted since it fetched the page.
const customerPosition = `SELECT created FROM customers WHERE account_id = $1 AND livemode = $2 AND id = $3`

// CustomerPosition returns the created time of the scope's customer, or storage.ErrNoRows.
func (e executor) CustomerPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error) {
	return scalar[int64](ctx, e, customerPosition, scope.AccountID, scope.Livemode, id)
}

// The list queries share their filters. Each optional one is written `$n IS NULL OR …`, and the queries
// run as unnamed statements (QueryExecModeExec), which PostgreSQL plans for each execution with the
// actual values: it folds away the absent filters and turns the rest, the (created, id) row comparison
// included, into bounds of an index scan on customers_list_idx or customers_email_idx, which stops after
// limit+1 rows. A cached generic plan could not know which filters are absent and would scan the scope
// from its newest customer. Every page, however deep, costs one index descent plus the page.
const listCustomersWhere = `
WHERE account_id = $1 AND livemode = $2 AND NOT deleted
	AND ($5::bigint IS NULL OR created >= $5) AND ($6::bigint IS NULL OR created <= $6)
	AND ($7::text IS NULL OR email_lower = $7)`

// pageQueries returns the two queries of a list's pages: query (a SELECT … FROM … WHERE) followed by
// the keyset. older pages newest first, from the top or strictly after the cursor ($3, $4); newer pages
// oldest first from just before the cursor, for ending_before. $fetch is the number of rows to fetch.
// Every list binds the scope as $1 and $2 and the cursor as $3 and $4; its own filters come after.
func pageQueries(query string, fetch int) (older, newer string) {
	limit := fmt.Sprintf(" LIMIT $%d", fetch)
	return query + `
	AND ($3::bigint IS NULL OR (created, id) < ($3, $4::text))
ORDER BY created DESC, id DESC` + limit, query + `
	AND (created, id) > ($3, $4::text)
ORDER BY created, id` + limit
}

var listCustomersOlder, listCustomersNewer = pageQueries(`SELECT `+customerColumns+` FROM customers`+listCustomersWhere, 8)

// CustomerPage reads a page of the scope's customers that are not deleted, in reading order.
func (e executor) CustomerPage(ctx context.Context, scope casapay.Scope, f casapay.CustomerFilter, from *storage.Keyset, fetch int) ([]*casapay.Customer, error) {
	query, cursorCreated, cursorID := pageFrom(listCustomersOlder, listCustomersNewer, from)
	var email *string
	if f.Email != nil {
		lower := strings.ToLower(*f.Email)
		email = &lower
	}
	return queryAll(ctx, e, scanCustomer, query, pgx.QueryExecModeExec, scope.AccountID, scope.Livemode,
		cursorCreated, cursorID, f.Created.Gte, f.Created.Lte, email, fetch)
}

// pageFrom picks the query that reads from the keyset, older or newer, and the keyset's values (nil for
// a first page).
func pageFrom(older, newer string, from *storage.Keyset) (query string, created *int64, id *string) {
	if from == nil {
		return older, nil, nil
	}
	if from.Newer {
		return newer, &from.Created, &from.ID
	}
	return older, &from.Created, &from.ID
}
