-- An account's own rate limits, in requests per second (NULL: the server's), and the rate budgets that
-- every serve process on the database shares.
--
-- A budget is a token bucket per account, mode and kind of request (reads or writes): the requests it held
-- after the last draw, and when that was (microseconds since 1970). A draw refills it at the rate for the
-- time since, up to its capacity, and takes what it asks for, or what there is. One row per account, mode
-- and kind, updated in place: there is nothing to prune.

-- +goose Up
ALTER TABLE accounts ADD COLUMN rate_limit_live integer CHECK (rate_limit_live BETWEEN 1 AND 1000000);
ALTER TABLE accounts ADD COLUMN rate_limit_test integer CHECK (rate_limit_test BETWEEN 1 AND 1000000);

CREATE TABLE rate_budgets (
    account_id text COLLATE "C" NOT NULL REFERENCES accounts (id),
    livemode   boolean NOT NULL,
    write      boolean NOT NULL,
    tokens     double precision NOT NULL,
    drawn_at   bigint NOT NULL,
    granted    integer NOT NULL, -- what the last draw took, for the draw to return
    PRIMARY KEY (account_id, livemode, write)
);

-- +goose Down
DROP TABLE rate_budgets;
ALTER TABLE accounts DROP COLUMN rate_limit_test;
ALTER TABLE accounts DROP COLUMN rate_limit_live;
