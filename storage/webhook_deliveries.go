package storage

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	// WebhookDeliveriesClaim leases to c.Token, until c.LeaseUntil, up to c.Limit due deliveries to
	// enabled endpoints that are not leased at c.Now, no more for an endpoint than brings its leased
	// deliveries to c.PerEndpoint, considering at most ClaimCandidates of the oldest due. It must lease
	// each delivery to one transaction only, when several run at once. First it postpones the due
	// deliveries of stuck endpoints (see Claim), so that their backlog is not walked past by every claim.
	WebhookDeliveriesClaim(ctx context.Context, c Claim) error
	// WebhookDeliveriesLeased returns the deliveries leased to token, with their endpoints' URL and
	// secret, and their events; Body is left empty.
	WebhookDeliveriesLeased(ctx context.Context, token string) ([]LeasedDelivery, error)
	// WebhookDeliveryFinish records the end of an attempt of a delivery leased to token: it counts the
	// attempt, drops the lease and sets status ("pending" again with nextAttempt, "delivered" or "failed").
	// It reports false, changing nothing, when the delivery is no longer leased to token.
	WebhookDeliveryFinish(ctx context.Context, id, token, status string, nextAttempt int64) (bool, error)
	// WebhookDeliveryCurrent reports whether a delivery is pending under token, to an enabled endpoint
	// at url.
	WebhookDeliveryCurrent(ctx context.Context, id, token, url string) (bool, error)
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

// ClaimCandidates bounds how many of the oldest due deliveries one claim looks at: a claim's cost does
// not grow with the outbox's backlog, even when an endpoint at its bound owns all of them.
const ClaimCandidates = 1000

// Candidates is how many due deliveries of endpoints below their bound a claim of up to limit keeps to
// rank: four for each place it may fill, so that endpoints near their bound do not fill its view, and
// at most ClaimCandidates. An endpoint with a long backlog and a place or two left can still fill it;
// the claim then leases fewer than limit, and the next claim, moments later, looks again.
func Candidates(limit int) int { return min(ClaimCandidates, 4*max(limit, 1)) }

// Claim is one claim's parameters, times in Unix milliseconds.
//
// An endpoint is stuck when it has all the deliveries it may lease (PerEndpoint) and the oldest of
// those leases was taken StuckAfter ago or more (its lease_until is at most StuckLeaseUntil): its
// attempts are not finishing. A claim postpones a stuck endpoint's due deliveries by their age, at
// least PostponeMin and at most PostponeMax, so each is rewritten a few times as its age doubles, not
// at every claim. An endpoint at its bound whose leases are fresh is busy, not stuck: its deliveries
// stay due, and are leased as soon as its attempts finish.
type Claim struct {
	Now, LeaseUntil, StuckLeaseUntil int64
	PostponeMin, PostponeMax         int64
	Token                            string
	Limit, PerEndpoint               int
}

// StuckAfter is how long the oldest lease of an endpoint at its bound must have been held for the
// endpoint to count as stuck (see Claim); at most half the lease.
const StuckAfter = 5 * time.Second

// PostponeMin is the least a claim postpones a due delivery of a stuck endpoint (see Claim).
const PostponeMin = 100 * time.Millisecond

// PostponeChunk bounds how many due deliveries of endpoints at their bound one claim postpones, so a
// claim after a hung endpoint's backlog grew large holds the writer a bounded time.
const PostponeChunk = 10_000

// LeasedDelivery is a claimed delivery and the event it delivers, read together.
type LeasedDelivery struct {
	Delivery *casapay.WebhookDelivery
	Event    *casapay.Event
}

