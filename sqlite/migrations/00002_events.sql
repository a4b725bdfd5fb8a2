-- Events: one row per change, written in the same transaction as the change. object and
-- previous_attributes hold the JSON the event shows, as the API rendered it then.

-- +goose Up
CREATE TABLE events (
	id                  TEXT PRIMARY KEY,
	account_id          TEXT NOT NULL REFERENCES accounts (id),
	livemode            INTEGER NOT NULL CHECK (livemode IN (0, 1)),
	type                TEXT NOT NULL,
	created             INTEGER NOT NULL,
	api_version         TEXT,
	object              TEXT NOT NULL, -- data.object: JSON object
	previous_attributes TEXT,          -- data.previous_attributes: JSON object, NULL unless *.updated
	request_id          TEXT,
	idempotency_key     TEXT,
	pending_webhooks    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A list walks events_list newest first from a (created, id) cursor, or events_type when it asks for
-- one type: a page costs the same wherever it starts. There is no index on created alone: every index
-- is written with every event, on the one writer, so pruning walks the table in rowid order instead,
-- which is the order events were inserted in, and so their age (see pruneEventsSQL).
CREATE INDEX events_list ON events (account_id, livemode, created DESC, id DESC);
CREATE INDEX events_type ON events (account_id, livemode, type, created DESC, id DESC);

-- +goose Down
DROP TABLE events;
