package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
)

// idempotencyLockKey returns the text that names the advisory lock of one idempotency key: the lock is
// pg_try_advisory_xact_lock(hashtextextended(text, 0)). Account IDs hold no spaces and the mode is a fixed
// word, so two keys never share a text; the 64-bit hash makes sharing a lock by collision negligible.
// Advisory locks span the whole database, not one schema, but account IDs are random: schemas never
// share one.
func idempotencyLockKey(scope casapay.Scope, key string) string {
	mode := "test"
	if scope.Livemode {
		mode = "live"
	}
	return "casapay idempotency " + scope.AccountID + " " + mode + " " + key
}

const tryIdempotencyLock = `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`

// IdempotencyLock takes the key's transaction-scoped advisory lock, or reports false if another
// transaction, in any process, holds it. The lock is taken before the stored response is looked up, and
// each statement takes a fresh snapshot, so the lookup that follows sees a commit that released it.
// Waiting for the lock instead of failing would hold a connection for as long as the first request
// runs; Stripe answers 409 here too.
func (e executor) IdempotencyLock(ctx context.Context, scope casapay.Scope, key string) (bool, error) {
	return scalar[bool](ctx, e, tryIdempotencyLock, idempotencyLockKey(scope, key))
}

const findIdempotencyKey = `
SELECT fingerprint, status, body FROM idempotency_keys
WHERE account_id = $1 AND livemode = $2 AND key = $3 AND created >= $4`

// IdempotencyFind returns the response stored for key at or after since, or storage.ErrNoRows.
func (e executor) IdempotencyFind(ctx context.Context, scope casapay.Scope, key string, since time.Time) (string, *casapay.Response, error) {
	type found struct {
		fingerprint string
		r           casapay.Response
	}
	f, err := queryOne(ctx, e, func(row pgx.CollectableRow) (found, error) {
		var f found
		err := row.Scan(&f.fingerprint, &f.r.Status, &f.r.Body)
		return f, err
	}, findIdempotencyKey, scope.AccountID, scope.Livemode, key, since)
	if err != nil {
		return "", nil, err
	}
	return f.fingerprint, &f.r, nil
}

// saveIdempotencyKey replaces an expired record of the key, if one is left: the lookup, under the key's
// lock, found no live one.
const saveIdempotencyKey = `
INSERT INTO idempotency_keys (account_id, livemode, key, fingerprint, status, body, created)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (account_id, livemode, key) DO UPDATE
SET fingerprint = excluded.fingerprint, status = excluded.status, body = excluded.body, created = excluded.created`

// IdempotencyPut stores r under idem's key.
func (e executor) IdempotencyPut(ctx context.Context, scope casapay.Scope, idem *casapay.Idempotency, r *casapay.Response) error {
	err := e.later(ctx, "store idempotent response", saveIdempotencyKey, scope.AccountID, scope.Livemode, idem.Key, idem.Fingerprint,
		r.Status, r.Body, idem.Created)
	return err
}

// pruneIdempotencyKeys deletes one chunk of old responses, found on idempotency_keys_created_idx and
// deleted by their physical row IDs (a TID scan), as the table has no single-column key.
const pruneIdempotencyKeys = `
DELETE FROM idempotency_keys
WHERE ctid = ANY (ARRAY (SELECT ctid FROM idempotency_keys WHERE created < $1 ORDER BY created LIMIT $2))`

// IdempotencyPrune deletes at most limit stored responses created before cutoff.
func (e executor) IdempotencyPrune(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	return e.exec(ctx, pruneIdempotencyKeys, cutoff, limit)
}
