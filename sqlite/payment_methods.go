package sqlite

import (
	"context"
	"fmt"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// paymentMethodColumns are the columns scanPaymentMethod reads, in its order.
const paymentMethodColumns = `id, livemode, type, details, billing_details, customer, detached, decline, metadata, created`

const insertPaymentMethodSQL = `INSERT INTO payment_methods
	(id, account_id, livemode, type, details, billing_details, customer, detached, decline, metadata, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// PaymentMethodInsert inserts pm in scope.
func (e *executor) PaymentMethodInsert(ctx context.Context, scope casapay.Scope, pm *casapay.PaymentMethod) error {
	row, err := storage.EncodePaymentMethod(pm)
	if err != nil {
		return err
	}
	_, err = e.exec(ctx, insertPaymentMethodSQL, pm.ID, scope.AccountID, scope.Livemode, pm.Type, row.Details,
		row.BillingDetails, pm.Customer, pm.Detached, nullable(pm.Decline), row.Metadata, pm.Created)
	return err
}

const findPaymentMethodSQL = `SELECT ` + paymentMethodColumns + ` FROM payment_methods
WHERE id = ? AND account_id = ? AND livemode = ?`

// PaymentMethodGet returns a payment method of scope, or storage.ErrNoRows.
func (e *executor) PaymentMethodGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.PaymentMethod, error) {
	return scanPaymentMethod(e.queryRow(ctx, findPaymentMethodSQL, id, scope.AccountID, scope.Livemode))
}

// PaymentMethodGetForUpdate is PaymentMethodGet: the write transaction holds the database (see
// CustomerGetForUpdate).
func (e *executor) PaymentMethodGetForUpdate(ctx context.Context, scope casapay.Scope, id string) (*casapay.PaymentMethod, error) {
	return e.PaymentMethodGet(ctx, scope, id)
}

const updatePaymentMethodSQL = `UPDATE payment_methods
SET details = ?, billing_details = ?, customer = ?, detached = ?, metadata = ?
WHERE id = ? AND account_id = ? AND livemode = ?`

// PaymentMethodUpdate writes pm's changeable fields.
func (e *executor) PaymentMethodUpdate(ctx context.Context, scope casapay.Scope, pm *casapay.PaymentMethod) error {
	row, err := storage.EncodePaymentMethod(pm)
	if err != nil {
		return err
	}
	_, err = e.exec(ctx, updatePaymentMethodSQL, row.Details, row.BillingDetails, pm.Customer, pm.Detached, row.Metadata,
		pm.ID, scope.AccountID, scope.Livemode)
	return err
}

const attachedPaymentMethodsSQL = `SELECT ` + paymentMethodColumns + ` FROM payment_methods
WHERE account_id = ? AND livemode = ? AND customer = ? ORDER BY created, id`

// PaymentMethodsAttached returns the customer's payment methods, oldest first.
func (e *executor) PaymentMethodsAttached(ctx context.Context, scope casapay.Scope, customerID string) ([]*casapay.PaymentMethod, error) {
	return queryAll(ctx, e, scanPaymentMethod, attachedPaymentMethodsSQL, scope.AccountID, scope.Livemode, customerID)
}

const detachPaymentMethodsSQL = `UPDATE payment_methods SET customer = NULL, detached = 1
WHERE account_id = ? AND livemode = ? AND customer = ?`

// PaymentMethodsDetach detaches every payment method of the customer.
func (e *executor) PaymentMethodsDetach(ctx context.Context, scope casapay.Scope, customerID string) error {
	_, err := e.exec(ctx, detachPaymentMethodsSQL, scope.AccountID, scope.Livemode, customerID)
	return err
}

const countPaymentMethodsSQL = `SELECT count(*) FROM payment_methods WHERE account_id = ? AND livemode = ? AND customer = ?`

// PaymentMethodCount returns how many payment methods the customer has.
func (e *executor) PaymentMethodCount(ctx context.Context, scope casapay.Scope, customerID string) (int, error) {
	var n int
	if err := e.queryRow(ctx, countPaymentMethodsSQL, scope.AccountID, scope.Livemode, customerID).Scan(&n); err != nil {
		return 0, interpret(err)
	}
	return n, nil
}

const paymentMethodPositionSQL = `SELECT created FROM payment_methods WHERE id = ? AND account_id = ? AND livemode = ?`

// PaymentMethodPosition returns the created time of a payment method of scope, or storage.ErrNoRows.
func (e *executor) PaymentMethodPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error) {
	return e.position(ctx, paymentMethodPositionSQL, scope, id)
}

// paymentMethodsPage is the FROM and WHERE of a payment method page, and its filters: each walks its
// index (see the migration), the customer filter customers' even with a type.
const (
	paymentMethodsPage       = `payment_methods WHERE account_id = ? AND livemode = ?`
	paymentMethodsOfCustomer = ` AND customer = ?`
	paymentMethodsOfType     = ` AND type = ?`
)

// paymentMethodFilters are the filter pieces a page may have.
var paymentMethodFilters = []string{``, paymentMethodsOfCustomer, paymentMethodsOfType, paymentMethodsOfCustomer + paymentMethodsOfType}

// PaymentMethodPage reads a page of payment methods (see pageSQL).
func (e *executor) PaymentMethodPage(ctx context.Context, scope casapay.Scope, f casapay.PaymentMethodFilter, from *storage.Keyset, fetch int) ([]*casapay.PaymentMethod, error) {
	filter, args := ``, []any{scope.AccountID, scope.Livemode}
	if f.Customer != nil {
		filter += paymentMethodsOfCustomer
		args = append(args, *f.Customer)
	}
	if f.Type != nil {
		filter += paymentMethodsOfType
		args = append(args, *f.Type)
	}
	shape := shapeOf(casapay.TimeRange{}, from)
	return queryAll(ctx, e, scanPaymentMethod, pageSQL(paymentMethodsPage, paymentMethodColumns, filter, shape),
		pageArgs(args, casapay.TimeRange{}, from, fetch)...)
}

// scanPaymentMethod reads paymentMethodColumns.
func scanPaymentMethod(row scanner) (*casapay.PaymentMethod, error) {
	var (
		pm      casapay.PaymentMethod
		r       storage.PaymentMethodRow
		decline *string
	)
	err := row.Scan(&pm.ID, &pm.Livemode, &pm.Type, &r.Details, &r.BillingDetails, &pm.Customer, &pm.Detached, &decline,
		&r.Metadata, &pm.Created)
	if err != nil {
		return nil, interpret(err)
	}
	if decline != nil {
		pm.Decline = *decline
	}
	if err := r.Decode(&pm); err != nil {
		return nil, fmt.Errorf("payment method %s: %w", pm.ID, err)
	}
	return &pm, nil
}

// nullable returns nil for "", so an empty string is stored as NULL.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
