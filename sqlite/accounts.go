package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/casapay/casapay"
)

const insertAccountSQL = `INSERT INTO accounts (id, name, created) VALUES (?, ?, ?)`

// CreateAccount stores an account and its first keys in one transaction.
func (s *Store) CreateAccount(ctx context.Context, a *casapay.Account, keys []*casapay.APIKey) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.insertAccount(ctx, tx, a, keys) })
}

const anyAccountSQL = `SELECT EXISTS (SELECT 1 FROM accounts)`

// BootstrapAccount stores a and keys if the database holds no account yet, and reports whether it did.
func (s *Store) BootstrapAccount(ctx context.Context, a *casapay.Account, keys []*casapay.APIKey) (bool, error) {
	created := false
	// The check and the insert share one write transaction, and BEGIN IMMEDIATE took the file's write lock
	// before the check, so no other bootstrap, in this process or another, can run between them; within
	// this process, the writer runs one request at a time.
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var exists bool
		if err := s.queryRow(ctx, tx, anyAccountSQL).Scan(&exists); err != nil {
			return fmt.Errorf("check for accounts: %w", interpret(err))
		}
		if exists {
			return nil
		}
		created = true
		return s.insertAccount(ctx, tx, a, keys)
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

func (s *Store) insertAccount(ctx context.Context, tx *sql.Tx, a *casapay.Account, keys []*casapay.APIKey) error {
	if _, err := s.exec(ctx, tx, insertAccountSQL, a.ID, a.Name, a.Created.Unix()); err != nil {
		return fmt.Errorf("insert account %s: %w", a.ID, interpret(err))
	}
	for _, k := range keys {
		if err := s.insertAPIKey(ctx, tx, k); err != nil {
			return err
		}
	}
	return nil
}

const insertAPIKeySQL = `
INSERT INTO api_keys (id, account_id, livemode, hash, last4, created, revoked_at)
VALUES (?, ?, ?, ?, ?, ?, ?)`

// CreateAPIKey stores a key, or returns resource_missing (param "account") if its account does not exist.
func (s *Store) CreateAPIKey(ctx context.Context, k *casapay.APIKey) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.insertAPIKey(ctx, tx, k) })
	if errors.Is(err, errMissingParent) {
		// api_keys has one foreign key, so the missing row is the account.
		return casapay.NotFound("account", "account", k.AccountID)
	}
	return err
}

func (s *Store) insertAPIKey(ctx context.Context, tx *sql.Tx, k *casapay.APIKey) error {
	var revokedAt *int64
	if k.RevokedAt != nil {
		at := k.RevokedAt.Unix()
		revokedAt = &at
	}
	_, err := s.exec(ctx, tx, insertAPIKeySQL, k.ID, k.AccountID, k.Livemode, k.Hash, k.Last4, k.Created.Unix(), revokedAt)
	if err != nil {
		return fmt.Errorf("insert api key %s: %w", k.ID, interpret(err))
	}
	return nil
}

const (
	apiKeyColumns = `id, account_id, livemode, hash, last4, created, revoked_at`

	accountExistsSQL = `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`
	listAPIKeysSQL   = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE account_id = ? ORDER BY created, id`
)

// ListAPIKeys returns an account's keys, revoked ones included, oldest first, or resource_missing
// (param "account") if the account does not exist.
func (s *Store) ListAPIKeys(ctx context.Context, accountID string) ([]*casapay.APIKey, error) {
	// Both statements are prepared before the read transaction holds a connection (see stmtCache.prepare).
	accountExists, err := s.reads.prepare(ctx, accountExistsSQL)
	if err != nil {
		return nil, fmt.Errorf("check account %s: %w", accountID, err)
	}
	listAPIKeys, err := s.reads.prepare(ctx, listAPIKeysSQL)
	if err != nil {
		return nil, fmt.Errorf("list api keys of %s: %w", accountID, err)
	}
	var keys []*casapay.APIKey
	// One read transaction, so a key list is never paired with an account check from another moment.
	err = s.read(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.StmtContext(ctx, accountExists).QueryRowContext(ctx, accountID).Scan(&exists); err != nil {
			return fmt.Errorf("check account %s: %w", accountID, interpret(err))
		}
		if !exists {
			return casapay.NotFound("account", "account", accountID)
		}
		rows, err := tx.StmtContext(ctx, listAPIKeys).QueryContext(ctx, accountID)
		if err != nil {
			return fmt.Errorf("list api keys of %s: %w", accountID, interpret(err))
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanAPIKey(rows)
			if err != nil {
				return fmt.Errorf("list api keys of %s: %w", accountID, err)
			}
			keys = append(keys, k)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list api keys of %s: %w", accountID, interpret(err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// revokeAPIKeySQL keeps the first revocation time: revoking a revoked key changes nothing. SQLite counts
// the row as changed anyway, which is what tells a revoked key from a missing one.
const revokeAPIKeySQL = `
UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?)
WHERE account_id = ? AND id = ?`

// RevokeAPIKey marks a key of the account revoked at the given time, or returns resource_missing
// (param "id") if the account has no such key.
func (s *Store) RevokeAPIKey(ctx context.Context, accountID, keyID string, at time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, revokeAPIKeySQL, at.Unix(), accountID, keyID)
		if err != nil {
			return fmt.Errorf("revoke api key %s: %w", keyID, interpret(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("revoke api key %s: %w", keyID, interpret(err))
		}
		if n == 0 {
			return casapay.NotFound("api key", "id", keyID)
		}
		return nil
	})
}

const findAPIKeySQL = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE hash = ?`

// FindAPIKey returns the key stored under hash, revoked or not, or resource_missing (param "key"). The
// error names no key: the store knows only the hash, and the caller words the message with the masked
// secret it was given.
func (s *Store) FindAPIKey(ctx context.Context, hash string) (*casapay.APIKey, error) {
	find, err := s.reads.prepare(ctx, findAPIKeySQL)
	if err != nil {
		return nil, fmt.Errorf("find api key: %w", err)
	}
	k, err := scanAPIKey(find.QueryRowContext(ctx, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, casapay.NotFound("api key", "key", "…")
	}
	if err != nil {
		return nil, fmt.Errorf("find api key: %w", err)
	}
	return k, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanAPIKey reads apiKeyColumns.
func scanAPIKey(row scanner) (*casapay.APIKey, error) {
	var (
		k         casapay.APIKey
		created   int64
		revokedAt *int64
	)
	if err := row.Scan(&k.ID, &k.AccountID, &k.Livemode, &k.Hash, &k.Last4, &created, &revokedAt); err != nil {
		return nil, interpret(err)
	}
	k.Created = time.Unix(created, 0).UTC()
	if revokedAt != nil {
		at := time.Unix(*revokedAt, 0).UTC()
		k.RevokedAt = &at
	}
	return &k, nil
}
