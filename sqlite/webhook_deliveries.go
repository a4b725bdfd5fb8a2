package sqlite

import (
	"context"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

const insertWebhookDeliverySQL = `INSERT INTO webhook_deliveries
	(id, account_id, livemode, event_id, endpoint_id, status, next_attempt, created)
VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`

// WebhookDeliveryInsert inserts a pending delivery, due at once.
func (e *executor) WebhookDeliveryInsert(ctx context.Context, scope casapay.Scope, d *storage.PendingDelivery) error {
	_, err := e.exec(ctx, insertWebhookDeliverySQL, d.ID, scope.AccountID, scope.Livemode, d.EventID, d.EndpointID,
		d.Created.UnixMilli(), d.Created.Unix())
	return err
}

// dueDeliveries is the FROM and WHERE of the deliveries a deliverer may take at ?1: pending, due, not
// leased, to an enabled endpoint. It walks webhook_deliveries_due.
const dueDeliveries = `webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
WHERE d.status = 'pending' AND d.next_attempt <= ?1 AND (d.lease_until IS NULL OR d.lease_until <= ?1)
	AND w.status = 'enabled'`

const deliveriesDueSQL = `SELECT EXISTS (SELECT 1 FROM ` + dueDeliveries + `)`

// WebhookDeliveriesDue reports whether a delivery is due at now.
func (e *executor) WebhookDeliveriesDue(ctx context.Context, now int64) (bool, error) {
	var due bool
	if err := e.queryRow(ctx, deliveriesDueSQL, now).Scan(&due); err != nil {
		return false, interpret(err)
	}
	return due, nil
}

// claimDeliveriesSQL leases due deliveries, oldest due first. busy counts each endpoint's leased
// deliveries (few: they walk webhook_deliveries_lease, which INDEXED BY names, since the planner would
// rather walk webhook_deliveries_endpoint, every pending delivery, for the GROUP BY's order). oldest is
// at most ?7 of the oldest due deliveries, whatever their endpoint, so that a busy endpoint's backlog
// bounds what a claim reads; candidates are those of endpoints below their bound, at most ?6; and load
// is how many of its endpoint's deliveries would be leased with each candidate.
const claimDeliveriesSQL = `WITH
busy AS (
	SELECT endpoint_id, count(*) AS n FROM webhook_deliveries INDEXED BY webhook_deliveries_lease
	WHERE lease_token IS NOT NULL AND lease_until > ?1 AND status = 'pending' GROUP BY endpoint_id),
oldest AS (
	SELECT d.id, d.endpoint_id, d.next_attempt FROM ` + dueDeliveries + `
	ORDER BY d.next_attempt, d.id LIMIT ?7),
candidates AS (
	SELECT id, endpoint_id, next_attempt FROM oldest
	WHERE endpoint_id NOT IN (SELECT endpoint_id FROM busy WHERE n >= ?4)
	ORDER BY next_attempt, id LIMIT ?6),
ranked AS (
	SELECT c.id, c.next_attempt,
		row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt, c.id) + coalesce(b.n, 0) AS load
	FROM candidates c LEFT JOIN busy b ON b.endpoint_id = c.endpoint_id)
UPDATE webhook_deliveries SET lease_until = ?2, lease_token = ?3
WHERE id IN (SELECT id FROM ranked WHERE load <= ?4 ORDER BY next_attempt, id LIMIT ?5)
AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?1)`

// postponeDeliveriesSQL postpones the due, unleased deliveries of stuck endpoints (at their bound ?2,
// their oldest lease ending by ?6) by their age (created is in seconds), at least ?3 and at most ?5
// milliseconds. It finds the endpoints through webhook_deliveries_lease, as claimDeliveriesSQL does,
// and their deliveries through webhook_deliveries_endpoint.
const postponeDeliveriesSQL = `UPDATE webhook_deliveries SET next_attempt = ?1 + min(max(?1 - created * 1000, ?3), ?5)
WHERE id IN (
	SELECT id FROM webhook_deliveries
	WHERE status = 'pending' AND lease_token IS NULL AND next_attempt <= ?1 AND endpoint_id IN (
		SELECT endpoint_id FROM webhook_deliveries INDEXED BY webhook_deliveries_lease
		WHERE lease_token IS NOT NULL AND lease_until > ?1 AND status = 'pending'
		GROUP BY endpoint_id HAVING count(*) >= ?2 AND min(lease_until) <= ?6)
	LIMIT ?4)`

// WebhookDeliveriesClaim postpones the due deliveries of stuck endpoints, and leases due deliveries
// to c.Token. The write transaction holds the database, so no other claim runs meanwhile.
func (e *executor) WebhookDeliveriesClaim(ctx context.Context, c storage.Claim) error {
	if _, err := e.exec(ctx, postponeDeliveriesSQL, c.Now, c.PerEndpoint, c.PostponeMin, storage.PostponeChunk,
		c.PostponeMax, c.StuckLeaseUntil); err != nil {
		return err
	}
	_, err := e.exec(ctx, claimDeliveriesSQL, c.Now, c.LeaseUntil, c.Token, c.PerEndpoint, c.Limit,
		storage.Candidates(c.Limit), storage.ClaimCandidates)
	return err
}

var leasedDeliveriesSQL = `SELECT d.id, d.account_id, d.livemode, d.event_id, d.endpoint_id, w.url, w.secret, d.attempts,
	d.lease_token, d.created, ` + leasedEventColumns + `
FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN events ev ON ev.id = d.event_id
WHERE d.lease_token = ?`

var leasedEventColumns = storage.Qualify(eventColumns, "ev")

// WebhookDeliveriesLeased returns the deliveries leased to token, with their events.
func (e *executor) WebhookDeliveriesLeased(ctx context.Context, token string) ([]storage.LeasedDelivery, error) {
	return queryAll(ctx, e, func(row scanner) (storage.LeasedDelivery, error) {
		var d casapay.WebhookDelivery
		var created int64
		ev, err := scanEvent(prefixed{row, []any{&d.ID, &d.Scope.AccountID, &d.Scope.Livemode, &d.EventID, &d.EndpointID,
			&d.URL, &d.Secret, &d.Attempts, &d.Lease, &created}})
		d.Created = time.Unix(created, 0)
		return storage.LeasedDelivery{Delivery: &d, Event: ev}, err
	}, leasedDeliveriesSQL, token)
}

// prefixed is a row whose first columns go to head, and the rest to whatever Scan is given.
type prefixed struct {
	scanner
	head []any
}

func (p prefixed) Scan(dest ...any) error { return p.scanner.Scan(append(p.head, dest...)...) }

const finishDeliverySQL = `UPDATE webhook_deliveries
SET status = ?3, next_attempt = ?4, attempts = attempts + 1, lease_until = NULL, lease_token = NULL
WHERE id = ?1 AND lease_token = ?2 AND status = 'pending'`

// WebhookDeliveryFinish ends an attempt of a delivery leased to token.
func (e *executor) WebhookDeliveryFinish(ctx context.Context, id, token, status string, nextAttempt int64) (bool, error) {
	n, err := e.execCount(ctx, finishDeliverySQL, id, token, status, nextAttempt)
	return n == 1, err
}

const deliveryCurrentSQL = `SELECT EXISTS (SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
WHERE d.id = ? AND d.lease_token = ? AND d.status = 'pending' AND w.status = 'enabled' AND w.url = ?)`

// WebhookDeliveryCurrent reports whether a delivery is pending under token, to an enabled endpoint at url.
func (e *executor) WebhookDeliveryCurrent(ctx context.Context, id, token, url string) (bool, error) {
	var ok bool
	if err := e.queryRow(ctx, deliveryCurrentSQL, id, token, url).Scan(&ok); err != nil {
		return false, interpret(err)
	}
	return ok, nil
}

const insertWebhookAttemptSQL = `INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ms)
VALUES (?, ?, ?, ?, ?)`

// WebhookAttemptInsert records an attempt.
func (e *executor) WebhookAttemptInsert(ctx context.Context, deliveryID string, a *casapay.WebhookAttempt) error {
	var code, msg any
	if a.StatusCode != 0 {
		code = a.StatusCode
	}
	if a.Error != "" {
		msg = a.Error
	}
	_, err := e.exec(ctx, insertWebhookAttemptSQL, deliveryID, a.At.UnixMilli(), code, msg, a.Duration.Milliseconds())
	return err
}

const (
	uncountCancelledSQL = `UPDATE events SET pending_webhooks = pending_webhooks - 1
WHERE account_id = ? AND livemode = ? AND pending_webhooks > 0 AND id IN (
	SELECT event_id FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending')`
	cancelDeliveriesSQL = `UPDATE webhook_deliveries SET status = 'cancelled', lease_until = NULL, lease_token = NULL
WHERE endpoint_id = ? AND status = 'pending'`
)

// WebhookDeliveriesCancel cancels an endpoint's pending deliveries.
func (e *executor) WebhookDeliveriesCancel(ctx context.Context, scope casapay.Scope, endpointID string) error {
	if _, err := e.exec(ctx, uncountCancelledSQL, scope.AccountID, scope.Livemode, endpointID); err != nil {
		return err
	}
	_, err := e.exec(ctx, cancelDeliveriesSQL, endpointID)
	return err
}

const eventDeliveredSQL = `UPDATE events SET pending_webhooks = pending_webhooks - 1
WHERE id = ? AND account_id = ? AND livemode = ? AND pending_webhooks > 0`

// EventDelivered takes one delivery off an event's pending_webhooks.
func (e *executor) EventDelivered(ctx context.Context, scope casapay.Scope, eventID string) error {
	_, err := e.exec(ctx, eventDeliveredSQL, eventID, scope.AccountID, scope.Livemode)
	return err
}

// The oldest deliveries, in a fixed order, so both statements of a chunk take the same ones.
const (
	pruneWebhookAttemptsSQL = `DELETE FROM webhook_attempts WHERE delivery_id IN (
	SELECT id FROM webhook_deliveries WHERE created < ? ORDER BY created, id LIMIT ?)`
	pruneWebhookDeliveriesSQL = `DELETE FROM webhook_deliveries WHERE id IN (
	SELECT id FROM webhook_deliveries WHERE created < ? ORDER BY created, id LIMIT ?)`
)

// WebhookDeliveryPrune deletes at most limit deliveries created before cutoff, with their attempts.
func (e *executor) WebhookDeliveryPrune(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	if _, err := e.exec(ctx, pruneWebhookAttemptsSQL, cutoff.Unix(), limit); err != nil {
		return 0, err
	}
	return e.execCount(ctx, pruneWebhookDeliveriesSQL, cutoff.Unix(), limit)
}
