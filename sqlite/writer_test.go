package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/casapay/casapay"
)

// The tests here make batches deterministic without timing: holdWriter keeps the writer busy with one
// request while the test queues others, and whenQueued says when they are all waiting, so the writer
// takes exactly those in its next batch.

// openAt opens a store on path, closed when the test ends.
func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newScope stores an account and returns its test-mode scope.
func newScope(t *testing.T, s *Store) casapay.Scope {
	t.Helper()
	a := &casapay.Account{ID: casapay.NewID("acct"), Name: "Batch Lettings", Created: time.Unix(1706140800, 0)}
	if err := s.CreateAccount(t.Context(), a, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return casapay.Scope{AccountID: a.ID}
}

func newTestCustomer(t *testing.T, scope casapay.Scope, name string) *casapay.Customer {
	t.Helper()
	c, err := casapay.NewCustomer(scope, &casapay.CustomerParams{Name: &name}, time.Unix(1706140800, 0))
	if err != nil {
		t.Fatalf("NewCustomer: %v", err)
	}
	return c
}

// holdWriter queues a write that keeps the writer busy, and returns once the writer runs it. release
// lets the held write finish and returns its error; the test's cleanup releases it if the test did not.
func holdWriter(t *testing.T, s *Store) (release func() error) {
	t.Helper()
	started, proceed := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.write(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			close(started)
			<-proceed
			return nil
		})
	}()
	<-started
	var once sync.Once
	var err error
	release = func() error {
		once.Do(func() {
			close(proceed)
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { release() })
	return release
}

// whenQueued returns a channel that is closed once n requests wait in s's queue.
func whenQueued(s *Store, n int) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	s.queue.mu.Lock()
	defer s.queue.mu.Unlock()
	s.queue.pushed = func(queued int) {
		if queued >= n {
			once.Do(func() { close(ch) })
		}
	}
	return ch
}

// batchStats returns how many transactions committed, how many requests they carried, and the upper
// bound of the histogram bucket that holds the largest batch.
func batchStats(t *testing.T, s *Store) (batches uint64, requests float64, largest float64) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != "casapay_sqlite_commit_batch_size" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		for _, b := range h.GetBucket() {
			if b.GetCumulativeCount() == h.GetSampleCount() {
				largest = b.GetUpperBound()
				break
			}
		}
		return h.GetSampleCount(), h.GetSampleSum(), largest
	}
	t.Fatal("no casapay_sqlite_commit_batch_size among the store's metrics")
	return 0, 0, 0
}

