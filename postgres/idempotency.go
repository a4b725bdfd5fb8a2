package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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

const findIdempotencyKey = `
SELECT fingerprint, status, body FROM idempotency_keys
WHERE account_id = $1 AND livemode = $2 AND key = $3 AND created >= $4`

// saveIdempotencyKey replaces an expired record of the key, if one is left: findIdempotencyKey, under the
// key's lock, found no live one.
const saveIdempotencyKey = `
INSERT INTO idempotency_keys (account_id, livemode, key, fingerprint, status, body, created)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (account_id, livemode, key) DO UPDATE
SET fingerprint = excluded.fingerprint, status = excluded.status, body = excluded.body, created = excluded.created`

// idempotent runs write in one transaction and, when idem is not nil, makes it idempotent under idem's key
// as casapay.Store describes: it either replays the stored response (result is then the zero T), or runs
// write and stores its result, as a 200 response, in the same transaction. Errors, those of write
// included, roll everything back, so they are never stored.
//
// Each key has a transaction-scoped advisory lock, which write holds from before it looks for a stored
// response until its transaction ends. The transaction's end is also the moment its stored response
// becomes visible to other transactions (PostgreSQL makes a commit visible before it releases the
// committing transaction's locks), so another request with the key, in any process, sees exactly one of
// two things: the lock taken, meaning the first request is still in flight (ErrIdempotencyInFlight), or
// the lock free and the outcome final: a stored response if the first request committed, nothing if it
// failed and the key is free again. Under READ COMMITTED each statement takes a fresh snapshot, so the
// lookup that follows the lock sees a commit that released it. Waiting for the lock instead of failing
// would hold a connection for as long as the first request runs; Stripe answers 409 here too.
func idempotent[T any](ctx context.Context, s *Store, scope casapay.Scope, idem *casapay.Idempotency, write func(pgx.Tx) (T, error)) (T, *casapay.Replay, error) {
	var zero T
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return zero, nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx) // a no-op once committed; on any error it discards every write

	if idem != nil {
		var locked bool
		if err := tx.QueryRow(ctx, tryIdempotencyLock, idempotencyLockKey(scope, idem.Key)).Scan(&locked); err != nil {
			return zero, nil, fmt.Errorf("lock idempotency key: %w", err)
		}
		if !locked {
			return zero, nil, casapay.ErrIdempotencyInFlight(idem.Key)
		}
		var fingerprint string
		var replay casapay.Replay
		err := tx.QueryRow(ctx, findIdempotencyKey, scope.AccountID, scope.Livemode, idem.Key,
			idem.Since()).Scan(&fingerprint, &replay.Status, &replay.Body)
		switch err := interpret(err); {
		case errors.Is(err, errNoRows):
		case err != nil:
			return zero, nil, fmt.Errorf("find idempotency key: %w", err)
		default:
			r, err := idem.Match(fingerprint, &replay)
			return zero, r, err
		}
	}

	result, err := write(tx)
	if err != nil {
		return zero, nil, err
	}
	if idem != nil {
		replay, err := casapay.NewReplay(http.StatusOK, result)
		if err != nil {
			return zero, nil, err
		}
		if _, err := tx.Exec(ctx, saveIdempotencyKey, scope.AccountID, scope.Livemode, idem.Key, idem.Fingerprint,
			replay.Status, replay.Body, idem.Created); err != nil {
			return zero, nil, fmt.Errorf("save idempotency key: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return zero, nil, fmt.Errorf("commit: %w", err)
	}
	return result, nil, nil
}

const pruneIdempotencyKeys = `DELETE FROM idempotency_keys WHERE created < $1`

// PruneIdempotencyKeys deletes stored responses created before cutoff and returns how many it deleted.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, pruneIdempotencyKeys, cutoff)
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
