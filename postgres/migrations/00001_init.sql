-- The first schema: accounts and their API keys, customers, and stored idempotent responses.
--
-- IDs are compared with the "C" collation, byte by byte as Go and SQLite compare them: list order breaks
-- ties in created by id, and a locale's collation (en_US sorts "a" before "B") would order pages
-- differently on each store, and on each server's locale.

-- +goose Up
CREATE TABLE accounts (
    id      text COLLATE "C" PRIMARY KEY,
    name    text NOT NULL,
    created timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id         text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode   boolean NOT NULL,
    hash       text NOT NULL UNIQUE,
    last4      text NOT NULL,
    created    timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE INDEX api_keys_account_idx ON api_keys (account_id, created, id);

CREATE TABLE customers (
    id                     text COLLATE "C" PRIMARY KEY,
    account_id             text COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode               boolean NOT NULL,
    name                   text,
    email                  text,
    email_lower            text, -- strings.ToLower(email), set on each write: the email filter is case-insensitive
    phone                  text,
    address                jsonb,
    default_payment_method text,
    balance                bigint NOT NULL DEFAULT 0,
    currency               text,
    metadata               jsonb NOT NULL,
    created                bigint NOT NULL, -- Unix seconds
    deleted                boolean NOT NULL DEFAULT false
);

-- Lists walk one of these indexes newest first and stop after a page, wherever the page starts. Deleted
-- customers are never listed, so they are left out of both.
CREATE INDEX customers_list_idx ON customers (account_id, livemode, created DESC, id DESC) WHERE NOT deleted;
CREATE INDEX customers_email_idx ON customers (account_id, livemode, email_lower, created DESC, id DESC) WHERE NOT deleted;

CREATE TABLE idempotency_keys (
    account_id  text COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode    boolean NOT NULL,
    key         text NOT NULL,
    fingerprint text NOT NULL,
    status      integer NOT NULL,
    body        bytea NOT NULL,
    created     timestamptz NOT NULL,
    PRIMARY KEY (account_id, livemode, key)
);

-- Pruning deletes by age.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE customers;
DROP TABLE api_keys;
DROP TABLE accounts;
