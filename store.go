package casapay

import (
	"context"
	"time"
)

// Store is CasaPay's storage: the contract the sqlite and postgres packages implement, each through
// storage.Store, and storetest.Exercise checks. It is the union of one small interface per resource.
// Methods are safe for concurrent use. Errors a client may see are *Error values; any other error is an
// outage.
type Store interface {
	AccountStore
	CustomerStore
	PaymentMethodStore
	BalanceTransactionStore
	WebhookEndpointStore
	WebhookDeliveryStore
	EventStore
	Pruner

	// Close releases the store's connections. No method may be called after it.
	Close() error
}

// AccountStore keeps accounts and their API keys. Its methods are the administration's and the
// authentication's: they take no Scope, because they are what a Scope is made from.
type AccountStore interface {
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

	// RevokeAPIKey marks a key of the account revoked at the given time: every process refuses it within
	// a second, and in practice from its next request. It returns resource_missing (param "id") if the
	// account has no such key; revoking a revoked key changes nothing.
	RevokeAPIKey(ctx context.Context, accountID, keyID string, at time.Time) error

	// FindAPIKey returns the key stored under hash, revoked or not, or resource_missing.
	FindAPIKey(ctx context.Context, hash string) (*APIKey, error)

	// SetAccountRateLimits sets an account's own rate limits, Live and Test requests per second, each 0
	// for the server's (l.Off is not kept). Every process sees them within a second, and in practice
	// from its next request of the account.
	// It returns resource_missing (param "account") if the account does not exist.
	SetAccountRateLimits(ctx context.Context, accountID string, l RateLimits) error

	// AccountRateLimits returns an account's own rate limits, as SetAccountRateLimits set them, or
	// resource_missing (param "account").
	AccountRateLimits(ctx context.Context, accountID string) (RateLimits, error)

	// FingerprintKey returns the key of scope's payment method fingerprints (see ModeFingerprintKey), or
	// resource_missing (param "account").
	FingerprintKey(ctx context.Context, scope Scope) ([]byte, error)
}

// CustomerStore keeps customers.
//
// Every method takes the caller's Scope and sees only that account's objects in that mode: another
// scope's object is reported exactly as a missing one.
//
// Every write records its event (customer.created, customer.updated, customer.deleted) in the same
// transaction as the change, so both are stored or neither is, and stores its response under
// req.Idempotency (when set) in that transaction too. When a response for the key is already stored
// within IdempotencyWindow, a write changes and records nothing and answers that response, Replayed, if
// the fingerprint matches, or ErrIdempotencyMismatch if it does not. A store that can see a concurrent
// request with the same key still in flight returns ErrIdempotencyInFlight; a store that serialises
// writes instead lets the later request wait and then replays the first one's response. A write that
// fails stores nothing under the key, so a retry runs afresh.
type CustomerStore interface {
	// CreateCustomer stores c, which NewCustomer built. When c names a payment method (create's
	// payment_method), it attaches it to c in the same transaction, as AttachPaymentMethod does, and makes
	// it c's default: a test token makes a new one. It returns 400 resource_missing (param
	// "payment_method") for a payment method the scope does not have, and the attach's errors (a
	// decline, a payment method attached elsewhere), storing nothing. It records customer.created, then
	// payment_method.attached. req.Expand may name "default_payment_method".
	CreateCustomer(ctx context.Context, scope Scope, c *Customer, req Request) (*Response, error)

	// FindCustomer returns a customer, deleted ones included (with Deleted set), or resource_missing
	// with param "id". expand may name "default_payment_method", which a customer that is not deleted
	// then holds in DefaultPaymentMethodObject.
	FindCustomer(ctx context.Context, scope Scope, id string, expand ...string) (*Customer, error)

	// UpdateCustomer applies p (see Customer.Apply) to a customer and returns the result, nil when the
	// response is replayed. It returns resource_missing with param "id" for a missing or deleted customer,
	// 400 resource_missing with param "default_payment_method" for a payment method that is not attached
	// to the customer (a test token is attached first, as AttachPaymentMethod does), and Apply's error if
	// the result would be invalid. An update that changes nothing records no event.
	UpdateCustomer(ctx context.Context, scope Scope, id string, p *CustomerParams, req Request) (*Customer, *Response, error)

	// DeleteCustomer marks a customer deleted, detaches its payment methods, and answers its deleted
	// stub. It returns resource_missing with param "id" for a missing or already deleted customer. It
	// records customer.deleted and a payment_method.detached for each payment method.
	DeleteCustomer(ctx context.Context, scope Scope, id string, req Request) (*Response, error)

	// ListCustomers returns a page of the scope's customers that are not deleted, newest first (by created,
	// then by ID), and whether more match beyond the page in the direction of travel. A cursor that names
	// no customer in scope gives resource_missing with param "starting_after" or "ending_before".
	// The cost of a page does not depend on its position in the list. f.Expand may name
	// "default_payment_method".
	ListCustomers(ctx context.Context, scope Scope, f CustomerFilter) (page []*Customer, hasMore bool, err error)

	// ImportCustomers stores customers that NewCustomer built, all in scope, in one transaction; it takes
	// no idempotency key and records no events. It is for bulk loads, such as a merchant's existing
	// tenants or a benchmark's seed, and fails on an ID that already exists.
	ImportCustomers(ctx context.Context, scope Scope, cs []*Customer) error
}

