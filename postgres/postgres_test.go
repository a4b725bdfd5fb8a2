package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/postgres"
	"github.com/casapay/casapay/storage"
	"github.com/casapay/casapay/storetest"
)

func TestStore(t *testing.T) { storetest.Exercise(t, storetest.OpenPostgres) }

func TestRateBudgets(t *testing.T) { storetest.RateBudgets(t, storetest.OpenPostgres) }

// TestSharedDatabase runs two stores on one schema, as two serve processes share one database: they
// migrate it together, and an idempotency key in flight through one is in use for the other.
func TestSharedDatabase(t *testing.T) {
	url := storetest.PostgresSchemaURL(t)
	ctx := t.Context()

	// Both open at once; the migration lock makes one wait for the other, and neither fails.
	var stores [2]*postgres.Store
	var errs [2]error
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(ctx, url) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("postgres.Open (store %d): %v", i, errs[i])
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close store %d: %v", i, err)
			}
		})
	}
	a, b := stores[0], stores[1]

	now := time.Unix(1706140800, 0)
	account := &casapay.Account{ID: casapay.NewID("acct"), Name: "Shared", Created: now}
	if err := a.CreateAccount(ctx, account, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	scope := casapay.Scope{AccountID: account.ID}
	idem := &casapay.Idempotency{Key: "shared-key", Fingerprint: "fingerprint", Created: now}
	newCustomer := func() *casapay.Customer {
		t.Helper()
		c, err := casapay.NewCustomer(scope, &casapay.CustomerParams{Name: new("Jane Doe")}, now)
		if err != nil {
			t.Fatalf("NewCustomer: %v", err)
		}
		return c
	}

	// A request through a holds the key's lock, paused before its write.
	first := newCustomer()
	paused, resume := make(chan struct{}), make(chan struct{})
	pausing := storage.New(storetest.WrapDriver(a, func(ex storage.Executor) storage.Executor {
		return pausedInsert{ex, paused, resume}
	}))
	type result struct {
		replay *casapay.Response
		err    error
	}
	done := make(chan result, 1)
	go func() {
		replay, err := pausing.CreateCustomer(ctx, scope, first, casapay.Request{Idempotency: idem})
		done <- result{replay, err}
	}()
	select {
	case <-paused:
	case r := <-done:
		t.Fatalf("paused CreateCustomer returned before its write: replay %v, err %v", r.replay, r.err)
	}

	// The same key through b is in use, and b writes nothing.
	second := newCustomer()
	replay, err := b.CreateCustomer(ctx, scope, second, casapay.Request{Idempotency: idem})
	if e, ok := errors.AsType[*casapay.Error](err); !ok || e.Code != casapay.CodeIdempotencyKeyInUse || e.Status != 409 {
		t.Fatalf("CreateCustomer during the paused request = %v, %v; want a 409 %s", replay, err, casapay.CodeIdempotencyKeyInUse)
	}
	if _, err := b.FindCustomer(ctx, scope, second.ID); !casapay.IsNotFound(err) {
		t.Errorf("FindCustomer(%s) after the rejected create: err = %v, want resource_missing", second.ID, err)
	}

	// Once the first request commits, b replays its response.
	close(resume)
	if r := <-done; r.err != nil || r.replay.Replayed {
		t.Fatalf("paused CreateCustomer = %v, %v; want a fresh write", r.replay, r.err)
	}
	replay, err = b.CreateCustomer(ctx, scope, second, casapay.Request{Idempotency: idem})
	if err != nil || !replay.Replayed {
		t.Fatalf("CreateCustomer after the first committed = %v, %v; want a replay", replay, err)
	}
	var got casapay.Customer
	if err := json.Unmarshal(replay.Body, &got); err != nil {
		t.Fatalf("decode replayed body: %v", err)
	}
	if replay.Status != 200 || got.ID != first.ID {
		t.Errorf("replay = %d with customer %s, want 200 with %s", replay.Status, got.ID, first.ID)
	}
}

// pausedInsert is an executor whose customer insert closes paused and waits for resume first: it holds
// the transaction, and the idempotency key's lock, as a slow request does.
type pausedInsert struct {
	storage.Executor
	paused chan<- struct{}
	resume <-chan struct{}
}

func (p pausedInsert) CustomerInsert(ctx context.Context, scope casapay.Scope, c *casapay.Customer) error {
	close(p.paused)
	<-p.resume
	return p.Executor.CustomerInsert(ctx, scope, c)
}

