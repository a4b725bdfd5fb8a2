package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

const insertWebhookDelivery = `
INSERT INTO webhook_deliveries (id, account_id, livemode, event_id, endpoint_id, status, next_attempt, created)
VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)`

// WebhookDeliveryInsert inserts a pending delivery, due at once.
func (e executor) WebhookDeliveryInsert(ctx context.Context, scope casapay.Scope, d *storage.PendingDelivery) error {
	err := e.later(ctx, "queue webhook delivery", insertWebhookDelivery, d.ID, scope.AccountID, scope.Livemode, d.EventID, d.EndpointID,
		d.Created.UnixMilli(), d.Created.Unix())
	return err
}

// dueDeliveries is the FROM and WHERE of the deliveries a deliverer may take at $1: pending, due, not
// leased, to an enabled endpoint. It walks webhook_deliveries_due_idx.
const dueDeliveries = `webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
WHERE d.status = 'pending' AND d.next_attempt <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
	AND w.status = 'enabled'`

// WebhookDeliveriesDue reports whether a delivery is due at now.
func (e executor) WebhookDeliveriesDue(ctx context.Context, now int64) (bool, error) {
	return scalar[bool](ctx, e, `SELECT EXISTS (SELECT 1 FROM `+dueDeliveries+`)`, now)
}

// claimDeliveries leases due deliveries, oldest due first, as the SQLite store's claimDeliveriesSQL
// does. Processes that claim at once do not take a delivery twice: when two UPDATEs reach one row, the
// second waits for the first to commit and then evaluates the row's own conditions again on the version
// the first wrote (READ COMMITTED's recheck), where the lease is taken, so it leaves the row alone.
const claimDeliveries = `WITH
busy AS (
	SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
	WHERE lease_token IS NOT NULL AND lease_until > $1 AND status = 'pending' GROUP BY endpoint_id),
oldest AS (
	SELECT d.id, d.endpoint_id, d.next_attempt FROM ` + dueDeliveries + `
	ORDER BY d.next_attempt, d.id LIMIT $7),
candidates AS (
	SELECT id, endpoint_id, next_attempt FROM oldest
	WHERE endpoint_id NOT IN (SELECT endpoint_id FROM busy WHERE n >= $4)
	ORDER BY next_attempt, id LIMIT $6),
ranked AS (
	SELECT c.id, c.next_attempt,
		row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt, c.id) + coalesce(b.n, 0) AS load
	FROM candidates c LEFT JOIN busy b ON b.endpoint_id = c.endpoint_id)
UPDATE webhook_deliveries SET lease_until = $2, lease_token = $3
WHERE id IN (SELECT id FROM ranked WHERE load <= $4 ORDER BY next_attempt, id LIMIT $5)
AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $1)`

// postponeDeliveries postpones the due, unleased deliveries of stuck endpoints (at their bound $2,
// their oldest lease ending by $6) by their age (created is in seconds), at least $3 and at most $5
// milliseconds, as the SQLite store's postponeDeliveriesSQL does. SKIP LOCKED passes over rows another
// claim is changing.
const postponeDeliveries = `UPDATE webhook_deliveries SET next_attempt = $1 + least(greatest($1 - created * 1000, $3), $5)
WHERE id IN (
	SELECT id FROM webhook_deliveries
	WHERE status = 'pending' AND lease_token IS NULL AND next_attempt <= $1 AND endpoint_id IN (
		SELECT endpoint_id FROM webhook_deliveries
		WHERE lease_token IS NOT NULL AND lease_until > $1 AND status = 'pending'
		GROUP BY endpoint_id HAVING count(*) >= $2 AND min(lease_until) <= $6)
	LIMIT $4 FOR UPDATE SKIP LOCKED)`

// WebhookDeliveriesClaim postpones the due deliveries of stuck endpoints, and leases due deliveries
// to c.Token.
func (e executor) WebhookDeliveriesClaim(ctx context.Context, c storage.Claim) error {
	if _, err := e.exec(ctx, postponeDeliveries, c.Now, c.PerEndpoint, c.PostponeMin, storage.PostponeChunk,
		c.PostponeMax, c.StuckLeaseUntil); err != nil {
		return err
	}
	_, err := e.exec(ctx, claimDeliveries, c.Now, c.LeaseUntil, c.Token, c.PerEndpoint, c.Limit,
		storage.Candidates(c.Limit), storage.ClaimCandidates)
	return err
}

var leasedDeliveries = `SELECT d.id, d.account_id, d.livemode, d.event_id, d.endpoint_id, w.url, w.secret, d.attempts,
	d.lease_token, d.created, ` + storage.Qualify(eventColumns, "ev") + `
FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id JOIN events ev ON ev.id = d.event_id
WHERE d.lease_token = $1`