// PaymentMethodStore keeps payment methods. Scopes and idempotency are as for CustomerStore; writes
// that attach, detach or change a payment method record payment_method.attached, .detached or .updated,
// and customer.updated when a customer's default_payment_method changes with them. req.Expand of a write,
// and the expand of a read, may name "customer".
type PaymentMethodStore interface {
	// CreatePaymentMethod stores pm, which NewPaymentMethod built, attached to no customer. It records
	// no event, as at Stripe.
	CreatePaymentMethod(ctx context.Context, scope Scope, pm *PaymentMethod, req Request) (*Response, error)

	// FindPaymentMethod returns a payment method, or resource_missing with param "id".
	FindPaymentMethod(ctx context.Context, scope Scope, id string, expand ...string) (*PaymentMethod, error)

	// UpdatePaymentMethod applies p (see PaymentMethod.Apply) to a payment method attached to a customer.
	// It returns resource_missing (param "id"), or payment_method_unexpected_state for one attached to
	// no customer. An update that changes nothing records no event.
	UpdatePaymentMethod(ctx context.Context, scope Scope, id string, p *PaymentMethodParams, req Request) (*Response, error)

	// AttachPaymentMethod attaches a payment method, or the new one a test token makes, to a customer
	// (see PaymentMethod.Attachable for what may be attached). It returns resource_missing with param "id"
	// for a missing payment method, 400 resource_missing with param "customer" for a missing or deleted
	// customer, and customer_max_payment_methods for a customer that has MaxCustomerPaymentMethods. An
	// attach to the customer it is attached to already answers it unchanged and records nothing.
	AttachPaymentMethod(ctx context.Context, scope Scope, id, customerID string, req Request) (*Response, error)

	// DetachPaymentMethod detaches a payment method from its customer, for good; if it was the
	// customer's default, the customer's default_payment_method becomes null in the same transaction.
	// It returns resource_missing (param "id"), or payment_method_unexpected_state for one attached to
	// no customer.
	DetachPaymentMethod(ctx context.Context, scope Scope, id string, req Request) (*Response, error)

	// ListPaymentMethods returns a page of the scope's payment methods, newest first, as ListCustomers
	// pages customers. With f.Customer it lists that customer's, and answers resource_missing (param
	// "customer") for a customer that is missing or deleted.
	ListPaymentMethods(ctx context.Context, scope Scope, f PaymentMethodFilter) (page []*PaymentMethod, hasMore bool, err error)
}

// BalanceTransactionStore keeps customers' balance ledgers. A customer's balance changes only through
// its ledger: each transaction is applied with the customer held, so at every moment the balance is the
// sum of the transactions, and each one's ending_balance the running sum in the order they were applied,
// which is the order of (created, id). Scopes and idempotency are as for CustomerStore.
type BalanceTransactionStore interface {
	// CreateBalanceTransaction adds an adjustment to a customer's ledger (p passed Validate(true)) and
	// changes its balance, and its currency the first time, recording customer.updated. It returns
	// resource_missing (param "id") for a missing or deleted customer, and a 400 for a currency other
	// than the customer's or a balance beyond ±MaxBalance, writing nothing.
	CreateBalanceTransaction(ctx context.Context, scope Scope, customerID string, p *BalanceTransactionParams, req Request) (*Response, error)

	// FindBalanceTransaction returns a transaction of a customer, deleted or not, or resource_missing.
	// expand may name "customer".
	FindBalanceTransaction(ctx context.Context, scope Scope, customerID, id string, expand ...string) (*BalanceTransaction, error)

	// UpdateBalanceTransaction changes a transaction's description and metadata; it records no event.
	UpdateBalanceTransaction(ctx context.Context, scope Scope, customerID, id string, p *BalanceTransactionParams, req Request) (*Response, error)

	// ListBalanceTransactions returns a page of a customer's transactions, deleted customers' too, newest
	// first, as ListCustomers pages customers.
	ListBalanceTransactions(ctx context.Context, scope Scope, f BalanceTransactionFilter) (page []*BalanceTransaction, hasMore bool, err error)
}

