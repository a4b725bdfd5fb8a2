package sqlite

import (
	"context"
	"time"

	"github.com/casapay/casapay"
)

// IdempotencyLock always succeeds. Every write runs on the one writer, one request at a time, so a
// concurrent request with the same key can never see the first one in flight: if the writer runs both
// in one batch, the later one finds the earlier one's record in the batch's transaction and replays it;
// the replay is answered, like every answer, only once that transaction has committed, so it never
// replays a response that was then lost.
func (e *executor) IdempotencyLock(context.Context, casapay.Scope, string) (bool, error) {
	return true, nil
}

const findResponseSQL = `
SELECT fingerprint, status, body FROM idempotency_keys
WHERE account_id = ? AND livemode = ? AND key = ? AND created >= ?`

// IdempotencyFind returns the response stored for key at or after since, or storage.ErrNoRows.
func (e *executor) IdempotencyFind(ctx context.Context, scope casapay.Scope, key string, since time.Time) (string, *casapay.Response, error) {
	var (
		fingerprint string
		r           casapay.Response
	)
	err := e.queryRow(ctx, findResponseSQL, scope.AccountID, scope.Livemode, key, since.Unix()).
		Scan(&fingerprint, &r.Status, &r.Body)
	if err != nil {
		return "", nil, interpret(err)
	}
	return fingerprint, &r, nil
}

// storeResponseSQL inserts a response. A row for the key can only be there if it expired (the lookup saw
// no live one in this same transaction), and then the new response replaces it.
const storeResponseSQL = `
INSERT INTO idempotency_keys (account_id, livemode, key, fingerprint, status, body, created)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account_id, livemode, key) DO UPDATE SET
	fingerprint = excluded.fingerprint,
	status = excluded.status,
	body = excluded.body,
	created = excluded.created`

// IdempotencyPut stores r under idem's key.
func (e *executor) IdempotencyPut(ctx context.Context, scope casapay.Scope, idem *casapay.Idempotency, r *casapay.Response) error {
	_, err := e.exec(ctx, storeResponseSQL,
		scope.AccountID, scope.Livemode, idem.Key, idem.Fingerprint, r.Status, r.Body, idem.Created.Unix())
	return err
}

// pruneIdempotencyKeysSQL deletes one chunk of old responses, found on idempotency_keys_created.
const pruneIdempotencyKeysSQL = `
DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created < ? ORDER BY created LIMIT ?)`

// IdempotencyPrune deletes at most limit stored responses created before cutoff.
func (e *executor) IdempotencyPrune(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	return e.execCount(ctx, pruneIdempotencyKeysSQL, cutoff.Unix(), limit)
}
