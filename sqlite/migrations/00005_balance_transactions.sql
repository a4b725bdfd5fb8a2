-- Customers' balance ledgers: a customer's balance is the sum of its rows here, each written in the
-- same transaction as the balance it changes.

-- +goose Up
CREATE TABLE balance_transactions (
	id             TEXT PRIMARY KEY,
	account_id     TEXT NOT NULL REFERENCES accounts (id),
	livemode       INTEGER NOT NULL CHECK (livemode IN (0, 1)),
	customer_id    TEXT NOT NULL REFERENCES customers (id),
	amount         INTEGER NOT NULL CHECK (amount <> 0),
	currency       TEXT NOT NULL,
	description    TEXT,
	ending_balance INTEGER NOT NULL,
	metadata       TEXT NOT NULL DEFAULT '{}',
	type           TEXT NOT NULL CHECK (type IN ('initial', 'adjustment')),
	created        INTEGER NOT NULL
) STRICT;

-- A customer's ledger, newest first from a (created, id) cursor.
CREATE INDEX balance_transactions_list ON balance_transactions (account_id, livemode, customer_id, created DESC, id DESC);

-- +goose Down
DROP TABLE balance_transactions;