// TestMigrateAgain opens a store on a database that is already migrated: nothing is pending, and the
// data stays.
func TestMigrateAgain(t *testing.T) {
	url := storetest.PostgresSchemaURL(t)
	ctx := t.Context()
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatalf("postgres.Open: %v", err)
		}
		return s
	}
	s := open()
	account := &casapay.Account{ID: casapay.NewID("acct"), Name: "Kept", Created: time.Unix(1706140800, 0)}
	if err := s.CreateAccount(ctx, account, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = open()
	defer s.Close()
	if keys, err := s.ListAPIKeys(ctx, account.ID); err != nil || len(keys) != 0 {
		t.Errorf("ListAPIKeys(%s) after reopening = %v, %v; want no keys and no error", account.ID, keys, err)
	}
}

// TestCollectors registers a store's pool statistics in a registry, as the server does, and reads them
// after a write has used the pool.
func TestCollectors(t *testing.T) {
	s := storetest.OpenPostgres(t).(*postgres.Store)
	a := &casapay.Account{ID: casapay.NewID("acct"), Name: "Metered", Created: time.Unix(1706140800, 0)}
	if err := s.CreateAccount(t.Context(), a, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	got := map[string]float64{}
	for _, f := range families {
		m := f.GetMetric()[0]
		got[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	for _, name := range []string{
		"casapay_postgres_pool_acquired_conns", "casapay_postgres_pool_idle_conns", "casapay_postgres_pool_total_conns",
		"casapay_postgres_pool_max_conns", "casapay_postgres_pool_acquires_total",
		"casapay_postgres_pool_acquire_seconds_total", "casapay_postgres_pool_empty_acquires_total",
	} {
		if _, ok := got[name]; !ok {
			t.Errorf("metric %s missing; got %v", name, got)
		}
	}
	for _, name := range []string{"casapay_postgres_pool_max_conns", "casapay_postgres_pool_total_conns", "casapay_postgres_pool_acquires_total"} {
		if got[name] <= 0 {
			t.Errorf("%s = %v after a write, want more than 0", name, got[name])
		}
	}
}

// TestHeldWrites checks the writes a transaction holds to send with its next statement: a read in the
// transaction sees them, what they store is what they were given even if the caller changes it
// afterwards, and one that fails fails the transaction, which then stores nothing.
func TestHeldWrites(t *testing.T) {
	s, err := postgres.Open(t.Context(), storetest.PostgresSchemaURL(t))
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	now := time.Unix(1706140800, 0)
	account := &casapay.Account{ID: casapay.NewID("acct"), Name: "Held", Created: now}
	if err := s.CreateAccount(ctx, account, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	scope := casapay.Scope{AccountID: account.ID}
	newCustomer := func() *casapay.Customer {
		c, err := casapay.NewCustomer(scope, &casapay.CustomerParams{Name: new("Jane Doe"), Metadata: map[string]string{"unit": "4B"},
			Address: &casapay.AddressParams{City: new("Leeds")}}, now)
		if err != nil {
			t.Fatalf("NewCustomer: %v", err)
		}
		return c
	}

	c := newCustomer()
	err = s.InTx(ctx, func(ctx context.Context, ex storage.Executor) error {
		if err := ex.CustomerInsert(ctx, scope, c); err != nil {
			return err
		}
		// After the insert, and so not what it stores:
		*c.Name, c.Metadata["unit"], *c.Address.City = "Someone Else", "9Z", "York"
		got, err := ex.CustomerGet(ctx, scope, c.ID)
		if err != nil {
			t.Errorf("CustomerGet after CustomerInsert in one transaction: %v, want the customer", err)
		} else if *got.Name != "Jane Doe" || got.Metadata["unit"] != "4B" || got.Address == nil || *got.Address.City != "Leeds" {
			t.Errorf("read in the transaction: name %q, unit %q, address %+v; want what the insert was given", *got.Name, got.Metadata["unit"], got.Address)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if got, err := s.FindCustomer(ctx, scope, c.ID); err != nil || *got.Name != "Jane Doe" || got.Metadata["unit"] != "4B" {
		t.Errorf("FindCustomer after commit = %+v, %v; want Jane Doe in 4B", got, err)
	}

	d := newCustomer()
	err = s.InTx(ctx, func(ctx context.Context, ex storage.Executor) error {
		if err := ex.CustomerInsert(ctx, scope, d); err != nil {
			return err
		}
		return ex.CustomerInsert(ctx, scope, d) // the same ID again: held, it fails when sent
	})
	if !errors.Is(err, storage.ErrDuplicate) || !strings.HasPrefix(err.Error(), "insert customer: ") {
		t.Errorf("InTx with a duplicate insert held = %v, want ErrDuplicate, named as the customer's insert", err)
	}
	if _, err := s.FindCustomer(ctx, scope, d.ID); !casapay.IsNotFound(err) {
		t.Errorf("FindCustomer after the failed transaction = %v, want resource_missing: nothing stored", err)
	}
}

// TestKeyChanges runs storetest.KeyChanges on two stores on one database, as two processes would use it.
func TestKeyChanges(t *testing.T) { storetest.KeyChanges(t, storetest.PostgresKeyStores) }
