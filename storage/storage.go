// Package storage is CasaPay's storage written once, above the SQL dialects: transactions, the
// idempotency flow, the rules of each resource (what is missing, what may change), event recording,
// cursors and has_more. It implements casapay.Store on any Driver. The sqlite and postgres packages are
// Drivers: each offers transactions and an Executor of primitive statements in its own SQL, and nothing
// else, as river's client is written once above riverdriver.Executor.
package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casapay/casapay"
)

// Errors a Driver returns for the outcomes the orchestration acts on. Each driver recognises them in
// its library's errors in one place, by value or code, and wraps them, keeping the original in the
// chain for the log; callers test with errors.Is. They are not *casapay.Error values: only the caller
// knows which object and which parameter a missing row is about.
var (
	// ErrNoRows: a statement that reads one row found none.
	ErrNoRows = errors.New("no rows")
	// ErrDuplicate: an insert broke a primary key or a unique constraint.
	ErrDuplicate = errors.New("a row with this key already exists")
	// ErrMissingParent: an insert named a row (an account, say) that does not exist.
	ErrMissingParent = errors.New("a referenced row does not exist")
	// ErrConflict: the database aborted the transaction for another one (a deadlock, a serialization
	// failure); run again, it may succeed.
	ErrConflict = errors.New("the transaction conflicted with another")
)

// Driver is one SQL dialect's store: transactions, and executors of primitive statements.
type Driver interface {
	// InTx runs fn in a read-write transaction, committing it if fn returns nil and rolling it back
	// otherwise; fn's error is returned as it is. fn must run every statement on the Executor and with
	// the context it is given. A client that goes away cannot cancel the commit: once fn has returned nil,
	// InTx reports what the commit did, never the caller's cancellation instead. fn runs once.
	//
	// A driver may hold the writes whose only result is an error (inserts, and updates that report no
	// count) and send them with the transaction's next statement, or with the commit, to save round
	// trips. Such a write's failure is then reported by a later method, or by InTx, naming the write; it
	// fails the transaction all the same. So fn must not act on such a write's error other than by
	// returning it.
	InTx(ctx context.Context, fn func(ctx context.Context, ex Executor) error) error

	// InReadTx runs fn in a read-only transaction whose statements all see one snapshot.
	InReadTx(ctx context.Context, fn func(ctx context.Context, ex Executor) error) error

	// Executor returns an executor outside any transaction, for reads of one statement, each its own
	// snapshot. It must not be used to write.
	Executor() Executor
}

// Executor runs one dialect's primitive statements: each method is one statement, or a few that make
// one step (a bulk insert in chunks). Reads of one row return ErrNoRows when there is none. Every
// method that touches a resource takes the Scope and filters on it.
type Executor interface {
	AccountExecutor
	CustomerExecutor
	PaymentMethodExecutor
	BalanceTransactionExecutor
	WebhookEndpointExecutor
	WebhookDeliveryExecutor
	EventExecutor
	IdempotencyExecutor
}

// Keyset is where a list page starts: the position (Created, ID) of the cursor's row. Pages read from
// it away from the cursor: older rows, newest first, or with Newer (ending_before), newer rows, oldest
// first, which the orchestration turns around.
type Keyset struct {
	Created int64
	ID      string
	Newer   bool
}

// found returns v, read as one row: for ErrNoRows, the resource_missing error a client sees for the
// kind of object whose id param named; for any other error, err with what was being read.
func found[T any](v T, err error, kind, param, id string) (T, error) {
	var zero T
	switch {
	case errors.Is(err, ErrNoRows):
		return zero, casapay.NotFound(kind, param, id)
	case err != nil:
		return zero, fmt.Errorf("find %s %s: %w", kind, id, err)
	}
	return v, nil
}

// Store implements casapay.Store on a Driver. Its only state beyond the driver is the cache of API keys
// it has looked up (see KeyWatcher), which the Stores of one driver share. Close belongs to the driver.
type Store struct {
	d    Driver
	now  func() time.Time
	keys *keyCache
}

// New returns the Store that runs on d, with the system clock.
func New(d Driver) *Store { return &Store{d: d, now: time.Now, keys: newKeyCache(d)} }

// WithClock returns a Store on the same driver, sharing its key cache, whose clock is now: it stamps the
// events of updates and deletes, and of writes whose request has no time. It is for tests that need
// known times.
func (s *Store) WithClock(now func() time.Time) *Store { return &Store{d: s.d, now: now, keys: s.keys} }