// TestGroupCommit sends 64 creates while the writer is busy: they commit as one batch, and every one
// acknowledged is there after the store is closed and opened again.
func TestGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "casapay.db")
	s := openAt(t, path)
	scope := newScope(t, s)
	batchesBefore, requestsBefore, _ := batchStats(t, s)

	const n = 64
	release := holdWriter(t, s)
	queued := whenQueued(s, n)
	customers := make([]*casapay.Customer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range customers {
		customers[i] = newTestCustomer(t, scope, "Tenant")
		wg.Go(func() { _, errs[i] = s.CreateCustomer(t.Context(), scope, customers[i], casapay.Request{}) })
	}
	<-queued
	if err := release(); err != nil {
		t.Fatalf("held write: %v", err)
	}
	wg.Wait()

	var acknowledged []string
	for i, err := range errs {
		if err != nil {
			t.Errorf("CreateCustomer %d: %v", i, err)
			continue
		}
		acknowledged = append(acknowledged, customers[i].ID)
	}
	batches, requests, largest := batchStats(t, s)
	// The held write was one batch, and the 64 creates the next.
	if got, want := batches-batchesBefore, uint64(2); got != want {
		t.Errorf("committed batches = %d, want %d", got, want)
	}
	if got, want := requests-requestsBefore, float64(n+1); got != want {
		t.Errorf("requests in committed batches = %v, want %v", got, want)
	}
	if largest < n {
		t.Errorf("largest batch fits a bucket of %v, want one of %d requests", largest, n)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openAt(t, path)
	for _, id := range acknowledged {
		if _, err := s.FindCustomer(t.Context(), scope, id); err != nil {
			t.Errorf("FindCustomer(%s) after reopening: %v", id, err)
		}
	}
}

var errForced = errors.New("forced failure")

// TestBatchIsolatesFailures runs failing requests in one batch with good ones: each failure rolls back
// its own writes alone, and the rest commit.
func TestBatchIsolatesFailures(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "casapay.db"))
	scope := newScope(t, s)
	batchesBefore, _, _ := batchStats(t, s)

	release := holdWriter(t, s)
	queued := whenQueued(s, 4)
	good := []*casapay.Customer{newTestCustomer(t, scope, "First"), newTestCustomer(t, scope, "Second")}
	partial := newTestCustomer(t, scope, "Rolled Back")
	missing := casapay.NewID("cus")
	goodErrs := make([]error, len(good))
	var updateErr, forcedErr error
	var wg sync.WaitGroup
	for i, c := range good {
		wg.Go(func() { _, goodErrs[i] = s.CreateCustomer(t.Context(), scope, c, casapay.Request{}) })
	}
	wg.Go(func() {
		_, _, updateErr = s.UpdateCustomer(t.Context(), scope, missing, &casapay.CustomerParams{Name: new("x")}, casapay.Request{})
	})
	wg.Go(func() {
		// Writes a customer, then fails: the customer must go with the failure.
		forcedErr = s.write(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
			row, err := customerRow(scope, partial)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, insertCustomerSQL, row...); err != nil {
				return err
			}
			return errForced
		})
	})
	<-queued
	if err := release(); err != nil {
		t.Fatalf("held write: %v", err)
	}
	wg.Wait()

	for i, err := range goodErrs {
		if err != nil {
			t.Errorf("CreateCustomer %d: %v", i, err)
		}
	}
	if !casapay.IsNotFound(updateErr) {
		t.Errorf("UpdateCustomer(missing) error = %v, want resource_missing", updateErr)
	}
	if !errors.Is(forcedErr, errForced) {
		t.Errorf("failing write error = %v, want %v", forcedErr, errForced)
	}
	if batches, _, _ := batchStats(t, s); batches-batchesBefore != 2 {
		t.Errorf("committed batches = %d, want 2: the held write, then all four requests", batches-batchesBefore)
	}
	for _, c := range good {
		if _, err := s.FindCustomer(t.Context(), scope, c.ID); err != nil {
			t.Errorf("FindCustomer(%s) of a good request: %v", *c.Name, err)
		}
	}
	if _, err := s.FindCustomer(t.Context(), scope, partial.ID); !casapay.IsNotFound(err) {
		t.Errorf("FindCustomer of the failed request's customer: err = %v, want resource_missing", err)
	}
}

// TestBatchIdempotencyKey sends one key four times in one batch: the first request creates, and the
// later ones find its record in the batch's transaction and replay it.
func TestBatchIdempotencyKey(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "casapay.db"))
	scope := newScope(t, s)
	idem := &casapay.Idempotency{Key: "same-batch", Fingerprint: "fp", Created: time.Unix(1706140800, 0)}

	const n = 4
	release := holdWriter(t, s)
	queued := whenQueued(s, n)
	customers := make([]*casapay.Customer, n)
	replays := make([]*casapay.Response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range customers {
		customers[i] = newTestCustomer(t, scope, "Retried")
		wg.Go(func() {
			replays[i], errs[i] = s.CreateCustomer(t.Context(), scope, customers[i], casapay.Request{Idempotency: idem})
		})
	}
	<-queued
	if err := release(); err != nil {
		t.Fatalf("held write: %v", err)
	}
	wg.Wait()

	var created *casapay.Customer
	for i, c := range customers {
		if errs[i] != nil {
			t.Fatalf("CreateCustomer %d: %v", i, errs[i])
		}
		if !replays[i].Replayed {
			if created != nil {
				t.Fatalf("CreateCustomer created both %s and %s under one key", created.ID, c.ID)
			}
			created = c
		}
	}
	if created == nil {
		t.Fatal("every CreateCustomer replayed; want one to create")
	}
	want, err := json.Marshal(created)
	if err != nil {
		t.Fatalf("encode customer: %v", err)
	}
	for i, r := range replays {
		if r.Replayed && (r.Status != 200 || string(r.Body) != string(want)) {
			t.Errorf("request %d replayed %d %s, want 200 %s", i, r.Status, r.Body, want)
		}
	}
	page, _, err := s.ListCustomers(t.Context(), scope, casapay.CustomerFilter{Limit: 10})
	if err != nil || len(page) != 1 || page[0].ID != created.ID {
		t.Errorf("ListCustomers = %v, %v, want only %s", page, err, created.ID)
	}
}