// WebhookDeliveriesLeased returns the deliveries leased to token, with their events.
func (e executor) WebhookDeliveriesLeased(ctx context.Context, token string) ([]storage.LeasedDelivery, error) {
	return queryAll(ctx, e, func(row pgx.CollectableRow) (storage.LeasedDelivery, error) {
		var d casapay.WebhookDelivery
		var created int64
		ev, err := scanEvent(prefixed{row, []any{&d.ID, &d.Scope.AccountID, &d.Scope.Livemode, &d.EventID, &d.EndpointID,
			&d.URL, &d.Secret, &d.Attempts, &d.Lease, &created}})
		d.Created = time.Unix(created, 0)
		return storage.LeasedDelivery{Delivery: &d, Event: ev}, err
	}, leasedDeliveries, token)
}

// prefixed is a row whose first columns go to head, and the rest to whatever Scan is given.
type prefixed struct {
	pgx.CollectableRow
	head []any
}

func (p prefixed) Scan(dest ...any) error { return p.CollectableRow.Scan(append(p.head, dest...)...) }

const finishDelivery = `UPDATE webhook_deliveries
SET status = $3, next_attempt = $4, attempts = attempts + 1, lease_until = NULL, lease_token = NULL
WHERE id = $1 AND lease_token = $2 AND status = 'pending'`

// WebhookDeliveryFinish ends an attempt of a delivery leased to token.
func (e executor) WebhookDeliveryFinish(ctx context.Context, id, token, status string, nextAttempt int64) (bool, error) {
	n, err := e.exec(ctx, finishDelivery, id, token, status, nextAttempt)
	return n == 1, err
}

// WebhookDeliveryCurrent reports whether a delivery is pending under token, to an enabled endpoint at url.
func (e executor) WebhookDeliveryCurrent(ctx context.Context, id, token, url string) (bool, error) {
	return scalar[bool](ctx, e, `SELECT EXISTS (SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
WHERE d.id = $1 AND d.lease_token = $2 AND d.status = 'pending' AND w.status = 'enabled' AND w.url = $3)`, id, token, url)
}

// WebhookAttemptInsert records an attempt.
func (e executor) WebhookAttemptInsert(ctx context.Context, deliveryID string, a *casapay.WebhookAttempt) error {
	var code *int
	var msg *string
	if a.StatusCode != 0 {
		code = &a.StatusCode
	}
	if a.Error != "" {
		msg = &a.Error
	}
	err := e.later(ctx, "record webhook attempt", `INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
		deliveryID, a.At.UnixMilli(), code, msg, a.Duration.Milliseconds())
	return err
}

// WebhookDeliveriesCancel cancels an endpoint's pending deliveries, and takes each off its event's
// count, in one statement: the deliveries it cancelled are the ones it counts, and it locks deliveries
// before events, the order recording an attempt takes.
func (e executor) WebhookDeliveriesCancel(ctx context.Context, scope casapay.Scope, endpointID string) error {
	_, err := e.exec(ctx, `WITH cancelled AS (
	UPDATE webhook_deliveries SET status = 'cancelled', lease_until = NULL, lease_token = NULL
	WHERE endpoint_id = $3 AND status = 'pending' RETURNING event_id)
UPDATE events SET pending_webhooks = pending_webhooks - 1
WHERE account_id = $1 AND livemode = $2 AND pending_webhooks > 0 AND id IN (SELECT event_id FROM cancelled)`,
		scope.AccountID, scope.Livemode, endpointID)
	return err
}

// EventDelivered takes one delivery off an event's pending_webhooks.
func (e executor) EventDelivered(ctx context.Context, scope casapay.Scope, eventID string) error {
	err := e.later(ctx, "count a delivered webhook", `UPDATE events SET pending_webhooks = pending_webhooks - 1
WHERE account_id = $1 AND livemode = $2 AND id = $3 AND pending_webhooks > 0`, scope.AccountID, scope.Livemode, eventID)
	return err
}

// WebhookDeliveryPrune deletes at most limit deliveries created before cutoff, with their attempts: the
// oldest, in a fixed order, so both statements take the same ones.
func (e executor) WebhookDeliveryPrune(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	const oldest = `SELECT id FROM webhook_deliveries WHERE created < $1 ORDER BY created, id LIMIT $2`
	if _, err := e.exec(ctx, `DELETE FROM webhook_attempts WHERE delivery_id IN (`+oldest+`)`, cutoff.Unix(), limit); err != nil {
		return 0, err
	}
	return e.exec(ctx, `DELETE FROM webhook_deliveries WHERE id IN (`+oldest+`)`, cutoff.Unix(), limit)
}
