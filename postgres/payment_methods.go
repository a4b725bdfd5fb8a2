package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

const paymentMethodColumns = `id, livemode, type, details::text, billing_details::text, customer, detached,
	coalesce(decline, ''), metadata::text, created`

// scanPaymentMethod reads a row of paymentMethodColumns.
func scanPaymentMethod(row pgx.CollectableRow) (*casapay.PaymentMethod, error) {
	var (
		pm casapay.PaymentMethod
		r  storage.PaymentMethodRow
	)
	err := row.Scan(&pm.ID, &pm.Livemode, &pm.Type, &r.Details, &r.BillingDetails, &pm.Customer, &pm.Detached,
		&pm.Decline, &r.Metadata, &pm.Created)
	if err != nil {
		return nil, err
	}
	if err := r.Decode(&pm); err != nil {
		return nil, fmt.Errorf("payment method %s: %w", pm.ID, err)
	}
	return &pm, nil
}

const insertPaymentMethod = `
INSERT INTO payment_methods (account_id, livemode, id, type, details, billing_details, customer, detached, decline,
	metadata, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''), $10, $11)`

// PaymentMethodInsert inserts pm in scope.
func (e executor) PaymentMethodInsert(ctx context.Context, scope casapay.Scope, pm *casapay.PaymentMethod) error {
	r, err := storage.EncodePaymentMethod(pm)
	if err != nil {
		return err
	}
	err = e.later(ctx, "insert payment method", insertPaymentMethod, scope.AccountID, scope.Livemode, pm.ID, pm.Type, r.Details, r.BillingDetails,
		pm.Customer, pm.Detached, pm.Decline, r.Metadata, pm.Created)
	return err
}

const findPaymentMethod = `SELECT ` + paymentMethodColumns + ` FROM payment_methods
WHERE account_id = $1 AND livemode = $2 AND id = $3`

// PaymentMethodGet returns the scope's payment method, or storage.ErrNoRows.
func (e executor) PaymentMethodGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.PaymentMethod, error) {
	return queryOne(ctx, e, scanPaymentMethod, findPaymentMethod, scope.AccountID, scope.Livemode, id)
}

// lockPaymentMethod holds a payment method until the transaction ends, as lockCustomer holds a customer.
const lockPaymentMethod = findPaymentMethod + ` FOR UPDATE`

// PaymentMethodGetForUpdate returns the scope's payment method, locked, or storage.ErrNoRows.
func (e executor) PaymentMethodGetForUpdate(ctx context.Context, scope casapay.Scope, id string) (*casapay.PaymentMethod, error) {
	return queryOne(ctx, e, scanPaymentMethod, lockPaymentMethod, scope.AccountID, scope.Livemode, id)
}

const updatePaymentMethod = `
UPDATE payment_methods SET details = $4, billing_details = $5, customer = $6, detached = $7, metadata = $8
WHERE account_id = $1 AND livemode = $2 AND id = $3`

// PaymentMethodUpdate writes pm's changeable fields.
func (e executor) PaymentMethodUpdate(ctx context.Context, scope casapay.Scope, pm *casapay.PaymentMethod) error {
	r, err := storage.EncodePaymentMethod(pm)
	if err != nil {
		return err
	}
	err = e.later(ctx, "update payment method", updatePaymentMethod, scope.AccountID, scope.Livemode, pm.ID, r.Details, r.BillingDetails,
		pm.Customer, pm.Detached, r.Metadata)
	return err
}

const attachedPaymentMethods = `SELECT ` + paymentMethodColumns + ` FROM payment_methods
WHERE account_id = $1 AND livemode = $2 AND customer = $3 ORDER BY created, id FOR UPDATE`

// PaymentMethodsAttached returns the customer's payment methods, oldest first.
func (e executor) PaymentMethodsAttached(ctx context.Context, scope casapay.Scope, customerID string) ([]*casapay.PaymentMethod, error) {
	return queryAll(ctx, e, scanPaymentMethod, attachedPaymentMethods, scope.AccountID, scope.Livemode, customerID)
}

const detachPaymentMethods = `UPDATE payment_methods SET customer = NULL, detached = true
WHERE account_id = $1 AND livemode = $2 AND customer = $3`

// PaymentMethodsDetach detaches every payment method of the customer.
func (e executor) PaymentMethodsDetach(ctx context.Context, scope casapay.Scope, customerID string) error {
	err := e.later(ctx, "detach payment methods", detachPaymentMethods, scope.AccountID, scope.Livemode, customerID)
	return err
}

const countPaymentMethods = `SELECT count(*) FROM payment_methods WHERE account_id = $1 AND livemode = $2 AND customer = $3`

// PaymentMethodCount returns how many payment methods the customer has.
func (e executor) PaymentMethodCount(ctx context.Context, scope casapay.Scope, customerID string) (int, error) {
	return scalar[int](ctx, e, countPaymentMethods, scope.AccountID, scope.Livemode, customerID)
}

const paymentMethodPosition = `SELECT created FROM payment_methods WHERE account_id = $1 AND livemode = $2 AND id = $3`

// PaymentMethodPosition returns the created time of the scope's payment method, or storage.ErrNoRows.
func (e executor) PaymentMethodPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error) {
	return scalar[int64](ctx, e, paymentMethodPosition, scope.AccountID, scope.Livemode, id)
}

// listPaymentMethodsWhere is the WHERE of a payment method page; its optional filters are planned per
// execution, as the customer list's are (see listCustomersWhere).
const listPaymentMethodsWhere = `
WHERE account_id = $1 AND livemode = $2
	AND ($5::text IS NULL OR customer = $5) AND ($6::text IS NULL OR type = $6)`

var listPaymentMethodsOlder, listPaymentMethodsNewer = pageQueries(
	`SELECT `+paymentMethodColumns+` FROM payment_methods`+listPaymentMethodsWhere, 7)

// PaymentMethodPage reads a page of the scope's payment methods, in reading order.
func (e executor) PaymentMethodPage(ctx context.Context, scope casapay.Scope, f casapay.PaymentMethodFilter, from *storage.Keyset, fetch int) ([]*casapay.PaymentMethod, error) {
	query, cursorCreated, cursorID := pageFrom(listPaymentMethodsOlder, listPaymentMethodsNewer, from)
	return queryAll(ctx, e, scanPaymentMethod, query, pgx.QueryExecModeExec, scope.AccountID, scope.Livemode,
		cursorCreated, cursorID, f.Customer, f.Type, fetch)
}
