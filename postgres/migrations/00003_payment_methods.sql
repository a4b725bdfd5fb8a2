-- Payment methods, and each account's fingerprint key.
--
-- A payment method row holds no card or account number: details is the type's hash as the API shows
-- it (last4, brand, bank code, the fingerprint), and nothing else of the number is ever written.

-- +goose Up
-- The key of the account's payment method fingerprints (an HMAC key): random, and never shown. Accounts
-- made before this migration get one here, from gen_random_uuid, which draws from the server's
-- cryptographic generator: two UUIDs are 244 random bits.
ALTER TABLE accounts ADD COLUMN fingerprint_key bytea;
UPDATE accounts SET fingerprint_key = decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex');
ALTER TABLE accounts ALTER COLUMN fingerprint_key SET NOT NULL;

CREATE TABLE payment_methods (
    id              text COLLATE "C" PRIMARY KEY,
    account_id      text COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode        boolean NOT NULL,
    type            text COLLATE "C" NOT NULL,
    details         jsonb NOT NULL, -- the hash named after type
    billing_details jsonb NOT NULL,
    customer        text COLLATE "C" REFERENCES customers (id), -- NULL while attached to no customer
    detached        boolean NOT NULL DEFAULT false,
    decline         text, -- test mode: the decline_code an attach answers with
    metadata        jsonb NOT NULL,
    created         bigint NOT NULL -- Unix seconds
);

-- Lists walk one of these newest first from a (created, id) cursor: all of a scope's payment methods,
-- one type's, or one customer's (at most 500, so a type filter on them reads few rows). The customer
-- index also counts a customer's payment methods and finds them to detach.
CREATE INDEX payment_methods_list_idx ON payment_methods (account_id, livemode, created DESC, id DESC);
CREATE INDEX payment_methods_type_idx ON payment_methods (account_id, livemode, type, created DESC, id DESC);
CREATE INDEX payment_methods_customer_idx ON payment_methods (account_id, livemode, customer, created DESC, id DESC)
    WHERE customer IS NOT NULL;

-- +goose Down
DROP TABLE payment_methods;
ALTER TABLE accounts DROP COLUMN fingerprint_key;
