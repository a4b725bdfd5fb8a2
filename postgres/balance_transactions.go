package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

const balanceTransactionColumns = `id, livemode, customer_id, amount, currency, description, ending_balance, metadata, type, created`

// scanBalanceTransaction reads a row of balanceTransactionColumns.
func scanBalanceTransaction(row pgx.CollectableRow) (*casapay.BalanceTransaction, error) {
	var b casapay.BalanceTransaction
	err := row.Scan(&b.ID, &b.Livemode, &b.Customer, &b.Amount, &b.Currency, &b.Description, &b.EndingBalance, &b.Metadata, &b.Type, &b.Created)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

const insertBalanceTransaction = `
INSERT INTO balance_transactions (account_id, livemode, id, customer_id, amount, currency, description, ending_balance,
	metadata, type, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// BalanceTransactionInsert inserts b in scope.
func (e executor) BalanceTransactionInsert(ctx context.Context, scope casapay.Scope, b *casapay.BalanceTransaction) error {
	err := e.later(ctx, "insert balance transaction", insertBalanceTransaction, scope.AccountID, scope.Livemode, b.ID, b.Customer, b.Amount, b.Currency,
		b.Description, b.EndingBalance, metadataOrEmpty(b.Metadata), b.Type, b.Created)
	return err
}

const findBalanceTransaction = `SELECT ` + balanceTransactionColumns + ` FROM balance_transactions
WHERE account_id = $1 AND livemode = $2 AND customer_id = $3 AND id = $4`

// BalanceTransactionGet returns a transaction of the customer, or storage.ErrNoRows.
func (e executor) BalanceTransactionGet(ctx context.Context, scope casapay.Scope, customerID, id string) (*casapay.BalanceTransaction, error) {
	return queryOne(ctx, e, scanBalanceTransaction, findBalanceTransaction, scope.AccountID, scope.Livemode, customerID, id)
}

// BalanceTransactionGetForUpdate returns a transaction of the customer, locked, or storage.ErrNoRows.
func (e executor) BalanceTransactionGetForUpdate(ctx context.Context, scope casapay.Scope, customerID, id string) (*casapay.BalanceTransaction, error) {
	return queryOne(ctx, e, scanBalanceTransaction, findBalanceTransaction+` FOR UPDATE`, scope.AccountID, scope.Livemode, customerID, id)
}

// BalanceTransactionUpdate writes b's description and metadata.
func (e executor) BalanceTransactionUpdate(ctx context.Context, scope casapay.Scope, b *casapay.BalanceTransaction) error {
	err := e.later(ctx, "update balance transaction", `UPDATE balance_transactions SET description = $4, metadata = $5
WHERE account_id = $1 AND livemode = $2 AND id = $3`, scope.AccountID, scope.Livemode, b.ID, b.Description, metadataOrEmpty(b.Metadata))
	return err
}

// BalanceTransactionPosition returns the created time of a transaction of the customer, or storage.ErrNoRows.
func (e executor) BalanceTransactionPosition(ctx context.Context, scope casapay.Scope, customerID, id string) (int64, error) {
	return scalar[int64](ctx, e, `SELECT created FROM balance_transactions
WHERE account_id = $1 AND livemode = $2 AND customer_id = $3 AND id = $4`, scope.AccountID, scope.Livemode, customerID, id)
}

var listBalanceTransactionsOlder, listBalanceTransactionsNewer = pageQueries(
	`SELECT `+balanceTransactionColumns+` FROM balance_transactions WHERE account_id = $1 AND livemode = $2 AND customer_id = $5`, 6)

// BalanceTransactionPage reads a page of the customer's transactions, in reading order.
func (e executor) BalanceTransactionPage(ctx context.Context, scope casapay.Scope, customerID string, from *storage.Keyset, fetch int) ([]*casapay.BalanceTransaction, error) {
	query, cursorCreated, cursorID := pageFrom(listBalanceTransactionsOlder, listBalanceTransactionsNewer, from)
	return queryAll(ctx, e, scanBalanceTransaction, query, pgx.QueryExecModeExec, scope.AccountID, scope.Livemode,
		cursorCreated, cursorID, customerID, fetch)
}
