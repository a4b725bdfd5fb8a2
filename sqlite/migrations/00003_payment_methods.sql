-- Payment methods, and each account's fingerprint key.
--
-- A payment method row holds no card or account number: details is the type's hash as the API shows
-- it (last4, brand, bank code, the fingerprint), and nothing else of the number is ever written.

-- +goose Up
-- The key of the account's payment method fingerprints (an HMAC key): random, and never shown. Accounts
-- made before this migration get one here; randomblob draws from SQLite's cryptographic generator.
ALTER TABLE accounts ADD COLUMN fingerprint_key BLOB NOT NULL DEFAULT x'';
UPDATE accounts SET fingerprint_key = randomblob(32);

CREATE TABLE payment_methods (
	id              TEXT PRIMARY KEY,
	account_id      TEXT NOT NULL REFERENCES accounts (id),
	livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
	type            TEXT NOT NULL,
	details         TEXT NOT NULL, -- JSON object: the hash named after type
	billing_details TEXT NOT NULL, -- JSON object
	customer        TEXT REFERENCES customers (id), -- NULL while attached to no customer
	detached        INTEGER NOT NULL DEFAULT 0 CHECK (detached IN (0, 1)),
	decline         TEXT,          -- test mode: the decline_code an attach answers with
	metadata        TEXT NOT NULL DEFAULT '{}',
	created         INTEGER NOT NULL
) STRICT;

-- Lists walk one of these newest first from a (created, id) cursor: all of a scope's payment methods,
-- one type's, or one customer's (at most 500, so a type filter on them reads few rows). The customer
-- index also counts a customer's payment methods and finds them to detach.
CREATE INDEX payment_methods_list ON payment_methods (account_id, livemode, created DESC, id DESC);
CREATE INDEX payment_methods_type ON payment_methods (account_id, livemode, type, created DESC, id DESC);
CREATE INDEX payment_methods_customer ON payment_methods (account_id, livemode, customer, created DESC, id DESC)
	WHERE customer IS NOT NULL;

-- +goose Down
DROP TABLE payment_methods;
ALTER TABLE accounts DROP COLUMN fingerprint_key;
