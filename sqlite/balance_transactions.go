package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// balanceTransactionColumns are the columns scanBalanceTransaction reads, in its order.
const balanceTransactionColumns = `id, livemode, customer_id, amount, currency, description, ending_balance, metadata, type, created`

const insertBalanceTransactionSQL = `INSERT INTO balance_transactions
	(id, account_id, livemode, customer_id, amount, currency, description, ending_balance, metadata, type, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// BalanceTransactionInsert inserts b in scope.
func (e *executor) BalanceTransactionInsert(ctx context.Context, scope casapay.Scope, b *casapay.BalanceTransaction) error {
	metadata, err := encodeMetadata(b.Metadata)
	if err != nil {
		return fmt.Errorf("balance transaction %s: %w", b.ID, err)
	}
	_, err = e.exec(ctx, insertBalanceTransactionSQL, b.ID, scope.AccountID, scope.Livemode, b.Customer, b.Amount, b.Currency,
		b.Description, b.EndingBalance, metadata, b.Type, b.Created)
	return err
}

const findBalanceTransactionSQL = `SELECT ` + balanceTransactionColumns + ` FROM balance_transactions
WHERE id = ? AND account_id = ? AND livemode = ? AND customer_id = ?`

// BalanceTransactionGet returns a transaction of the customer, or storage.ErrNoRows.
func (e *executor) BalanceTransactionGet(ctx context.Context, scope casapay.Scope, customerID, id string) (*casapay.BalanceTransaction, error) {
	return scanBalanceTransaction(e.queryRow(ctx, findBalanceTransactionSQL, id, scope.AccountID, scope.Livemode, customerID))
}

// BalanceTransactionGetForUpdate is BalanceTransactionGet: the write transaction holds the database.
func (e *executor) BalanceTransactionGetForUpdate(ctx context.Context, scope casapay.Scope, customerID, id string) (*casapay.BalanceTransaction, error) {
	return e.BalanceTransactionGet(ctx, scope, customerID, id)
}

const updateBalanceTransactionSQL = `UPDATE balance_transactions SET description = ?, metadata = ?
WHERE id = ? AND account_id = ? AND livemode = ?`

// BalanceTransactionUpdate writes b's description and metadata.
func (e *executor) BalanceTransactionUpdate(ctx context.Context, scope casapay.Scope, b *casapay.BalanceTransaction) error {
	metadata, err := encodeMetadata(b.Metadata)
	if err != nil {
		return fmt.Errorf("balance transaction %s: %w", b.ID, err)
	}
	_, err = e.exec(ctx, updateBalanceTransactionSQL, b.Description, metadata, b.ID, scope.AccountID, scope.Livemode)
	return err
}

const balanceTransactionPositionSQL = `SELECT created FROM balance_transactions
WHERE id = ? AND account_id = ? AND livemode = ? AND customer_id = ?`

// BalanceTransactionPosition returns the created time of a transaction of the customer, or storage.ErrNoRows.
func (e *executor) BalanceTransactionPosition(ctx context.Context, scope casapay.Scope, customerID, id string) (int64, error) {
	return e.position(ctx, balanceTransactionPositionSQL, scope, id, customerID)
}

const balanceTransactionsPage = `balance_transactions WHERE account_id = ? AND livemode = ? AND customer_id = ?`

// BalanceTransactionPage reads a page of the customer's transactions (see pageSQL).
func (e *executor) BalanceTransactionPage(ctx context.Context, scope casapay.Scope, customerID string, from *storage.Keyset, fetch int) ([]*casapay.BalanceTransaction, error) {
	shape := shapeOf(casapay.TimeRange{}, from)
	return queryAll(ctx, e, scanBalanceTransaction, pageSQL(balanceTransactionsPage, balanceTransactionColumns, ``, shape),
		pageArgs([]any{scope.AccountID, scope.Livemode, customerID}, casapay.TimeRange{}, from, fetch)...)
}

// encodeMetadata returns metadata as the JSON text a metadata column holds: {} when empty.
func encodeMetadata(m map[string]string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	return string(b), nil
}

// scanBalanceTransaction reads balanceTransactionColumns.
func scanBalanceTransaction(row scanner) (*casapay.BalanceTransaction, error) {
	var (
		b        casapay.BalanceTransaction
		metadata string
	)
	err := row.Scan(&b.ID, &b.Livemode, &b.Customer, &b.Amount, &b.Currency, &b.Description, &b.EndingBalance, &metadata, &b.Type, &b.Created)
	if err != nil {
		return nil, interpret(err)
	}
	if err := json.Unmarshal([]byte(metadata), &b.Metadata); err != nil {
		return nil, fmt.Errorf("decode metadata of %s: %w", b.ID, err)
	}
	return &b, nil
}
