package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

var (
	_ casapay.Store    = (*Store)(nil)
	_ storage.Driver   = (*Store)(nil)
	_ storage.Executor = (*executor)(nil)
)

// InTx runs fn as one request of a batch on the writer (see Store.write): in its own SAVEPOINT of the
// batch's transaction, committed with the batch's one sync. fn's error rolls back fn's writes alone.
// fn's context carries ctx's values but not its cancellation, for the reason write gives.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, ex storage.Executor) error) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return fn(ctx, &executor{tx: tx, stmts: &s.writes})
	})
}

// InReadTx runs fn in a read transaction on the reader pool, so every statement in fn sees one snapshot.
// It never waits for the writer.
func (s *Store) InReadTx(ctx context.Context, fn func(ctx context.Context, ex storage.Executor) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", interpret(err))
	}
	defer tx.Rollback() // a read transaction has nothing to commit
	return fn(ctx, &executor{tx: tx, stmts: &s.reads})
}

// Executor returns the executor on the reader pool: each statement runs on a free reader connection.
func (s *Store) Executor() storage.Executor { return s.pool }

// executor runs this package's statements: in tx when it is set (a write request's or a read
// transaction), otherwise one at a time on the reader pool. Every statement it runs is in statements,
// prepared by Open.
type executor struct {
	tx    *sql.Tx
	stmts *stmtCache
}

// stmt returns the prepared statement for query, as tx's handle on it when in a transaction.
func (e *executor) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, ok := e.stmts.lookup(query)
	if !ok {
		return nil, fmt.Errorf("statement not prepared by Open (add it to statements): %.60s", query)
	}
	if e.tx != nil {
		return e.tx.StmtContext(ctx, st), nil
	}
	return st, nil
}

func (e *executor) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := e.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return nil, interpret(err)
	}
	return res, nil
}

// execCount runs query and returns how many rows it changed.
func (e *executor) execCount(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := e.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, interpret(err)
	}
	return n, nil
}

