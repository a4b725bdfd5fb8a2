package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
)

const insertAccount = `INSERT INTO accounts (id, name, created, fingerprint_key) VALUES ($1, $2, $3, $4)`

// AccountInsert inserts a.
func (e executor) AccountInsert(ctx context.Context, a *casapay.Account) error {
	_, err := e.exec(ctx, insertAccount, a.ID, a.Name, a.Created, a.FingerprintKey)
	return err
}

const fingerprintKey = `SELECT fingerprint_key FROM accounts WHERE id = $1`

// AccountFingerprintKey returns an account's fingerprint key, or storage.ErrNoRows.
func (e executor) AccountFingerprintKey(ctx context.Context, accountID string) ([]byte, error) {
	return scalar[[]byte](ctx, e, fingerprintKey, accountID)
}

// lockAccounts makes a bootstrap's check and insert one step. SHARE ROW EXCLUSIVE conflicts with itself
// and with the ROW EXCLUSIVE lock every INSERT takes, but not with reads: a second bootstrap, or an
// account insert in flight, finishes first, and the check that follows (a new snapshot, since the
// transaction is READ COMMITTED) sees its account. It is a table lock, so it holds for this schema only.
const lockAccounts = `LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE`

// AccountsLock locks the accounts table against inserts until the transaction ends.
func (e executor) AccountsLock(ctx context.Context) error {
	_, err := e.exec(ctx, lockAccounts)
	return err
}

const anyAccount = `SELECT EXISTS (SELECT 1 FROM accounts)`

// AccountAny reports whether any account exists.
func (e executor) AccountAny(ctx context.Context) (bool, error) {
	return scalar[bool](ctx, e, anyAccount)
}

const accountExists = `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)`

// AccountExists reports whether the account exists.
func (e executor) AccountExists(ctx context.Context, id string) (bool, error) {
	return scalar[bool](ctx, e, accountExists, id)
}

const (
	setRateLimits = `UPDATE accounts SET rate_limit_live = nullif($2, 0), rate_limit_test = nullif($3, 0) WHERE id = $1`
	getRateLimits = `SELECT coalesce(rate_limit_live, 0), coalesce(rate_limit_test, 0) FROM accounts WHERE id = $1`
)

// AccountRateLimitsSet sets an account's own rate limits, NULL for 0, and reports whether it exists.
func (e executor) AccountRateLimitsSet(ctx context.Context, accountID string, l casapay.RateLimits) (bool, error) {
	n, err := e.exec(ctx, setRateLimits, accountID, l.Live, l.Test)
	return n > 0, err
}

// AccountRateLimitsGet returns an account's own rate limits, or storage.ErrNoRows.
func (e executor) AccountRateLimitsGet(ctx context.Context, accountID string) (casapay.RateLimits, error) {
	return queryOne(ctx, e, func(row pgx.CollectableRow) (casapay.RateLimits, error) {
		var l casapay.RateLimits
		err := row.Scan(&l.Live, &l.Test)
		return l, err
	}, getRateLimits, accountID)
}

const insertAPIKey = `
INSERT INTO api_keys (id, account_id, livemode, hash, last4, created, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

// APIKeyInsert inserts k; the foreign key on its account makes a missing account storage.ErrMissingParent.
func (e executor) APIKeyInsert(ctx context.Context, k *casapay.APIKey) error {
	_, err := e.exec(ctx, insertAPIKey, k.ID, k.AccountID, k.Livemode, k.Hash, k.Last4, k.Created, k.RevokedAt)
	return err
}

// selectAPIKey reads each key with its account's own rate limit in the key's mode, so that a request
// learns its limit in the lookup it makes anyway.
const selectAPIKey = `SELECT k.id, k.account_id, k.livemode, k.hash, k.last4, k.created, k.revoked_at,
	coalesce(CASE WHEN k.livemode THEN a.rate_limit_live ELSE a.rate_limit_test END, 0)
FROM api_keys k JOIN accounts a ON a.id = k.account_id`

const listAPIKeys = selectAPIKey + ` WHERE k.account_id = $1 ORDER BY k.created, k.id`

// APIKeyList returns an account's keys, oldest first.
func (e executor) APIKeyList(ctx context.Context, accountID string) ([]*casapay.APIKey, error) {
	return queryAll(ctx, e, scanAPIKey, listAPIKeys, accountID)
}

// revokeAPIKey keeps the first revocation time: revoking a revoked key changes nothing, but still
// counts the row, which is what tells a revoked key from a missing one.
const revokeAPIKey = `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE account_id = $1 AND id = $2`

// APIKeyRevoke revokes the account's key at the given time unless it is revoked, and reports whether
// the account has the key.
func (e executor) APIKeyRevoke(ctx context.Context, accountID, keyID string, at time.Time) (bool, error) {
	n, err := e.exec(ctx, revokeAPIKey, accountID, keyID, at)
	return n > 0, err
}

const findAPIKey = selectAPIKey + ` WHERE k.hash = $1`

// APIKeyByHash returns the key stored under hash, or storage.ErrNoRows.
func (e executor) APIKeyByHash(ctx context.Context, hash string) (*casapay.APIKey, error) {
	return queryOne(ctx, e, scanAPIKey, findAPIKey, hash)
}

// scanAPIKey reads a row of selectAPIKey. Times come back in UTC, as NewAPIKey makes them; PostgreSQL
// keeps them to the microsecond.
func scanAPIKey(row pgx.CollectableRow) (*casapay.APIKey, error) {
	var k casapay.APIKey
	if err := row.Scan(&k.ID, &k.AccountID, &k.Livemode, &k.Hash, &k.Last4, &k.Created, &k.RevokedAt, &k.RateLimit); err != nil {
		return nil, err
	}
	k.Created = k.Created.UTC()
	if k.RevokedAt != nil {
		at := k.RevokedAt.UTC()
		k.RevokedAt = &at
	}
	return &k, nil
}
