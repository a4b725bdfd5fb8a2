package storage

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/casapay/casapay"
)

// WebhookDeliveryExecutor runs the statements of webhook deliveries and their attempts. Times are Unix
// milliseconds.
type WebhookDeliveryExecutor interface {
	// WebhookDeliveryInsert inserts a pending delivery of an event of scope to an endpoint, due at once.
	WebhookDeliveryInsert(ctx context.Context, scope casapay.Scope, d *PendingDelivery) error
	// WebhookDeliveriesDue reports whether any pending delivery to an enabled endpoint is due at now and
	// not leased. It must not write: it is how an idle deliverer looks for work.
	WebhookDeliveriesDue(ctx context.Context, now int64) (bool, error)
	// WebhookDeliveriesClaim leases to token, until leaseUntil, up to limit due deliveries to enabled
	// endpoints that are not leased at now, no more for an endpoint than brings its leased deliveries to
	// perEndpoint. It must lease each delivery to one transaction only, when several run at once.
	WebhookDeliveriesClaim(ctx context.Context, now, leaseUntil int64, token string, limit, perEndpoint int) error
	// WebhookDeliveriesLeased returns the deliveries leased to token, with their endpoints' URL and
	// secret; Body is left empty.
	WebhookDeliveriesLeased(ctx context.Context, token string) ([]*casapay.WebhookDelivery, error)
	// WebhookDeliveryFinish records the end of an attempt of a delivery leased to token: it counts the
	// attempt, drops the lease and sets status ("pending" again with nextAttempt, "delivered" or "failed").
	// It reports false, changing nothing, when the delivery is no longer leased to token.
	WebhookDeliveryFinish(ctx context.Context, id, token, status string, nextAttempt int64) (bool, error)
	// WebhookAttemptInsert records one attempt of a delivery.
	WebhookAttemptInsert(ctx context.Context, deliveryID string, a *casapay.WebhookAttempt) error
	// WebhookDeliveriesCancel cancels an endpoint's pending deliveries, and takes each off its event's
	// pending_webhooks.
	WebhookDeliveriesCancel(ctx context.Context, scope casapay.Scope, endpointID string) error
	// EventDelivered takes one delivery off an event's pending_webhooks.
	EventDelivered(ctx context.Context, scope casapay.Scope, eventID string) error
	// WebhookDeliveryPrune deletes at most limit deliveries created before cutoff, with their attempts.
	WebhookDeliveryPrune(ctx context.Context, cutoff time.Time, limit int) (int64, error)
}

// PendingDelivery is a delivery as an event's write inserts it.
type PendingDelivery struct {
	ID, EventID, EndpointID string
	Created                 time.Time
}

var _ casapay.WebhookDeliveryStore = (*Store)(nil)

// queueDeliveries counts e's deliveries, one per enabled endpoint of scope that subscribes to its type,
// in e.PendingWebhooks, for the caller to insert e, and returns the function that inserts them after it.
func queueDeliveries(ctx context.Context, ex Executor, scope casapay.Scope, e *casapay.Event) (func() error, error) {
	endpoints, err := ex.WebhookEndpointsEnabled(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("find webhook endpoints: %w", err)
	}
	var to []*casapay.WebhookEndpoint
	for _, w := range endpoints {
		if w.Subscribes(e.Type) {
			to = append(to, w)
		}
	}
	e.PendingWebhooks = int64(len(to))
	return func() error {
		for _, w := range to {
			d := &PendingDelivery{ID: casapay.NewID("whd"), EventID: e.ID, EndpointID: w.ID, Created: time.Unix(e.Created, 0)}
			if err := ex.WebhookDeliveryInsert(ctx, scope, d); err != nil {
				return fmt.Errorf("queue delivery of %s to %s: %w", e.ID, w.ID, err)
			}
		}
		return nil
	}, nil
}

// ClaimWebhookDeliveries leases due deliveries (see casapay.WebhookDeliveryStore). An idle call reads
// only: it writes when something is due.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit, perEndpoint int) ([]*casapay.WebhookDelivery, error) {
	due, err := s.d.Executor().WebhookDeliveriesDue(ctx, now.UnixMilli())
	if err != nil || !due || limit < 1 {
		return nil, err
	}
	token := rand.Text()
	var claimed []*casapay.WebhookDelivery
	err = s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
		if err := ex.WebhookDeliveriesClaim(ctx, now.UnixMilli(), now.Add(lease).UnixMilli(), token, limit, perEndpoint); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		var err error
		if claimed, err = ex.WebhookDeliveriesLeased(ctx, token); err != nil {
			return fmt.Errorf("read claimed: %w", err)
		}
		for _, d := range claimed {
			e, err := ex.EventGet(ctx, d.Scope, d.EventID)
			if err != nil {
				return fmt.Errorf("read event %s of %s: %w", d.EventID, d.ID, err)
			}
			if d.Body, err = json.Marshal(e); err != nil {
				return fmt.Errorf("encode event %s: %w", e.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return claimed, nil
}

// RecordWebhookAttempt records an attempt and what it did to its delivery, in one transaction.
func (s *Store) RecordWebhookAttempt(ctx context.Context, d *casapay.WebhookDelivery, a *casapay.WebhookAttempt, retry time.Time) error {
	err := s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
		if err := ex.WebhookAttemptInsert(ctx, d.ID, a); err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		status, next := "pending", retry.UnixMilli()
		switch {
		case a.Delivered():
			status, next = "delivered", 0
		case retry.IsZero():
			status, next = "failed", 0
		}
		held, err := ex.WebhookDeliveryFinish(ctx, d.ID, d.Lease, status, next)
		if err != nil || !held || status != "delivered" {
			return err
		}
		return ex.EventDelivered(ctx, d.Scope, d.EventID)
	})
	if err != nil {
		return fmt.Errorf("record attempt of %s: %w", d.ID, err)
	}
	return nil
}

// PruneWebhookDeliveries deletes deliveries created before cutoff, and their attempts, in chunks.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.prune(ctx, "webhook deliveries", func(ctx context.Context, ex Executor) (int64, error) {
		return ex.WebhookDeliveryPrune(ctx, cutoff, pruneChunk)
	})
}
