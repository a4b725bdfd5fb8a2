package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casapay/casapay"
)

// AccountExecutor runs the statements of accounts and API keys.
type AccountExecutor interface {
	// AccountInsert inserts a.
	AccountInsert(ctx context.Context, a *casapay.Account) error
	// AccountsLock keeps other transactions from adding accounts until this one ends, so that checking
	// for an account and inserting one are one step. A dialect whose writes already exclude each other
	// may do nothing.
	AccountsLock(ctx context.Context) error
	// AccountAny reports whether any account exists.
	AccountAny(ctx context.Context) (bool, error)
	// AccountExists reports whether the account exists.
	AccountExists(ctx context.Context, id string) (bool, error)
	// APIKeyInsert inserts k; ErrMissingParent if its account does not exist.
	APIKeyInsert(ctx context.Context, k *casapay.APIKey) error
	// APIKeyList returns an account's keys, oldest first.
	APIKeyList(ctx context.Context, accountID string) ([]*casapay.APIKey, error)
	// APIKeyRevoke sets a key's revocation time unless it has one, and reports whether the account has the key.
	APIKeyRevoke(ctx context.Context, accountID, keyID string, at time.Time) (bool, error)
	// APIKeyByHash returns the key stored under hash, or ErrNoRows.
	APIKeyByHash(ctx context.Context, hash string) (*casapay.APIKey, error)
	// AccountRateLimitsSet sets an account's own rate limits (0 for none), and reports whether the
	// account exists.
	AccountRateLimitsSet(ctx context.Context, accountID string, l casapay.RateLimits) (bool, error)
	// AccountRateLimitsGet returns an account's own rate limits, or ErrNoRows.
	AccountRateLimitsGet(ctx context.Context, accountID string) (casapay.RateLimits, error)
	// AccountFingerprintKey returns an account's fingerprint key, or ErrNoRows.
	AccountFingerprintKey(ctx context.Context, accountID string) ([]byte, error)
}

var _ casapay.AccountStore = (*Store)(nil)

// CreateAccount stores a and keys in one transaction.
func (s *Store) CreateAccount(ctx context.Context, a *casapay.Account, keys []*casapay.APIKey) error {
	return s.d.InTx(ctx, func(ctx context.Context, ex Executor) error { return insertAccount(ctx, ex, a, keys) })
}

// BootstrapAccount stores a and keys if the database has no account, and reports whether it did.
// Concurrent calls, from any number of processes, create at most one account.
func (s *Store) BootstrapAccount(ctx context.Context, a *casapay.Account, keys []*casapay.APIKey) (bool, error) {
	created := false
	err := s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
		created = false
		if err := ex.AccountsLock(ctx); err != nil {
			return fmt.Errorf("lock accounts: %w", err)
		}
		exists, err := ex.AccountAny(ctx)
		if err != nil {
			return fmt.Errorf("look for an account: %w", err)
		}
		if exists {
			return nil
		}
		created = true
		return insertAccount(ctx, ex, a, keys)
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap account: %w", err)
	}
	return created, nil
}

func insertAccount(ctx context.Context, ex Executor, a *casapay.Account, keys []*casapay.APIKey) error {
	if len(a.FingerprintKey) == 0 {
		a.FingerprintKey = casapay.NewFingerprintKey()
	}
	if err := ex.AccountInsert(ctx, a); err != nil {
		return fmt.Errorf("insert account %s: %w", a.ID, err)
	}
	for _, k := range keys {
		if err := ex.APIKeyInsert(ctx, k); err != nil {
			return fmt.Errorf("insert api key %s: %w", k.ID, err)
		}
	}
	return nil
}

// CreateAPIKey stores k, or returns resource_missing (param "account") if its account does not exist.
func (s *Store) CreateAPIKey(ctx context.Context, k *casapay.APIKey) error {
	err := s.d.InTx(ctx, func(ctx context.Context, ex Executor) error { return ex.APIKeyInsert(ctx, k) })
	switch {
	case errors.Is(err, ErrMissingParent):
		// api_keys has one reference, so the missing row is the account.
		return casapay.NotFound("account", "account", k.AccountID)
	case err != nil:
		return fmt.Errorf("insert api key %s: %w", k.ID, err)
	}
	return nil
}