// TestCancelledWrite cancels a request while it waits in the queue, and one the writer has taken but
// not yet run: each answers its context's error and writes nothing, and nothing else is disturbed.
func TestCancelledWrite(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "casapay.db"))
	scope := newScope(t, s)

	t.Run("queued", func(t *testing.T) {
		release := holdWriter(t, s)
		queued := whenQueued(s, 1)
		c := newTestCustomer(t, scope, "Gone Away")
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := s.CreateCustomer(ctx, scope, c, casapay.Request{})
			done <- err
		}()
		<-queued
		cancel()
		// The writer is still held, so only taking the request back out of the queue can answer it.
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled CreateCustomer error = %v, want %v", err, context.Canceled)
		}
		if err := release(); err != nil {
			t.Fatalf("held write: %v", err)
		}
		if _, err := s.FindCustomer(t.Context(), scope, c.ID); !casapay.IsNotFound(err) {
			t.Errorf("FindCustomer of the cancelled create: err = %v, want resource_missing", err)
		}
	})

	t.Run("taken", func(t *testing.T) {
		release := holdWriter(t, s)
		// The next batch is [blocker, victim]: the blocker runs first and holds the batch while the
		// victim's context is cancelled, after the writer took it from the queue.
		blockerQueued := whenQueued(s, 1)
		started, proceed := make(chan struct{}), make(chan struct{})
		blocker := newTestCustomer(t, scope, "Blocker")
		blockerDone := make(chan error, 1)
		go func() {
			blockerDone <- s.write(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
				close(started)
				<-proceed
				row, err := customerRow(scope, blocker)
				if err != nil {
					return err
				}
				_, err = tx.ExecContext(ctx, insertCustomerSQL, row...)
				return err
			})
		}()
		<-blockerQueued
		victimQueued := whenQueued(s, 2)
		victim := newTestCustomer(t, scope, "Victim")
		ctx, cancel := context.WithCancel(t.Context())
		victimDone := make(chan error, 1)
		go func() {
			_, err := s.CreateCustomer(ctx, scope, victim, casapay.Request{})
			victimDone <- err
		}()
		<-victimQueued
		if err := release(); err != nil {
			t.Fatalf("held write: %v", err)
		}
		<-started
		cancel()
		close(proceed)
		if err := <-blockerDone; err != nil {
			t.Errorf("blocking write: %v", err)
		}
		if err := <-victimDone; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled CreateCustomer error = %v, want %v", err, context.Canceled)
		}
		if _, err := s.FindCustomer(t.Context(), scope, victim.ID); !casapay.IsNotFound(err) {
			t.Errorf("FindCustomer of the cancelled create: err = %v, want resource_missing", err)
		}
		if _, err := s.FindCustomer(t.Context(), scope, blocker.ID); err != nil {
			t.Errorf("FindCustomer of the write beside it: %v", err)
		}
	})
}

// TestPanicInWrite panics inside one request of a batch: that request fails, its writes are rolled
// back, the other request commits, and the writer goes on serving.
func TestPanicInWrite(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "casapay.db"))
	scope := newScope(t, s)

	release := holdWriter(t, s)
	queued := whenQueued(s, 2)
	partial := newTestCustomer(t, scope, "Half Written")
	good := newTestCustomer(t, scope, "Beside It")
	var panicErr, goodErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		panicErr = s.write(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
			row, err := customerRow(scope, partial)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, insertCustomerSQL, row...); err != nil {
				return err
			}
			panic("bug in a write")
		})
	})
	wg.Go(func() { _, goodErr = s.CreateCustomer(t.Context(), scope, good, casapay.Request{}) })
	<-queued
	if err := release(); err != nil {
		t.Fatalf("held write: %v", err)
	}
	wg.Wait()

	if panicErr == nil || !strings.Contains(panicErr.Error(), "bug in a write") {
		t.Errorf("panicking write error = %v, want one that carries the panic", panicErr)
	}
	if goodErr != nil {
		t.Errorf("CreateCustomer beside the panic: %v", goodErr)
	}
	if _, err := s.FindCustomer(t.Context(), scope, partial.ID); !casapay.IsNotFound(err) {
		t.Errorf("FindCustomer of the panicking write's customer: err = %v, want resource_missing", err)
	}
	after := newTestCustomer(t, scope, "After")
	if _, err := s.CreateCustomer(t.Context(), scope, after, casapay.Request{}); err != nil {
		t.Errorf("CreateCustomer after the panic: %v", err)
	}
	for _, c := range []*casapay.Customer{good, after} {
		if _, err := s.FindCustomer(t.Context(), scope, c.ID); err != nil {
			t.Errorf("FindCustomer(%s): %v", *c.Name, err)
		}
	}
}

