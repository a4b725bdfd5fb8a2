-- Webhook endpoints, and the outbox of their deliveries: one row per event and endpoint, written in the
-- event's transaction, and one row per attempt. Times of deliveries and attempts are Unix milliseconds.

-- +goose Up
CREATE TABLE webhook_endpoints (
	id             TEXT PRIMARY KEY,
	account_id     TEXT NOT NULL REFERENCES accounts (id),
	livemode       INTEGER NOT NULL CHECK (livemode IN (0, 1)),
	url            TEXT NOT NULL,
	enabled_events TEXT NOT NULL, -- JSON array of event types, or ["*"]
	status         TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
	description    TEXT,
	metadata       TEXT NOT NULL DEFAULT '{}',
	secret         TEXT NOT NULL, -- whsec_…: it signs deliveries, so it is kept as it is
	api_version    TEXT NOT NULL,
	created        INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_endpoints_list ON webhook_endpoints (account_id, livemode, created DESC, id DESC);

CREATE TABLE webhook_deliveries (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL,
	livemode     INTEGER NOT NULL CHECK (livemode IN (0, 1)),
	event_id     TEXT NOT NULL,
	endpoint_id  TEXT NOT NULL, -- no foreign key: a deleted endpoint's cancelled deliveries stay until pruned
	status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL, -- when a pending delivery is due
	lease_until  INTEGER,          -- while a deliverer holds it
	lease_token  TEXT,
	created      INTEGER NOT NULL  -- Unix seconds: the event's
) STRICT;

-- Deliverers look for due deliveries, and count an endpoint's leased ones, through these; both hold
-- pending deliveries only, which are few next to the delivered ones.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_lease ON webhook_deliveries (lease_token) WHERE lease_token IS NOT NULL;
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created);

CREATE TABLE webhook_attempts (
	delivery_id TEXT NOT NULL,
	at          INTEGER NOT NULL,
	status_code INTEGER, -- NULL when the receiver did not answer
	error       TEXT,
	duration_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
