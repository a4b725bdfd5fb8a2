-- An account's own rate limits, in requests per second (NULL: the server's). The one serve process on a
-- SQLite file keeps the budgets themselves in memory.

-- +goose Up
ALTER TABLE accounts ADD COLUMN rate_limit_live integer CHECK (rate_limit_live BETWEEN 1 AND 1000000);
ALTER TABLE accounts ADD COLUMN rate_limit_test integer CHECK (rate_limit_test BETWEEN 1 AND 1000000);

-- +goose Down
ALTER TABLE accounts DROP COLUMN rate_limit_test;
ALTER TABLE accounts DROP COLUMN rate_limit_live;
