package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

// writeIdempotent runs fn as one write request (see Store.write) under idem (nil when the request had
// no key) and returns the stored response to replay, if any. fn must run its statements with the
// context it is given, not the caller's.
//
// A response stored for the key within casapay.IdempotencyWindow is returned as a replay, or rejected
// with ErrIdempotencyMismatch if the fingerprint differs, and fn does not run. Otherwise fn runs, and
// its result is stored as a 200 response inside the same request's savepoint, so the write and its
// stored response commit together or not at all; an error from fn is returned, and nothing is stored.
//
// This store never answers ErrIdempotencyInFlight. Every write runs on the one writer, one request at a
// time, so a concurrent request with the same key cannot see the first one in flight. If the writer
// runs both in one batch, the later one finds the earlier one's record in the batch's transaction and
// replays it; the replay is answered, like every answer, only once that transaction has committed, so
// it never replays a response that was then lost.
func (s *Store) writeIdempotent(ctx context.Context, scope casapay.Scope, idem *casapay.Idempotency,
	fn func(ctx context.Context, tx *sql.Tx) (any, error)) (*casapay.Replay, error) {
	var replay *casapay.Replay
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if idem != nil {
			r, err := s.findResponse(ctx, tx, scope, idem)
			if err != nil {
				return err
			}
			if r != nil {
				replay = r
				return nil
			}
		}
		result, err := fn(ctx, tx)
		if err != nil || idem == nil {
			return err
		}
		r, err := casapay.NewReplay(http.StatusOK, result)
		if err != nil {
			return err
		}
		return s.storeResponse(ctx, tx, scope, idem, r)
	})
	if err != nil {
		return nil, err
	}
	return replay, nil
}

const findResponseSQL = `
SELECT fingerprint, status, body FROM idempotency_keys
WHERE account_id = ? AND livemode = ? AND key = ? AND created >= ?`

// findResponse returns the response stored for idem's key within the window, nil if there is none, or
// ErrIdempotencyMismatch if it was stored for a different request.
func (s *Store) findResponse(ctx context.Context, tx *sql.Tx, scope casapay.Scope, idem *casapay.Idempotency) (*casapay.Replay, error) {
	var (
		fingerprint string
		r           casapay.Replay
	)
	since := idem.Since().Unix()
	err := s.queryRow(ctx, tx, findResponseSQL, scope.AccountID, scope.Livemode, idem.Key, since).
		Scan(&fingerprint, &r.Status, &r.Body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("find idempotency key: %w", interpret(err))
	}
	return idem.Match(fingerprint, &r)
}

// storeResponseSQL inserts a response. A row for the key can only be there if it expired (findResponse
// saw no live one in this same transaction), and then the new response replaces it.
const storeResponseSQL = `
INSERT INTO idempotency_keys (account_id, livemode, key, fingerprint, status, body, created)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account_id, livemode, key) DO UPDATE SET
	fingerprint = excluded.fingerprint,
	status = excluded.status,
	body = excluded.body,
	created = excluded.created`

func (s *Store) storeResponse(ctx context.Context, tx *sql.Tx, scope casapay.Scope, idem *casapay.Idempotency, r *casapay.Replay) error {
	_, err := s.exec(ctx, tx, storeResponseSQL,
		scope.AccountID, scope.Livemode, idem.Key, idem.Fingerprint, r.Status, r.Body, idem.Created.Unix())
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", interpret(err))
	}
	return nil
}

const pruneIdempotencyKeysSQL = `DELETE FROM idempotency_keys WHERE created < ?`

// PruneIdempotencyKeys deletes stored responses created before cutoff and returns how many it deleted.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, pruneIdempotencyKeysSQL, cutoff.Unix())
		if err != nil {
			return fmt.Errorf("prune idempotency keys: %w", interpret(err))
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("prune idempotency keys: %w", interpret(err))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