// TestCloseAnswersQueued closes the store while one write runs and another waits: the running one
// commits, the waiting one is answered with an error, and later writes fail at once.
func TestCloseAnswersQueued(t *testing.T) {
	path := filepath.Join(t.TempDir(), "casapay.db")
	s := openAt(t, path)
	scope := newScope(t, s)

	release := holdWriter(t, s)
	queued := whenQueued(s, 1)
	c := newTestCustomer(t, scope, "Too Late")
	done := make(chan error, 1)
	go func() {
		_, err := s.CreateCustomer(t.Context(), scope, c, casapay.Request{})
		done <- err
	}()
	<-queued
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Close answers the queued request before it waits for the held one.
	if err := <-done; !errors.Is(err, errClosed) {
		t.Errorf("CreateCustomer queued at Close: error = %v, want %v", err, errClosed)
	}
	if err := release(); err != nil {
		t.Errorf("write running at Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.CreateCustomer(t.Context(), scope, newTestCustomer(t, scope, "After"), casapay.Request{}); !errors.Is(err, errClosed) {
		t.Errorf("CreateCustomer after Close: error = %v, want %v", err, errClosed)
	}

	s = openAt(t, path)
	if _, err := s.FindCustomer(t.Context(), scope, c.ID); !casapay.IsNotFound(err) {
		t.Errorf("FindCustomer of the write refused at Close: err = %v, want resource_missing", err)
	}
}

// TestBatchAborted ends the batch's transaction from inside one request, as SQLite itself does on some
// errors (a full disk, say): no request of the batch may then be acknowledged, those that ran before it
// included, and the writer goes on with the next batch.
func TestBatchAborted(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "casapay.db"))
	scope := newScope(t, s)

	release := holdWriter(t, s)
	before, after := newTestCustomer(t, scope, "Before"), newTestCustomer(t, scope, "After")
	var beforeErr, rogueErr, afterErr error
	var wg sync.WaitGroup
	// Queued one at a time, so the batch runs them in this order.
	for i, send := range []func(){
		func() { _, beforeErr = s.CreateCustomer(t.Context(), scope, before, casapay.Request{}) },
		func() {
			rogueErr = s.write(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, "ROLLBACK"); err != nil {
					return err
				}
				return errForced
			})
		},
		func() { _, afterErr = s.CreateCustomer(t.Context(), scope, after, casapay.Request{}) },
	} {
		queued := whenQueued(s, i+1)
		wg.Go(send)
		<-queued
	}
	if err := release(); err != nil {
		t.Fatalf("held write: %v", err)
	}
	wg.Wait()

	if !errors.Is(rogueErr, errForced) {
		t.Errorf("aborting write error = %v, want %v", rogueErr, errForced)
	}
	for _, r := range []struct {
		c   *casapay.Customer
		err error
	}{{before, beforeErr}, {after, afterErr}} {
		if r.err == nil {
			t.Errorf("CreateCustomer(%s) in the aborted batch succeeded, want an error", *r.c.Name)
		}
		if _, err := s.FindCustomer(t.Context(), scope, r.c.ID); !casapay.IsNotFound(err) {
			t.Errorf("FindCustomer(%s) after the aborted batch: err = %v, want resource_missing", *r.c.Name, err)
		}
	}
	later := newTestCustomer(t, scope, "Later")
	if _, err := s.CreateCustomer(t.Context(), scope, later, casapay.Request{}); err != nil {
		t.Fatalf("CreateCustomer after the aborted batch: %v", err)
	}
	if _, err := s.FindCustomer(t.Context(), scope, later.ID); err != nil {
		t.Errorf("FindCustomer after the aborted batch: %v", err)
	}
}

// TestBatchAllFail runs a batch in which every request fails: each gets its own error, and nothing is
// committed.
func TestBatchAllFail(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "casapay.db"))
	scope := newScope(t, s)
	batchesBefore, _, _ := batchStats(t, s)

	const n = 3
	release := holdWriter(t, s)
	queued := whenQueued(s, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, _, errs[i] = s.UpdateCustomer(t.Context(), scope, casapay.NewID("cus"), &casapay.CustomerParams{Name: new("x")}, casapay.Request{})
		})
	}
	<-queued
	if err := release(); err != nil {
		t.Fatalf("held write: %v", err)
	}
	wg.Wait()
	for i, err := range errs {
		if !casapay.IsNotFound(err) {
			t.Errorf("UpdateCustomer %d of a missing customer: err = %v, want resource_missing", i, err)
		}
	}
	// Only the held write committed; the failed batch was rolled back without a sync.
	if batches, _, _ := batchStats(t, s); batches-batchesBefore != 1 {
		t.Errorf("committed batches = %d, want 1", batches-batchesBefore)
	}
}
