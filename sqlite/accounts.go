package sqlite

import (
	"context"
	"time"

	"github.com/casapay/casapay"
)

const insertAccountSQL = `INSERT INTO accounts (id, name, created, fingerprint_key) VALUES (?, ?, ?, ?)`

// AccountInsert inserts a.
func (e *executor) AccountInsert(ctx context.Context, a *casapay.Account) error {
	_, err := e.exec(ctx, insertAccountSQL, a.ID, a.Name, a.Created.Unix(), a.FingerprintKey)
	return err
}

const fingerprintKeySQL = `SELECT fingerprint_key FROM accounts WHERE id = ?`

// AccountFingerprintKey returns an account's fingerprint key, or storage.ErrNoRows.
func (e *executor) AccountFingerprintKey(ctx context.Context, accountID string) ([]byte, error) {
	var key []byte
	if err := e.queryRow(ctx, fingerprintKeySQL, accountID).Scan(&key); err != nil {
		return nil, interpret(err)
	}
	return key, nil
}

// AccountsLock does nothing: the write transaction began IMMEDIATE, which took the file's write lock
// before its first statement, so no other process can add an account until it ends; within this
// process, the writer runs one request at a time.
func (e *executor) AccountsLock(context.Context) error { return nil }

const anyAccountSQL = `SELECT EXISTS (SELECT 1 FROM accounts)`

// AccountAny reports whether any account exists.
func (e *executor) AccountAny(ctx context.Context) (bool, error) {
	var exists bool
	if err := e.queryRow(ctx, anyAccountSQL).Scan(&exists); err != nil {
		return false, interpret(err)
	}
	return exists, nil
}

const accountExistsSQL = `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`

// AccountExists reports whether the account exists.
func (e *executor) AccountExists(ctx context.Context, id string) (bool, error) {
	var exists bool
	if err := e.queryRow(ctx, accountExistsSQL, id).Scan(&exists); err != nil {
		return false, interpret(err)
	}
	return exists, nil
}

const (
	setRateLimitsSQL = `UPDATE accounts SET rate_limit_live = nullif(?, 0), rate_limit_test = nullif(?, 0) WHERE id = ?`
	getRateLimitsSQL = `SELECT coalesce(rate_limit_live, 0), coalesce(rate_limit_test, 0) FROM accounts WHERE id = ?`
)

// AccountRateLimitsSet sets an account's own rate limits, NULL for 0, and reports whether it exists.
func (e *executor) AccountRateLimitsSet(ctx context.Context, accountID string, l casapay.RateLimits) (bool, error) {
	n, err := e.execCount(ctx, setRateLimitsSQL, l.Live, l.Test, accountID)
	return n > 0, err
}

// AccountRateLimitsGet returns an account's own rate limits, or storage.ErrNoRows.
func (e *executor) AccountRateLimitsGet(ctx context.Context, accountID string) (casapay.RateLimits, error) {
	var l casapay.RateLimits
	if err := e.queryRow(ctx, getRateLimitsSQL, accountID).Scan(&l.Live, &l.Test); err != nil {
		return casapay.RateLimits{}, interpret(err)
	}
	return l, nil
}

const insertAPIKeySQL = `
INSERT INTO api_keys (id, account_id, livemode, hash, last4, created, revoked_at)
VALUES (?, ?, ?, ?, ?, ?, ?)`

// APIKeyInsert inserts k; the foreign key on its account makes a missing account storage.ErrMissingParent.
func (e *executor) APIKeyInsert(ctx context.Context, k *casapay.APIKey) error {
	var revokedAt *int64
	if k.RevokedAt != nil {
		at := k.RevokedAt.Unix()
		revokedAt = &at
	}
	_, err := e.exec(ctx, insertAPIKeySQL, k.ID, k.AccountID, k.Livemode, k.Hash, k.Last4, k.Created.Unix(), revokedAt)
	return err
}

const (
	// selectAPIKeySQL reads each key with its account's own rate limit in the key's mode, so that a
	// request learns its limit in the lookup it makes anyway.
	selectAPIKeySQL = `SELECT k.id, k.account_id, k.livemode, k.hash, k.last4, k.created, k.revoked_at,
	coalesce(CASE WHEN k.livemode THEN a.rate_limit_live ELSE a.rate_limit_test END, 0)
FROM api_keys k JOIN accounts a ON a.id = k.account_id`

	listAPIKeysSQL = selectAPIKeySQL + ` WHERE k.account_id = ? ORDER BY k.created, k.id`
	findAPIKeySQL  = selectAPIKeySQL + ` WHERE k.hash = ?`
)

// APIKeyList returns an account's keys, oldest first.
func (e *executor) APIKeyList(ctx context.Context, accountID string) ([]*casapay.APIKey, error) {
	return queryAll(ctx, e, scanAPIKey, listAPIKeysSQL, accountID)
}

// revokeAPIKeySQL keeps the first revocation time: revoking a revoked key changes nothing. SQLite counts
// the row as changed anyway, which is what tells a revoked key from a missing one.
const revokeAPIKeySQL = `
UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?)
WHERE account_id = ? AND id = ?`

// APIKeyRevoke revokes a key of the account at the given time unless it is revoked, and reports
// whether the account has the key.
func (e *executor) APIKeyRevoke(ctx context.Context, accountID, keyID string, at time.Time) (bool, error) {
	n, err := e.execCount(ctx, revokeAPIKeySQL, at.Unix(), accountID, keyID)
	return n > 0, err
}

// APIKeyByHash returns the key stored under hash, or storage.ErrNoRows.
func (e *executor) APIKeyByHash(ctx context.Context, hash string) (*casapay.APIKey, error) {
	return scanAPIKey(e.queryRow(ctx, findAPIKeySQL, hash))
}

// scanAPIKey reads a row of selectAPIKeySQL.
func scanAPIKey(row scanner) (*casapay.APIKey, error) {
	var (
		k         casapay.APIKey
		created   int64
		revokedAt *int64
	)
	if err := row.Scan(&k.ID, &k.AccountID, &k.Livemode, &k.Hash, &k.Last4, &created, &revokedAt, &k.RateLimit); err != nil {
		return nil, interpret(err)
	}
	k.Created = time.Unix(created, 0).UTC()
	if revokedAt != nil {
		at := time.Unix(*revokedAt, 0).UTC()
		k.RevokedAt = &at
	}
	return &k, nil
}