// ListAPIKeys returns an account's keys, revoked ones included, oldest first, or resource_missing
// (param "account") if the account does not exist.
func (s *Store) ListAPIKeys(ctx context.Context, accountID string) ([]*casapay.APIKey, error) {
	var keys []*casapay.APIKey
	err := s.d.InReadTx(ctx, func(ctx context.Context, ex Executor) error {
		exists, err := ex.AccountExists(ctx, accountID)
		if err != nil {
			return fmt.Errorf("look up account %s: %w", accountID, err)
		}
		if !exists {
			return casapay.NotFound("account", "account", accountID)
		}
		if keys, err = ex.APIKeyList(ctx, accountID); err != nil {
			return fmt.Errorf("list api keys of %s: %w", accountID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// RevokeAPIKey marks the account's key revoked at the given time, or returns resource_missing (param
// "id") if the account has no such key. Revoking a revoked key keeps the first time, and tells running
// processes again.
func (s *Store) RevokeAPIKey(ctx context.Context, accountID, keyID string, at time.Time) error {
	return s.changeKeys(ctx, "api key "+keyID+" is revoked", casapay.NotFound("api key", "id", keyID),
		func(ctx context.Context, ex Executor) (bool, error) {
			found, err := ex.APIKeyRevoke(ctx, accountID, keyID, at)
			if err != nil {
				return false, fmt.Errorf("revoke api key %s: %w", keyID, err)
			}
			return found, nil
		})
}

// changeKeys runs change, a write that reports whether the row it changes exists, in a transaction,
// and answers missing if it does not. Once the change has committed, it tells running processes that
// what a key lookup returns has changed (see KeyWatcher); done says what was done, for the error of a
// notice that failed.
func (s *Store) changeKeys(ctx context.Context, done string, missing error,
	change func(ctx context.Context, ex Executor) (bool, error)) error {
	err := s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
		found, err := change(ctx, ex)
		if err == nil && !found {
			err = missing
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := s.keys.changed(ctx); err != nil {
		return fmt.Errorf("%s, but running servers were not told, so they may go by the old for up to %v more: %w", done, KeyCacheTTL, err)
	}
	return nil
}

// FindAPIKey returns the key stored under hash, revoked or not, or resource_missing (param "key"). The
// error names no key: the store knows only the hash, and the secret must never reach a response or a log.
// A key found is kept and answered again without a read until its driver's KeysVersion moves, or for at
// most KeyCacheTTL.
func (s *Store) FindAPIKey(ctx context.Context, hash string) (*casapay.APIKey, error) {
	return s.keys.find(hash, func() (*casapay.APIKey, error) {
		k, err := s.d.Executor().APIKeyByHash(ctx, hash)
		switch {
		case errors.Is(err, ErrNoRows):
			return nil, casapay.NotFound("api key", "key", "…")
		case err != nil:
			return nil, fmt.Errorf("find api key: %w", err)
		}
		return k, nil
	})
}

// SetAccountRateLimits sets the account's own rate limits, or returns resource_missing (param
// "account") if it does not exist.
func (s *Store) SetAccountRateLimits(ctx context.Context, accountID string, l casapay.RateLimits) error {
	for _, n := range []int{l.Live, l.Test} {
		if n < 0 || n > casapay.MaxRateLimit {
			return fmt.Errorf("set rate limits of %s: %d requests per second is not 0 (the server's) or 1 to %d", accountID, n, casapay.MaxRateLimit)
		}
	}
	// A key lookup answers its account's own limit: running processes must read their keys again.
	return s.changeKeys(ctx, "rate limits of "+accountID+" are set", casapay.NotFound("account", "account", accountID),
		func(ctx context.Context, ex Executor) (bool, error) {
			found, err := ex.AccountRateLimitsSet(ctx, accountID, l)
			if err != nil {
				return false, fmt.Errorf("set rate limits of %s: %w", accountID, err)
			}
			return found, nil
		})
}

// AccountRateLimits returns the account's own rate limits, or resource_missing (param "account").
func (s *Store) AccountRateLimits(ctx context.Context, accountID string) (casapay.RateLimits, error) {
	l, err := s.d.Executor().AccountRateLimitsGet(ctx, accountID)
	switch {
	case errors.Is(err, ErrNoRows):
		return casapay.RateLimits{}, casapay.NotFound("account", "account", accountID)
	case err != nil:
		return casapay.RateLimits{}, fmt.Errorf("read rate limits of %s: %w", accountID, err)
	}
	return l, nil
}

// FingerprintKey returns the fingerprint key of scope, or resource_missing (param "account").
func (s *Store) FingerprintKey(ctx context.Context, scope casapay.Scope) ([]byte, error) {
	return fingerprintKey(ctx, s.d.Executor(), scope)
}

// fingerprintKey reads scope's account's key and returns the key of scope's mode.
func fingerprintKey(ctx context.Context, ex Executor, scope casapay.Scope) ([]byte, error) {
	key, err := ex.AccountFingerprintKey(ctx, scope.AccountID)
	if key, err = found(key, err, "account", "account", scope.AccountID); err != nil {
		return nil, err
	}
	return casapay.ModeFingerprintKey(key, scope.Livemode)
}
