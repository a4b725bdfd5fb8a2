package casapay

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// IdempotencyWindow is how long a stored response answers retries of its key. After it, the key is free.
const IdempotencyWindow = 24 * time.Hour

// Idempotency identifies a write that carried an Idempotency-Key header. Fingerprint is a hash of the
// request (method, path and decoded parameters); Created is when the request arrived.
type Idempotency struct {
	Key         string
	Fingerprint string
	Created     time.Time
}

// Since returns the oldest creation time a stored response may have and still answer idem's key.
func (idem *Idempotency) Since() time.Time { return idem.Created.Add(-IdempotencyWindow) }

// Match decides what a request under idem gets from the response stored for its key, which was stored
// for the request whose fingerprint is given: that response to replay, or ErrIdempotencyMismatch.
func (idem *Idempotency) Match(fingerprint string, stored *Replay) (*Replay, error) {
	if fingerprint != idem.Fingerprint {
		return nil, ErrIdempotencyMismatch(idem.Key)
	}
	return stored, nil
}

// Replay is a stored response, answered again for a retry with the same key and the same request.
// Body is the JSON the first request answered with.
type Replay struct {
	Status int
	Body   []byte
}

// Store is CasaPay's storage: one contract, implemented by the sqlite and postgres packages and checked
// by storetest.Exercise. Methods are safe for concurrent use. Errors a client may see are *Error values;
// any other error is an outage.
//
// Every customer method takes the caller's Scope and sees only that account's objects in that mode:
// another scope's object is reported exactly as a missing one.
//
// The write methods that take an *Idempotency (nil when the request had no key) store the response in
// the same transaction as the write, scoped to the Scope and the key. When a response for the key is
// already stored within IdempotencyWindow, they write nothing and return it as a *Replay if the
// fingerprint matches, or ErrIdempotencyMismatch if it does not. A store that can see a concurrent
// request with the same key still in flight returns ErrIdempotencyInFlight; a store that serialises
// writes instead lets the later request wait and then replays the first one's response.
type Store interface {
	// CreateAccount stores an account and its first keys in one transaction.
	CreateAccount(ctx context.Context, a *Account, keys []*APIKey) error

	// BootstrapAccount is CreateAccount for a database that has no account yet: it stores a and keys and
	// returns true if the database holds no account, and otherwise stores nothing and returns false.
	// Concurrent calls on one database create at most one account.
	BootstrapAccount(ctx context.Context, a *Account, keys []*APIKey) (bool, error)

	// CreateAPIKey stores a key. It returns resource_missing (param "account") if the account does not exist.
	CreateAPIKey(ctx context.Context, k *APIKey) error

	// ListAPIKeys returns an account's keys, revoked ones included, oldest first. It returns
	// resource_missing (param "account") if the account does not exist.
	ListAPIKeys(ctx context.Context, accountID string) ([]*APIKey, error)

	// RevokeAPIKey marks a key of the account revoked at the given time. It returns resource_missing
	// (param "id") if the account has no such key; revoking a revoked key changes nothing.
	RevokeAPIKey(ctx context.Context, accountID, keyID string, at time.Time) error

	// FindAPIKey returns the key stored under hash, revoked or not, or resource_missing.
	FindAPIKey(ctx context.Context, hash string) (*APIKey, error)

	// CreateCustomer stores c, which NewCustomer built, unless idem replays (see Store).
	CreateCustomer(ctx context.Context, scope Scope, c *Customer, idem *Idempotency) (*Replay, error)

	// FindCustomer returns a customer, deleted ones included (with Deleted set), or resource_missing
	// with param "id".
	FindCustomer(ctx context.Context, scope Scope, id string) (*Customer, error)

	// UpdateCustomer applies p (see Customer.Apply) to a customer in one transaction and returns the
	// result, unless idem replays (see Store). It returns resource_missing with param "id" for a missing
	// or deleted customer, and Apply's error if the result would be invalid; neither is stored under idem.
	UpdateCustomer(ctx context.Context, scope Scope, id string, p *CustomerParams, idem *Idempotency) (*Customer, *Replay, error)

	// DeleteCustomer marks a customer deleted. It returns resource_missing with param "id" for a missing
	// or already deleted customer.
	DeleteCustomer(ctx context.Context, scope Scope, id string) error

	// ListCustomers returns a page of the scope's customers that are not deleted, newest first (by created,
	// then by ID), and whether more match beyond the page in the direction of travel. A cursor that names
	// no customer in scope gives resource_missing with param "starting_after" or "ending_before".
	// The cost of a page does not depend on its position in the list.
	ListCustomers(ctx context.Context, scope Scope, f CustomerFilter) (page []*Customer, hasMore bool, err error)

	// ImportCustomers stores customers that NewCustomer built, all in scope, in as few transactions as
	// the store likes; it takes no idempotency key. It is for bulk loads, such as a merchant's existing
	// tenants or a benchmark's seed, and fails on an ID that already exists.
	ImportCustomers(ctx context.Context, scope Scope, cs []*Customer) error

	// PruneIdempotencyKeys deletes stored responses created before cutoff and returns how many it deleted.
	PruneIdempotencyKeys(ctx context.Context, cutoff time.Time) (int64, error)

	// Close releases the store's connections. No method may be called after it.
	Close() error
}

// NewReplay returns the stored form of a response: its status and v's JSON. Stores call it inside the
// write's transaction, so what a retry replays is exactly what the first request answered.
func NewReplay(status int, v any) (*Replay, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode stored response: %w", err)
	}
	return &Replay{Status: status, Body: body}, nil
}
