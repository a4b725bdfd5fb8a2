-- Customers' balance ledgers: a customer's balance is the sum of its rows here, each written in the
-- same transaction as the balance it changes.

-- +goose Up
CREATE TABLE balance_transactions (
    id             text COLLATE "C" PRIMARY KEY,
    account_id     text COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode       boolean NOT NULL,
    customer_id    text COLLATE "C" NOT NULL REFERENCES customers (id),
    amount         bigint NOT NULL CHECK (amount <> 0),
    currency       text NOT NULL,
    description    text,
    ending_balance bigint NOT NULL,
    metadata       jsonb NOT NULL,
    type           text NOT NULL CHECK (type IN ('initial', 'adjustment')),
    created        bigint NOT NULL -- Unix seconds
);

-- A customer's ledger, newest first from a (created, id) cursor.
CREATE INDEX balance_transactions_list_idx ON balance_transactions (account_id, livemode, customer_id, created DESC, id DESC);

-- +goose Down
DROP TABLE balance_transactions;