func (e *executor) queryRow(ctx context.Context, query string, args ...any) scanner {
	st, err := e.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// queryAll runs query and reads every row with scan.
func queryAll[T any](ctx context.Context, e *executor, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	st, err := e.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, interpret(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, interpret(err)
	}
	return out, nil
}

// position runs a query for the created time of the row (id, scope, then more), a list cursor's position.
func (e *executor) position(ctx context.Context, query string, scope casapay.Scope, id string, more ...any) (int64, error) {
	var created int64
	if err := e.queryRow(ctx, query, append([]any{id, scope.AccountID, scope.Livemode}, more...)...).Scan(&created); err != nil {
		return 0, interpret(err)
	}
	return created, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// errRow is a row that fails to scan with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// statements returns every statement the store runs, for Open to prepare on both pools. A statement
// missing here fails every request that runs it, loudly.
func statements() []string {
	list := []string{
		savepointSQL, releaseSavepointSQL, rollbackSavepointSQL,
		insertAccountSQL, anyAccountSQL, accountExistsSQL, insertAPIKeySQL, listAPIKeysSQL, revokeAPIKeySQL, findAPIKeySQL,
		insertCustomerSQL, insertCustomersSQL(importChunk), findCustomerSQL, updateCustomerSQL, customerPositionSQL,
		insertEventSQL, findEventSQL, eventPositionSQL, pruneEventsSQL, fingerprintKeySQL, setRateLimitsSQL, getRateLimitsSQL,
		insertPaymentMethodSQL, findPaymentMethodSQL, updatePaymentMethodSQL, attachedPaymentMethodsSQL,
		detachPaymentMethodsSQL, countPaymentMethodsSQL, paymentMethodPositionSQL,
		insertBalanceTransactionSQL, findBalanceTransactionSQL, updateBalanceTransactionSQL, balanceTransactionPositionSQL,
		insertWebhookEndpointSQL, findWebhookEndpointSQL, updateWebhookEndpointSQL, deleteWebhookEndpointSQL,
		countWebhookEndpointsSQL, enabledWebhookEndpointsSQL, webhookEndpointPositionSQL,
		insertWebhookDeliverySQL, deliveriesDueSQL, postponeDeliveriesSQL, claimDeliveriesSQL, leasedDeliveriesSQL, finishDeliverySQL,
		insertWebhookAttemptSQL, deliveryCurrentSQL, uncountCancelledSQL, cancelDeliveriesSQL, eventDeliveredSQL,
		pruneWebhookAttemptsSQL, pruneWebhookDeliveriesSQL,
		findResponseSQL, storeResponseSQL, pruneIdempotencyKeysSQL,
	}
	for _, shape := range pageShapes() {
		for _, filter := range []string{``, customersByEmail} {
			list = append(list, pageSQL(customersPage, customerColumns, filter, shape))
		}
		for _, filter := range []string{``, eventsOfType, eventsOfTypes} {
			list = append(list, pageSQL(eventsPage, eventColumns, filter, shape),
				pageSQL(eventsPage, eventColumns, filter+eventsDelivered, shape))
		}
		if !shape.gte && !shape.lte { // payment method and webhook endpoint lists have no created filter
			for _, filter := range paymentMethodFilters {
				list = append(list, pageSQL(paymentMethodsPage, paymentMethodColumns, filter, shape))
			}
			list = append(list, pageSQL(webhookEndpointsPage, webhookEndpointColumns, ``, shape),
				pageSQL(balanceTransactionsPage, balanceTransactionColumns, ``, shape))
		}
	}
	return list
}

// pageShape is which optional pieces a page query has: bounds on created, and a keyset.
type pageShape struct {
	gte, lte bool
	keyset   int // 0: none, 1: older than the cursor, 2: newer
}

// pageShapes returns every pageShape.
func pageShapes() []pageShape {
	var shapes []pageShape
	for _, gte := range []bool{false, true} {
		for _, lte := range []bool{false, true} {
			for keyset := range 3 {
				shapes = append(shapes, pageShape{gte, lte, keyset})
			}
		}
	}
	return shapes
}

// shapeOf returns the shape of a page with these bounds and this keyset.
func shapeOf(created casapay.TimeRange, from *storage.Keyset) pageShape {
	shape := pageShape{gte: created.Gte != nil, lte: created.Lte != nil}
	switch {
	case from == nil:
	case from.Newer:
		shape.keyset = 2
	default:
		shape.keyset = 1
	}
	return shape
}

// pageSQL returns a page query: columns of the rows the list's WHERE (from, which ends in a condition)
// selects, with the filter piece (which binds its own values), the shape's bounds on created and its
// keyset. Every table that lists has created and id, and an index that walks (created DESC, id DESC)
// after the scope and the filter's equality: the query reads from the keyset's position along it, and
// SQLite turns the row-value comparison into a range on the index, so a page costs the same wherever
// it starts. Pages before the cursor (ending_before) are read in ascending order, the fetch nearest the
// cursor, and turned around by the caller.
func pageSQL(from, columns, filter string, shape pageShape) string {
	var q strings.Builder
	q.WriteString(`SELECT ` + columns + ` FROM ` + from + filter)
	if shape.gte {
		q.WriteString(` AND created >= ?`)
	}
	if shape.lte {
		q.WriteString(` AND created <= ?`)
	}
	switch shape.keyset {
	case 0:
		q.WriteString(` ORDER BY created DESC, id DESC`)
	case 1:
		q.WriteString(` AND (created, id) < (?, ?) ORDER BY created DESC, id DESC`)
	case 2:
		q.WriteString(` AND (created, id) > (?, ?) ORDER BY created ASC, id ASC`)
	}
	q.WriteString(` LIMIT ?`)
	return q.String()
}

// pageArgs returns the arguments of pageSQL's query after the WHERE's and the filter's own.
func pageArgs(args []any, created casapay.TimeRange, from *storage.Keyset, fetch int) []any {
	args = slices.Clip(args)
	if created.Gte != nil {
		args = append(args, *created.Gte)
	}
	if created.Lte != nil {
		args = append(args, *created.Lte)
	}
	if from != nil {
		args = append(args, from.Created, from.ID)
	}
	return append(args, fetch)
}
