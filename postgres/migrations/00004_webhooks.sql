-- Webhook endpoints, and the outbox of their deliveries: one row per event and endpoint, written in the
-- event's transaction, and one row per attempt. Times of deliveries and attempts are Unix milliseconds.

-- +goose Up
CREATE TABLE webhook_endpoints (
	id             text COLLATE "C" PRIMARY KEY,
	account_id     text COLLATE "C" NOT NULL REFERENCES accounts (id),
	livemode       boolean NOT NULL,
	url            text NOT NULL,
	enabled_events jsonb NOT NULL, -- array of event types, or ["*"]
	status         text NOT NULL CHECK (status IN ('enabled', 'disabled')),
	description    text,
	metadata       jsonb NOT NULL,
	secret         text NOT NULL, -- whsec_…: it signs deliveries, so it is kept as it is
	api_version    text NOT NULL,
	created        bigint NOT NULL
);

CREATE INDEX webhook_endpoints_list_idx ON webhook_endpoints (account_id, livemode, created DESC, id DESC);

CREATE TABLE webhook_deliveries (
	id           text COLLATE "C" PRIMARY KEY,
	account_id   text NOT NULL,
	livemode     boolean NOT NULL,
	event_id     text NOT NULL,
	endpoint_id  text NOT NULL, -- no foreign key: a deleted endpoint's cancelled deliveries stay until pruned
	status       text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
	attempts     bigint NOT NULL DEFAULT 0,
	next_attempt bigint NOT NULL, -- when a pending delivery is due
	lease_until  bigint,          -- while a deliverer holds it
	lease_token  text,
	created      bigint NOT NULL  -- Unix seconds: the event's
);

-- Deliverers look for due deliveries, and count an endpoint's leased ones, through these; both hold
-- pending deliveries only, which are few next to the delivered ones.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_lease_idx ON webhook_deliveries (lease_token) WHERE lease_token IS NOT NULL;
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created);

CREATE TABLE webhook_attempts (
	delivery_id text NOT NULL,
	at          bigint NOT NULL,
	status_code bigint, -- NULL when the receiver did not answer
	error       text,
	duration_ms bigint NOT NULL
);

CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
