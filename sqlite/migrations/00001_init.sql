-- The first schema: accounts and their API keys, customers, and stored idempotent responses.
-- Table and column names match the PostgreSQL store's, so the two stores differ only in SQL dialect.
-- Tables are STRICT, so a value of the wrong type is an error instead of being stored as whatever it is.
-- Times are Unix seconds; booleans are 0 or 1.

-- +goose Up
CREATE TABLE accounts (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL,
	created INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	livemode   INTEGER NOT NULL CHECK (livemode IN (0, 1)),
	hash       TEXT NOT NULL UNIQUE, -- hex SHA-256 of the secret; the secret itself is never stored
	last4      TEXT NOT NULL,
	created    INTEGER NOT NULL,
	revoked_at INTEGER               -- NULL while the key works
) STRICT;

CREATE INDEX api_keys_account ON api_keys (account_id, created);

CREATE TABLE customers (
	id                     TEXT PRIMARY KEY,
	account_id             TEXT NOT NULL REFERENCES accounts (id),
	livemode               INTEGER NOT NULL CHECK (livemode IN (0, 1)),
	name                   TEXT,
	email                  TEXT,
	email_lower            TEXT,    -- lower(email), written with every write, for the case-insensitive email filter
	phone                  TEXT,
	address                TEXT,    -- JSON object, NULL when unset
	default_payment_method TEXT,
	balance                INTEGER NOT NULL DEFAULT 0,
	currency               TEXT,
	metadata               TEXT NOT NULL DEFAULT '{}', -- JSON object
	created                INTEGER NOT NULL,
	deleted                INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
) STRICT;

-- The list reads one of these two indexes, newest first, from a (created, id) cursor: a page costs the
-- same wherever it starts. They are partial because deleted customers are never listed.
CREATE INDEX customers_list ON customers (account_id, livemode, created DESC, id DESC) WHERE NOT deleted;
CREATE INDEX customers_list_email ON customers (account_id, livemode, email_lower, created DESC, id DESC) WHERE NOT deleted;

CREATE TABLE idempotency_keys (
	account_id  TEXT NOT NULL REFERENCES accounts (id),
	livemode    INTEGER NOT NULL CHECK (livemode IN (0, 1)),
	key         TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	status      INTEGER NOT NULL,
	body        BLOB NOT NULL,
	created     INTEGER NOT NULL,
	PRIMARY KEY (account_id, livemode, key)
) STRICT;

CREATE INDEX idempotency_keys_created ON idempotency_keys (created);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE customers;
DROP TABLE api_keys;
DROP TABLE accounts;