// WebhookEndpointStore keeps webhook endpoints. Scopes and idempotency are as for CustomerStore; changes
// to endpoints record no events.
type WebhookEndpointStore interface {
	// CreateWebhookEndpoint stores w, which NewWebhookEndpoint built, and answers it with its secret. It
	// returns webhook_endpoint_limit when the scope has MaxWebhookEndpoints already.
	CreateWebhookEndpoint(ctx context.Context, scope Scope, w *WebhookEndpoint, req Request) (*Response, error)

	// FindWebhookEndpoint returns an endpoint, without its secret shown, or resource_missing (param "id").
	FindWebhookEndpoint(ctx context.Context, scope Scope, id string) (*WebhookEndpoint, error)

	// UpdateWebhookEndpoint applies p (see WebhookEndpoint.Apply) to an endpoint.
	UpdateWebhookEndpoint(ctx context.Context, scope Scope, id string, p *WebhookEndpointParams, req Request) (*Response, error)

	// DeleteWebhookEndpoint deletes an endpoint and cancels its pending deliveries.
	DeleteWebhookEndpoint(ctx context.Context, scope Scope, id string, req Request) (*Response, error)

	// ListWebhookEndpoints returns a page of the scope's endpoints, newest first, as ListCustomers does.
	ListWebhookEndpoints(ctx context.Context, scope Scope, f WebhookEndpointFilter) (page []*WebhookEndpoint, hasMore bool, err error)
}

// WebhookEndpointFilter selects a page of webhook endpoints.
type WebhookEndpointFilter struct {
	Limit         int
	StartingAfter string
	EndingBefore  string
}

// PageSize returns how many endpoints a page of f holds, as CustomerFilter.PageSize does.
func (f WebhookEndpointFilter) PageSize() (int, error) {
	return pageSize(f.Limit, f.StartingAfter, f.EndingBefore)
}

// WebhookDeliveryStore is the outbox the deliverers read. Every event's deliveries are written with it,
// one per enabled endpoint of its scope that subscribes to its type; these methods claim them and record
// what came of each attempt. They serve every scope at once: they are the deliverer's, not a client's.
type WebhookDeliveryStore interface {
	// ClaimWebhookDeliveries leases up to limit deliveries due at now to enabled endpoints until now+lease,
	// leaving out those already leased, and taking no more for an endpoint than brings its deliveries
	// leased at once, by any process, to perEndpoint. Each delivery is leased to one caller at a time; a
	// caller that dies loses only its lease.
	ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit, perEndpoint int) ([]*WebhookDelivery, error)

	// RecordWebhookAttempts records attempts of deliveries the caller claimed, and their outcomes, all in
	// one transaction. Each changes its delivery only while the delivery's lease is still the one it was
	// claimed under; the attempt is recorded either way.
	RecordWebhookAttempts(ctx context.Context, outcomes []WebhookOutcome) error

	// WebhookDeliveryCurrent reports whether a claimed delivery may still be attempted: it is pending
	// under the lease it was claimed with, and its endpoint is enabled, at the URL it was claimed with.
	// A delivery claimed ahead asks before its attempt, so an endpoint disabled, deleted or moved
	// meanwhile gets nothing more.
	WebhookDeliveryCurrent(ctx context.Context, d *WebhookDelivery) (bool, error)
}

// EventStore reads the events that writes record. Events are written only by the writes themselves.
type EventStore interface {
	// FindEvent returns an event of the scope, or resource_missing with param "id".
	FindEvent(ctx context.Context, scope Scope, id string) (*Event, error)

	// ListEvents returns a page of the scope's events, newest first, as ListCustomers pages customers.
	ListEvents(ctx context.Context, scope Scope, f EventFilter) (page []*Event, hasMore bool, err error)
}

// Pruner deletes what has outlived its use. Each call deletes in bounded chunks, one transaction each,
// so other writes go on between them, and returns how many rows it deleted in all.
type Pruner interface {
	// PruneIdempotencyKeys deletes stored responses created before cutoff.
	PruneIdempotencyKeys(ctx context.Context, cutoff time.Time) (int64, error)

	// PruneEvents deletes events created before cutoff.
	PruneEvents(ctx context.Context, cutoff time.Time) (int64, error)

	// PruneWebhookDeliveries deletes webhook deliveries created before cutoff, and their attempts.
	PruneWebhookDeliveries(ctx context.Context, cutoff time.Time) (int64, error)
}