// Qualify returns a list of columns ("id, type") with each one qualified by a table's alias
// ("ev.id, ev.type"), for a join that reads a table's usual columns.
func Qualify(columns, alias string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// PendingDelivery is a delivery as an event's write inserts it.
type PendingDelivery struct {
	ID, EventID, EndpointID string
	Created                 time.Time
}

var _ casapay.WebhookDeliveryStore = (*Store)(nil)

// queueDeliveries counts e's deliveries, one per endpoint of enabled (scope's enabled endpoints) that
// subscribes to its type, in e.PendingWebhooks, for the caller to insert e, and returns the function
// that inserts them after it.
func queueDeliveries(ctx context.Context, ex Executor, scope casapay.Scope, e *casapay.Event, enabled []*casapay.WebhookEndpoint) func() error {
	var to []*casapay.WebhookEndpoint
	for _, w := range enabled {
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
	}
}

// ClaimWebhookDeliveries leases due deliveries (see casapay.WebhookDeliveryStore). An idle call reads
// only: it writes when something is due.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit, perEndpoint int) ([]*casapay.WebhookDelivery, error) {
	if limit < 1 {
		return nil, nil
	}
	due, err := s.d.Executor().WebhookDeliveriesDue(ctx, now.UnixMilli())
	if err != nil || !due {
		return nil, err
	}
	token := rand.Text()
	var claimed []*casapay.WebhookDelivery
	err = s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
		c := Claim{
			Now: now.UnixMilli(), LeaseUntil: now.Add(lease).UnixMilli(),
			StuckLeaseUntil: now.Add(lease - min(StuckAfter, lease/2)).UnixMilli(),
			PostponeMin:     PostponeMin.Milliseconds(), PostponeMax: max(lease, PostponeMin).Milliseconds(),
			Token: token, Limit: limit, PerEndpoint: perEndpoint,
		}
		if err := ex.WebhookDeliveriesClaim(ctx, c); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		leased, err := ex.WebhookDeliveriesLeased(ctx, token)
		if err != nil {
			return fmt.Errorf("read claimed: %w", err)
		}
		for _, l := range leased {
			if l.Delivery.Body, err = json.Marshal(l.Event); err != nil {
				return fmt.Errorf("encode event %s: %w", l.Event.ID, err)
			}
			claimed = append(claimed, l.Delivery)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return claimed, nil
}

// RecordWebhookAttempts records attempts and what each did to its delivery, in one transaction: a
// deliverer records what several attempts came to at once, so the outbox costs a transaction per batch,
// not per event.
//
// The outcomes are recorded in the order of their events and deliveries, so two batches that touch the
// same rows lock them in the same order and never wait for each other in a circle. A transaction the
// database aborts all the same (ErrConflict) is run again, a few times.
func (s *Store) RecordWebhookAttempts(ctx context.Context, outcomes []casapay.WebhookOutcome) error {
	sorted := slices.Clone(outcomes)
	slices.SortFunc(sorted, func(a, b casapay.WebhookOutcome) int {
		return cmp.Or(cmp.Compare(a.Delivery.EventID, b.Delivery.EventID), cmp.Compare(a.Delivery.ID, b.Delivery.ID))
	})
	var err error
	for range 3 {
		err = s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
			for _, o := range sorted {
				if err := recordOutcome(ctx, ex, o); err != nil {
					return fmt.Errorf("record attempt of %s: %w", o.Delivery.ID, err)
				}
			}
			return nil
		})
		if !errors.Is(err, ErrConflict) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("record webhook attempts: %w", err)
	}
	return nil
}

// recordOutcome records one attempt, and changes its delivery if the delivery is still leased to it.
func recordOutcome(ctx context.Context, ex Executor, o casapay.WebhookOutcome) error {
	d, a := o.Delivery, o.Attempt
	if err := ex.WebhookAttemptInsert(ctx, d.ID, a); err != nil {
		return fmt.Errorf("insert attempt: %w", err)
	}
	status, next := "pending", o.Retry.UnixMilli()
	switch {
	case a.Delivered():
		status, next = "delivered", 0
	case o.Retry.IsZero():
		status, next = "failed", 0
	}
	held, err := ex.WebhookDeliveryFinish(ctx, d.ID, d.Lease, status, next)
	if err != nil || !held || status != "delivered" {
		return err
	}
	return ex.EventDelivered(ctx, d.Scope, d.EventID)
}

// WebhookDeliveryCurrent reports whether a claimed delivery may still be attempted.
func (s *Store) WebhookDeliveryCurrent(ctx context.Context, d *casapay.WebhookDelivery) (bool, error) {
	ok, err := s.d.Executor().WebhookDeliveryCurrent(ctx, d.ID, d.Lease, d.URL)
	if err != nil {
		return false, fmt.Errorf("check delivery %s: %w", d.ID, err)
	}
	return ok, nil
}

// PruneWebhookDeliveries deletes deliveries created before cutoff, and their attempts, in chunks.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.prune(ctx, "webhook deliveries", func(ctx context.Context, ex Executor) (int64, error) {
		return ex.WebhookDeliveryPrune(ctx, cutoff, pruneChunk)
	})
}
