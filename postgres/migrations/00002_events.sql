-- Events: one row per change, written in the same transaction as the change. object and
-- previous_attributes are json, not jsonb: they keep the text the API rendered, key order included, so an
-- event shows the object exactly as the response that made it did.

-- +goose Up
CREATE TABLE events (
    id                  text COLLATE "C" PRIMARY KEY,
    account_id          text COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode            boolean NOT NULL,
    type                text COLLATE "C" NOT NULL,
    created             bigint NOT NULL, -- Unix seconds
    api_version         text,
    object              json NOT NULL,
    previous_attributes json, -- NULL unless *.updated
    request_id          text,
    idempotency_key     text,
    pending_webhooks    bigint NOT NULL DEFAULT 0
);

-- A list walks events_list_idx newest first from a (created, id) cursor, or events_type_idx when it asks
-- for one type; a page costs the same wherever it starts. Pruning deletes by age, through a BRIN index:
-- events arrive in created order, so block ranges summarise them well, and a BRIN index cannot return
-- rows in order, so the planner never takes it for a list's walk (a btree on created alone, when an
-- account holds most events, looks cheaper to it than events_list_idx and adds a sort).
CREATE INDEX events_list_idx ON events (account_id, livemode, created DESC, id DESC);
CREATE INDEX events_type_idx ON events (account_id, livemode, type, created DESC, id DESC);
CREATE INDEX events_created_idx ON events USING brin (created);

-- +goose Down
DROP TABLE events;
