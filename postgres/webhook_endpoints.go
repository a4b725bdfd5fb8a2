package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

const webhookEndpointColumns = `id, livemode, url, enabled_events, status, description, metadata, secret, api_version, created`

// scanWebhookEndpoint reads a row of webhookEndpointColumns.
func scanWebhookEndpoint(row pgx.CollectableRow) (*casapay.WebhookEndpoint, error) {
	var w casapay.WebhookEndpoint
	err := row.Scan(&w.ID, &w.Livemode, &w.URL, &w.EnabledEvents, &w.Status, &w.Description, &w.Metadata, &w.Secret,
		&w.APIVersion, &w.Created)
	if err != nil {
		return nil, err
	}
	return &w, nil
}

const insertWebhookEndpoint = `
INSERT INTO webhook_endpoints (account_id, livemode, id, url, enabled_events, status, description, metadata, secret,
	api_version, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// WebhookEndpointInsert inserts w in scope.
func (e executor) WebhookEndpointInsert(ctx context.Context, scope casapay.Scope, w *casapay.WebhookEndpoint) error {
	_, err := e.exec(ctx, insertWebhookEndpoint, scope.AccountID, scope.Livemode, w.ID, w.URL, w.EnabledEvents, w.Status,
		w.Description, metadataOrEmpty(w.Metadata), w.Secret, w.APIVersion, w.Created)
	return err
}

const findWebhookEndpoint = `SELECT ` + webhookEndpointColumns + ` FROM webhook_endpoints
WHERE account_id = $1 AND livemode = $2 AND id = $3`

// WebhookEndpointGet returns the scope's endpoint, or storage.ErrNoRows.
func (e executor) WebhookEndpointGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.WebhookEndpoint, error) {
	return queryOne(ctx, e, scanWebhookEndpoint, findWebhookEndpoint, scope.AccountID, scope.Livemode, id)
}

// WebhookEndpointGetForUpdate returns the scope's endpoint, locked, or storage.ErrNoRows.
func (e executor) WebhookEndpointGetForUpdate(ctx context.Context, scope casapay.Scope, id string) (*casapay.WebhookEndpoint, error) {
	return queryOne(ctx, e, scanWebhookEndpoint, findWebhookEndpoint+` FOR UPDATE`, scope.AccountID, scope.Livemode, id)
}

const updateWebhookEndpoint = `
UPDATE webhook_endpoints SET url = $4, enabled_events = $5, status = $6, description = $7, metadata = $8
WHERE account_id = $1 AND livemode = $2 AND id = $3`

// WebhookEndpointUpdate writes w's changeable fields.
func (e executor) WebhookEndpointUpdate(ctx context.Context, scope casapay.Scope, w *casapay.WebhookEndpoint) error {
	_, err := e.exec(ctx, updateWebhookEndpoint, scope.AccountID, scope.Livemode, w.ID, w.URL, w.EnabledEvents, w.Status,
		w.Description, metadataOrEmpty(w.Metadata))
	return err
}

// WebhookEndpointDelete deletes the scope's endpoint.
func (e executor) WebhookEndpointDelete(ctx context.Context, scope casapay.Scope, id string) error {
	_, err := e.exec(ctx, `DELETE FROM webhook_endpoints WHERE account_id = $1 AND livemode = $2 AND id = $3`,
		scope.AccountID, scope.Livemode, id)
	return err
}

// lockEndpointsOfAccount serialises the creates of one account's endpoints: it holds the account's
// row. NO KEY UPDATE does not conflict with the KEY SHARE locks that inserts referencing the account
// take, so other writes of the account go on.
const lockEndpointsOfAccount = `SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`

// WebhookEndpointsLock holds the scope's account against other endpoint creates until the transaction ends.
func (e executor) WebhookEndpointsLock(ctx context.Context, scope casapay.Scope) error {
	_, err := e.exec(ctx, lockEndpointsOfAccount, scope.AccountID)
	return err
}

// WebhookEndpointCount returns how many endpoints the scope has.
func (e executor) WebhookEndpointCount(ctx context.Context, scope casapay.Scope) (int, error) {
	return scalar[int](ctx, e, `SELECT count(*) FROM webhook_endpoints WHERE account_id = $1 AND livemode = $2`,
		scope.AccountID, scope.Livemode)
}

// enabledWebhookEndpoints holds the endpoints it reads FOR SHARE until the event's transaction ends: a
// concurrent delete or disable of one waits for the event and its deliveries to commit, so it sees
// them (and cancels them), and a delivery is never queued for an endpoint already gone.
const enabledWebhookEndpoints = `SELECT ` + webhookEndpointColumns + ` FROM webhook_endpoints
WHERE account_id = $1 AND livemode = $2 AND status = 'enabled' FOR SHARE`

// WebhookEndpointsEnabled returns the scope's enabled endpoints, held against deletes and updates.
func (e executor) WebhookEndpointsEnabled(ctx context.Context, scope casapay.Scope) ([]*casapay.WebhookEndpoint, error) {
	return queryAll(ctx, e, scanWebhookEndpoint, enabledWebhookEndpoints, scope.AccountID, scope.Livemode)
}

// WebhookEndpointPosition returns the created time of the scope's endpoint, or storage.ErrNoRows.
func (e executor) WebhookEndpointPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error) {
	return scalar[int64](ctx, e, `SELECT created FROM webhook_endpoints WHERE account_id = $1 AND livemode = $2 AND id = $3`,
		scope.AccountID, scope.Livemode, id)
}

var listWebhookEndpointsOlder, listWebhookEndpointsNewer = pageQueries(
	`SELECT `+webhookEndpointColumns+` FROM webhook_endpoints WHERE account_id = $1 AND livemode = $2`, 5)

// WebhookEndpointPage reads a page of the scope's endpoints, in reading order.
func (e executor) WebhookEndpointPage(ctx context.Context, scope casapay.Scope, from *storage.Keyset, fetch int) ([]*casapay.WebhookEndpoint, error) {
	query, cursorCreated, cursorID := pageFrom(listWebhookEndpointsOlder, listWebhookEndpointsNewer, from)
	return queryAll(ctx, e, scanWebhookEndpoint, query, pgx.QueryExecModeExec, scope.AccountID, scope.Livemode,
		cursorCreated, cursorID, fetch)
}
