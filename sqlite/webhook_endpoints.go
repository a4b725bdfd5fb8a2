package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// webhookEndpointColumns are the columns scanWebhookEndpoint reads, in its order.
const webhookEndpointColumns = `id, livemode, url, enabled_events, status, description, metadata, secret, api_version, created`

const insertWebhookEndpointSQL = `INSERT INTO webhook_endpoints
	(id, account_id, livemode, url, enabled_events, status, description, metadata, secret, api_version, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// WebhookEndpointInsert inserts w in scope.
func (e *executor) WebhookEndpointInsert(ctx context.Context, scope casapay.Scope, w *casapay.WebhookEndpoint) error {
	events, metadata, err := encodeWebhookEndpoint(w)
	if err != nil {
		return err
	}
	_, err = e.exec(ctx, insertWebhookEndpointSQL, w.ID, scope.AccountID, scope.Livemode, w.URL, events, w.Status,
		w.Description, metadata, w.Secret, w.APIVersion, w.Created)
	return err
}

const findWebhookEndpointSQL = `SELECT ` + webhookEndpointColumns + ` FROM webhook_endpoints
WHERE id = ? AND account_id = ? AND livemode = ?`

// WebhookEndpointGet returns an endpoint of scope, or storage.ErrNoRows.
func (e *executor) WebhookEndpointGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.WebhookEndpoint, error) {
	return scanWebhookEndpoint(e.queryRow(ctx, findWebhookEndpointSQL, id, scope.AccountID, scope.Livemode))
}

// WebhookEndpointGetForUpdate is WebhookEndpointGet: the write transaction holds the database.
func (e *executor) WebhookEndpointGetForUpdate(ctx context.Context, scope casapay.Scope, id string) (*casapay.WebhookEndpoint, error) {
	return e.WebhookEndpointGet(ctx, scope, id)
}

const updateWebhookEndpointSQL = `UPDATE webhook_endpoints
SET url = ?, enabled_events = ?, status = ?, description = ?, metadata = ?
WHERE id = ? AND account_id = ? AND livemode = ?`

// WebhookEndpointUpdate writes w's changeable fields.
func (e *executor) WebhookEndpointUpdate(ctx context.Context, scope casapay.Scope, w *casapay.WebhookEndpoint) error {
	events, metadata, err := encodeWebhookEndpoint(w)
	if err != nil {
		return err
	}
	_, err = e.exec(ctx, updateWebhookEndpointSQL, w.URL, events, w.Status, w.Description, metadata, w.ID, scope.AccountID, scope.Livemode)
	return err
}

const deleteWebhookEndpointSQL = `DELETE FROM webhook_endpoints WHERE id = ? AND account_id = ? AND livemode = ?`

// WebhookEndpointDelete deletes an endpoint of scope.
func (e *executor) WebhookEndpointDelete(ctx context.Context, scope casapay.Scope, id string) error {
	_, err := e.exec(ctx, deleteWebhookEndpointSQL, id, scope.AccountID, scope.Livemode)
	return err
}

// WebhookEndpointsLock does nothing: the write transaction holds the database.
func (e *executor) WebhookEndpointsLock(context.Context, casapay.Scope) error { return nil }

const countWebhookEndpointsSQL = `SELECT count(*) FROM webhook_endpoints WHERE account_id = ? AND livemode = ?`

// WebhookEndpointCount returns how many endpoints scope has.
func (e *executor) WebhookEndpointCount(ctx context.Context, scope casapay.Scope) (int, error) {
	var n int
	if err := e.queryRow(ctx, countWebhookEndpointsSQL, scope.AccountID, scope.Livemode).Scan(&n); err != nil {
		return 0, interpret(err)
	}
	return n, nil
}

const enabledWebhookEndpointsSQL = `SELECT ` + webhookEndpointColumns + ` FROM webhook_endpoints
WHERE account_id = ? AND livemode = ? AND status = 'enabled'`

// WebhookEndpointsEnabled returns scope's enabled endpoints.
func (e *executor) WebhookEndpointsEnabled(ctx context.Context, scope casapay.Scope) ([]*casapay.WebhookEndpoint, error) {
	return queryAll(ctx, e, scanWebhookEndpoint, enabledWebhookEndpointsSQL, scope.AccountID, scope.Livemode)
}

const webhookEndpointPositionSQL = `SELECT created FROM webhook_endpoints WHERE id = ? AND account_id = ? AND livemode = ?`

// WebhookEndpointPosition returns the created time of an endpoint of scope, or storage.ErrNoRows.
func (e *executor) WebhookEndpointPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error) {
	return e.position(ctx, webhookEndpointPositionSQL, scope, id)
}

const webhookEndpointsPage = `webhook_endpoints WHERE account_id = ? AND livemode = ?`

// WebhookEndpointPage reads a page of endpoints (see pageSQL).
func (e *executor) WebhookEndpointPage(ctx context.Context, scope casapay.Scope, from *storage.Keyset, fetch int) ([]*casapay.WebhookEndpoint, error) {
	shape := shapeOf(casapay.TimeRange{}, from)
	return queryAll(ctx, e, scanWebhookEndpoint, pageSQL(webhookEndpointsPage, webhookEndpointColumns, ``, shape),
		pageArgs([]any{scope.AccountID, scope.Livemode}, casapay.TimeRange{}, from, fetch)...)
}

// encodeWebhookEndpoint returns w's enabled events and metadata as the JSON text the columns hold.
func encodeWebhookEndpoint(w *casapay.WebhookEndpoint) (events, metadata string, err error) {
	eb, err := json.Marshal(w.EnabledEvents)
	if err != nil {
		return "", "", fmt.Errorf("encode enabled events of %s: %w", w.ID, err)
	}
	metadata, err = encodeMetadata(w.Metadata)
	if err != nil {
		return "", "", fmt.Errorf("webhook endpoint %s: %w", w.ID, err)
	}
	return string(eb), metadata, nil
}

// scanWebhookEndpoint reads webhookEndpointColumns.
func scanWebhookEndpoint(row scanner) (*casapay.WebhookEndpoint, error) {
	var (
		w                casapay.WebhookEndpoint
		events, metadata string
	)
	err := row.Scan(&w.ID, &w.Livemode, &w.URL, &events, &w.Status, &w.Description, &metadata, &w.Secret, &w.APIVersion, &w.Created)
	if err != nil {
		return nil, interpret(err)
	}
	if err := json.Unmarshal([]byte(events), &w.EnabledEvents); err != nil {
		return nil, fmt.Errorf("decode enabled events of %s: %w", w.ID, err)
	}
	if err := json.Unmarshal([]byte(metadata), &w.Metadata); err != nil {
		return nil, fmt.Errorf("decode metadata of %s: %w", w.ID, err)
	}
	return &w, nil
}
