package storage

import (
	"context"
	"fmt"

	"github.com/casapay/casapay"
)

// WebhookEndpointExecutor runs the statements of webhook endpoints.
type WebhookEndpointExecutor interface {
	// WebhookEndpointInsert inserts w in scope, its secret included.
	WebhookEndpointInsert(ctx context.Context, scope casapay.Scope, w *casapay.WebhookEndpoint) error
	// WebhookEndpointGet returns an endpoint, its secret included, or ErrNoRows.
	WebhookEndpointGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.WebhookEndpoint, error)
	// WebhookEndpointGetForUpdate is WebhookEndpointGet, and holds the row until the transaction ends.
	WebhookEndpointGetForUpdate(ctx context.Context, scope casapay.Scope, id string) (*casapay.WebhookEndpoint, error)
	// WebhookEndpointUpdate writes w's url, enabled events, description, status and metadata.
	WebhookEndpointUpdate(ctx context.Context, scope casapay.Scope, w *casapay.WebhookEndpoint) error
	// WebhookEndpointDelete deletes an endpoint.
	WebhookEndpointDelete(ctx context.Context, scope casapay.Scope, id string) error
	// WebhookEndpointsLock keeps other transactions from adding endpoints to scope until this one ends,
	// so that counting them and inserting one are one step.
	WebhookEndpointsLock(ctx context.Context, scope casapay.Scope) error
	// WebhookEndpointCount returns how many endpoints scope has.
	WebhookEndpointCount(ctx context.Context, scope casapay.Scope) (int, error)
	// WebhookEndpointsEnabled returns scope's enabled endpoints, secrets included, held until the
	// transaction ends against deletes and updates, so none can go between the read and the deliveries
	// queued for it.
	WebhookEndpointsEnabled(ctx context.Context, scope casapay.Scope) ([]*casapay.WebhookEndpoint, error)
	// WebhookEndpointPosition returns the created time of an endpoint, or ErrNoRows.
	WebhookEndpointPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error)
	// WebhookEndpointPage reads up to fetch endpoints from the keyset (nil: from the newest), in reading order.
	WebhookEndpointPage(ctx context.Context, scope casapay.Scope, from *Keyset, fetch int) ([]*casapay.WebhookEndpoint, error)
}

var _ casapay.WebhookEndpointStore = (*Store)(nil)

// CreateWebhookEndpoint stores w, which casapay.NewWebhookEndpoint built for scope, unless scope has
// casapay.MaxWebhookEndpoints already, and answers it with its secret, the only time it is shown.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, scope casapay.Scope, w *casapay.WebhookEndpoint, req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		if err := ex.WebhookEndpointsLock(ctx, scope); err != nil {
			return nil, fmt.Errorf("lock webhook endpoints: %w", err)
		}
		n, err := ex.WebhookEndpointCount(ctx, scope)
		if err != nil {
			return nil, fmt.Errorf("count webhook endpoints: %w", err)
		}
		if n >= casapay.MaxWebhookEndpoints {
			return nil, casapay.ErrTooManyWebhookEndpoints()
		}
		if err := ex.WebhookEndpointInsert(ctx, scope, w); err != nil {
			return nil, fmt.Errorf("insert webhook endpoint %s: %w", w.ID, err)
		}
		shown := *w
		shown.ShowSecret = true
		return answer(shown)
	})
}

// FindWebhookEndpoint returns an endpoint of scope, or resource_missing (param "id").
func (s *Store) FindWebhookEndpoint(ctx context.Context, scope casapay.Scope, id string) (*casapay.WebhookEndpoint, error) {
	w, err := s.d.Executor().WebhookEndpointGet(ctx, scope, id)
	return found(w, err, "webhook_endpoint", "id", id)
}

// UpdateWebhookEndpoint applies p to an endpoint of scope.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, scope casapay.Scope, id string, p *casapay.WebhookEndpointParams,
	req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		w, err := ex.WebhookEndpointGetForUpdate(ctx, scope, id)
		if w, err = found(w, err, "webhook_endpoint", "id", id); err != nil {
			return nil, err
		}
		if err := w.Apply(p); err != nil {
			return nil, err
		}
		if err := ex.WebhookEndpointUpdate(ctx, scope, w); err != nil {
			return nil, fmt.Errorf("update webhook endpoint %s: %w", id, err)
		}
		return answer(w)
	})
}

// DeleteWebhookEndpoint deletes an endpoint of scope and cancels its pending deliveries, each of which
// then no longer counts in its event's pending_webhooks.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, scope casapay.Scope, id string, req casapay.Request) (*casapay.Response, error) {
	return s.write(ctx, scope, req, func(ctx context.Context, ex Executor) (*change, error) {
		w, err := ex.WebhookEndpointGetForUpdate(ctx, scope, id)
		if _, err = found(w, err, "webhook_endpoint", "id", id); err != nil {
			return nil, err
		}
		if err := ex.WebhookDeliveriesCancel(ctx, scope, id); err != nil {
			return nil, fmt.Errorf("cancel deliveries to %s: %w", id, err)
		}
		if err := ex.WebhookEndpointDelete(ctx, scope, id); err != nil {
			return nil, fmt.Errorf("delete webhook endpoint %s: %w", id, err)
		}
		return answer(casapay.DeletedWebhookEndpoint{ID: id, Object: "webhook_endpoint", Deleted: true})
	})
}

// ListWebhookEndpoints returns a page of scope's endpoints, newest first (see list).
func (s *Store) ListWebhookEndpoints(ctx context.Context, scope casapay.Scope, f casapay.WebhookEndpointFilter) ([]*casapay.WebhookEndpoint, bool, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, false, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return list(ctx, s.d, pageQuery[*casapay.WebhookEndpoint]{
		kind: "webhook_endpoint", limit: limit, startingAfter: f.StartingAfter, endingBefore: f.EndingBefore,
		position: func(ctx context.Context, ex Executor, id string) (int64, error) {
			return ex.WebhookEndpointPosition(ctx, scope, id)
		},
		read: func(ctx context.Context, ex Executor, from *Keyset, fetch int) ([]*casapay.WebhookEndpoint, error) {
			return ex.WebhookEndpointPage(ctx, scope, from, fetch)
		},
	})
}
