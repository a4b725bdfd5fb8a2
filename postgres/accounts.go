package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/casapay/casapay"
)

const insertAccount = `INSERT INTO accounts (id, name, created) VALUES ($1, $2, $3)`

const insertAPIKey = `
INSERT INTO api_keys (id, account_id, livemode, hash, last4, created, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

// CreateAccount stores a and keys in one transaction.
func (s *Store) CreateAccount(ctx context.Context, a *casapay.Account, keys []*casapay.APIKey) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return createAccount(ctx, tx, a, keys)
	})
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

// lockAccounts makes BootstrapAccount's check and insert one step. SHARE ROW EXCLUSIVE conflicts with
// itself and with the ROW EXCLUSIVE lock every INSERT takes, but not with reads: a second bootstrap, or
// a CreateAccount in flight, finishes first, and the check that follows (a new snapshot, since the
// transaction is READ COMMITTED) sees its account. It is a table lock, so it holds for this schema only.
const lockAccounts = `LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE`

const anyAccount = `SELECT EXISTS (SELECT 1 FROM accounts)`

// BootstrapAccount stores a and keys if the database has no account, and reports whether it did.
// Concurrent calls, from any number of processes, create at most one account.
func (s *Store) BootstrapAccount(ctx context.Context, a *casapay.Account, keys []*casapay.APIKey) (bool, error) {
	created := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockAccounts); err != nil {
			return fmt.Errorf("lock accounts: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, anyAccount).Scan(&exists); err != nil {
			return fmt.Errorf("look for an account: %w", err)
		}
		if exists {
			return nil
		}
		created = true
		return createAccount(ctx, tx, a, keys)
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap account: %w", err)
	}
	return created, nil
}

func createAccount(ctx context.Context, tx pgx.Tx, a *casapay.Account, keys []*casapay.APIKey) error {
	if _, err := tx.Exec(ctx, insertAccount, a.ID, a.Name, a.Created); err != nil {
		return fmt.Errorf("insert account %s: %w", a.ID, err)
	}
	for _, k := range keys {
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
	}
	return nil
}

// execer is what insertKey needs of a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertKey(ctx context.Context, db execer, k *casapay.APIKey) error {
	_, err := db.Exec(ctx, insertAPIKey, k.ID, k.AccountID, k.Livemode, k.Hash, k.Last4, k.Created, k.RevokedAt)
	if err != nil {
		return fmt.Errorf("insert api key %s: %w", k.ID, err)
	}
	return nil
}

// CreateAPIKey stores k, or returns resource_missing (param "account") if its account does not exist.
func (s *Store) CreateAPIKey(ctx context.Context, k *casapay.APIKey) error {
	err := insertKey(ctx, s.pool, k)
	if errors.Is(interpret(err), errForeignKey) {
		return casapay.NotFound("account", "account", k.AccountID)
	}
	return err
}

const selectAPIKey = `SELECT id, account_id, livemode, hash, last4, created, revoked_at FROM api_keys`

const listAPIKeys = selectAPIKey + ` WHERE account_id = $1 ORDER BY created, id`

const accountExists = `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)`

// ListAPIKeys returns the account's keys, revoked ones included, oldest first, or resource_missing
// (param "account") if the account does not exist.
func (s *Store) ListAPIKeys(ctx context.Context, accountID string) ([]*casapay.APIKey, error) {
	rows, err := s.pool.Query(ctx, listAPIKeys, accountID)
	if err != nil {
		return nil, fmt.Errorf("list api keys of %s: %w", accountID, err)
	}
	keys, err := pgx.CollectRows(rows, scanAPIKey)
	if err != nil {
		return nil, fmt.Errorf("list api keys of %s: %w", accountID, err)
	}
	if len(keys) > 0 {
		return keys, nil
	}
	// Accounts are never deleted, so asking only when there are no keys is not a race.
	var exists bool
	if err := s.pool.QueryRow(ctx, accountExists, accountID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look up account %s: %w", accountID, err)
	}
	if !exists {
		return nil, casapay.NotFound("account", "account", accountID)
	}
	return keys, nil
}

// revokeAPIKey keeps the first revocation time: revoking a revoked key changes nothing.
const revokeAPIKey = `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE account_id = $1 AND id = $2`

// RevokeAPIKey marks the account's key revoked at the given time, or returns resource_missing (param "id")
// if the account has no such key.
func (s *Store) RevokeAPIKey(ctx context.Context, accountID, keyID string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, revokeAPIKey, accountID, keyID, at)
	if err != nil {
		return fmt.Errorf("revoke api key %s: %w", keyID, err)
	}
	if tag.RowsAffected() == 0 {
		return casapay.NotFound("api key", "id", keyID)
	}
	return nil
}

const findAPIKey = selectAPIKey + ` WHERE hash = $1`

// FindAPIKey returns the key stored under hash, revoked or not, or resource_missing (param "key").
func (s *Store) FindAPIKey(ctx context.Context, hash string) (*casapay.APIKey, error) {
	rows, err := s.pool.Query(ctx, findAPIKey, hash)
	if err != nil {
		return nil, fmt.Errorf("find api key: %w", err)
	}
	k, err := pgx.CollectExactlyOneRow(rows, scanAPIKey)
	switch err := interpret(err); {
	case errors.Is(err, errNoRows):
		// The message names no key: all the store has is a hash, and the secret must never reach a
		// response or a log.
		return nil, casapay.NotFound("api key", "key", "…")
	case err != nil:
		return nil, fmt.Errorf("find api key: %w", err)
	}
	return k, nil
}

// scanAPIKey reads a row of selectAPIKey. Times come back in UTC, as NewAPIKey makes them; PostgreSQL
// keeps them to the microsecond.
func scanAPIKey(row pgx.CollectableRow) (*casapay.APIKey, error) {
	var k casapay.APIKey
	if err := row.Scan(&k.ID, &k.AccountID, &k.Livemode, &k.Hash, &k.Last4, &k.Created, &k.RevokedAt); err != nil {
		return nil, err
	}
	k.Created = k.Created.UTC()
	if k.RevokedAt != nil {
		at := k.RevokedAt.UTC()
		k.RevokedAt = &at
	}
	return &k, nil
}
