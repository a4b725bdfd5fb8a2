package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/casapay/casapay"
)

// Group commit.
//
// With synchronous=FULL every commit waits for a sync of the WAL to reach the disk, and SQLite has one
// writer, so one transaction per request caps writes at the disk's sync rate however many clients
// wait. Instead, each write is a request queued for one writer goroutine. When the writer is free it
// takes every request queued by then (up to maxBatch), without waiting for more, runs them one after
// another in one transaction, each inside its own SAVEPOINT, and commits once: one sync for the batch.
// A request that fails is rolled back to its savepoint alone, and the others commit. Only after the
// commit returns does the writer answer each request, with its own error, or the commit's error, so no
// write is acknowledged before it is on disk. At low load a batch is one request and nothing waits for
// a timer; under load, requests that arrive during one commit share the next.

// maxBatch caps the requests one transaction carries, so that one batch, and the wait of the requests
// queued behind it, stays short.
const maxBatch = 128

// maxQueued caps the requests waiting for the writer. Past it, the writer is behind by dozens of
// batches, and queueing more would only let memory and every request's wait grow without limit: a write
// is refused at once with errBusy instead, which a client can retry after a pause.
const maxQueued = 4096

// errClosed answers writes that reach a closed store, or that were still queued when it closed.
var errClosed = errors.New("sqlite store is closed")

// errBusy answers a write that finds the queue full: a 503 whose Retry-After asks the client to wait a
// second. It changes nothing, so any client may retry it, with or without an idempotency key.
var errBusy = &casapay.Error{
	Type:       casapay.ErrorTypeAPI,
	Message:    "CasaPay is receiving more writes than it can store right now. Retry the request in a moment.",
	Status:     503,
	RetryAfter: 1,
}

// request is one write waiting for the writer.
type request struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error // capacity 1, so the writer never waits for the caller
}

// queue holds the requests the writer has not taken yet. It is a slice under a mutex rather than a
// channel so that a caller whose context ends while it waits can take its request back out: then it is
// certain the request never ran.
type queue struct {
	mu      sync.Mutex
	pending []*request
	limit   int // the most requests pending may hold
	closed  bool
	wake    chan struct{} // capacity 1: a signal that pending may not be empty
	pushed  func(n int)   // a test's hook, called under mu after a push with the queue's length
}

// push adds r to the queue, or returns errClosed once the store is closing and errBusy when the queue
// is full.
func (q *queue) push(r *request) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return errClosed
	}
	if len(q.pending) >= q.limit {
		q.mu.Unlock()
		return errBusy
	}
	q.pending = append(q.pending, r)
	if q.pushed != nil {
		q.pushed(len(q.pending))
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	return nil
}

// remove takes r out of the queue and reports whether it was still there, not yet taken by the writer.
func (q *queue) remove(r *request) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := slices.Index(q.pending, r)
	if i < 0 {
		return false
	}
	q.pending = slices.Delete(q.pending, i, i+1)
	return true
}

// take moves up to n of the oldest requests from the queue to batch and returns it.
func (q *queue) take(batch []*request, n int) []*request {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := min(n, len(q.pending))
	batch = append(batch, q.pending[:k]...)
	// Copying the rest down keeps the backing array from growing without bound under steady load.
	rest := copy(q.pending, q.pending[k:])
	clear(q.pending[rest:])
	q.pending = q.pending[:rest]
	return batch
}

// close refuses further pushes and answers every queued request with errClosed.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	pending := q.pending
	q.pending = nil
	q.mu.Unlock()
	for _, r := range pending {
		r.done <- errClosed
	}
}

// write runs fn as one request of a batch on the writer (see the group commit above) and returns once
// the batch's transaction has committed or failed: nil means fn's writes are on disk. fn's error rolls
// back fn's writes alone and is returned as it is; a panic in fn does the same, as an error.
//
// fn must run every statement with the context it is given, never the caller's ctx. That context has
// ctx's values but not its cancellation: modernc.org/sqlite answers a cancelled context by interrupting
// the connection (sqlite3_interrupt), and an interrupted write inside an explicit transaction may roll
// back the whole transaction, which would lose the writes of every other request in the batch. So
// cancellation counts only before fn starts: a request whose ctx ends while it is queued is taken back
// and answered ctx's error, and one whose ctx has ended when the writer reaches it is skipped with that
// error. Either way it wrote nothing. Once the writer has taken the request, the caller waits for the
// batch to end even if ctx ends meanwhile, so that what it returns is never "cancelled" for a write
// that in fact committed.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	if err := s.queue.push(r); err != nil {
		return err
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if s.queue.remove(r) {
			return ctx.Err()
		}
		return <-r.done // the writer has it: it skips it or answers the truth
	}
}

// run is the writer goroutine, started by Open and stopped by Close. It commits batches while requests
// are queued and sleeps while none are.
func (s *Store) run() {
	defer close(s.stopped)
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case <-s.stop:
			return
		case <-s.queue.wake:
		}
		for {
			batch = s.queue.take(batch[:0], maxBatch)
			if len(batch) == 0 {
				break
			}
			s.commit(batch)
			clear(batch) // let answered requests go
		}
	}
}

// The savepoint every request runs in. Each is released before the next begins, so one name serves.
const (
	savepointSQL         = `SAVEPOINT request`
	releaseSavepointSQL  = `RELEASE request`
	rollbackSavepointSQL = `ROLLBACK TO request`
)

// commit runs batch in one transaction and answers every request in it.
func (s *Store) commit(batch []*request) {
	errs := make([]error, len(batch))
	answer := func() {
		for i, r := range batch {
			r.done <- errs[i]
		}
	}
	// The transaction's own statements use a context that nothing cancels, for the reason write gives.
	bg := context.Background()
	tx, err := s.writer.BeginTx(bg, nil)
	if err != nil {
		err = fmt.Errorf("begin write: %w", interpret(err))
		for i := range errs {
			errs[i] = err
		}
		answer()
		return
	}

	ran, ok := 0, 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		ran++
		var fatal error
		errs[i], fatal = s.runRequest(tx, r)
		if fatal != nil {
			// The transaction is in an unknown state, or SQLite already rolled it back (it does so on
			// some errors, such as a full disk): nothing in it may be committed.
			tx.Rollback()
			fatal = fmt.Errorf("write batch: %w", fatal)
			for j := range errs {
				if errs[j] == nil { // requests that failed alone, or were skipped, keep their error
					errs[j] = fatal
				}
			}
			answer()
			return
		}
		if errs[i] == nil {
			ok++
		}
	}

	if ok == 0 {
		tx.Rollback() // nothing to keep, and no sync to pay for
		answer()
		return
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("commit: %w", interpret(err))
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		answer()
		return
	}
	s.batchSize.Observe(float64(ran))
	answer()
}

// runRequest runs r's fn inside a savepoint of tx. err is the request's own failure, after which tx is
// as it was before the request; fatal is a failure of the savepoint itself, after which tx must not be
// committed.
func (s *Store) runRequest(tx *sql.Tx, r *request) (err, fatal error) {
	ctx := context.WithoutCancel(r.ctx)       // see write
	ex := &executor{tx: tx, stmts: &s.writes} // its exec interprets driver errors
	if _, err := ex.exec(ctx, savepointSQL); err != nil {
		return nil, fmt.Errorf("savepoint: %w", err)
	}
	if err := call(ctx, tx, r.fn); err != nil {
		// ROLLBACK TO undoes the request's writes and keeps the savepoint open; RELEASE then ends it. If
		// SQLite rolled back the whole transaction because of the error, the savepoint is gone and
		// ROLLBACK TO fails, which is how the batch learns it.
		if _, rerr := ex.exec(ctx, rollbackSavepointSQL); rerr != nil {
			return err, fmt.Errorf("roll back to savepoint: %w", rerr)
		}
		if _, rerr := ex.exec(ctx, releaseSavepointSQL); rerr != nil {
			return err, fmt.Errorf("release savepoint: %w", rerr)
		}
		return err, nil
	}
	if _, err := ex.exec(ctx, releaseSavepointSQL); err != nil {
		return nil, fmt.Errorf("release savepoint: %w", err)
	}
	return nil, nil
}

// call runs fn and turns a panic in it into an error, so one request's bug fails that request alone
// instead of the writer goroutine, and with it the process.
func call(ctx context.Context, tx *sql.Tx, fn func(ctx context.Context, tx *sql.Tx) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("write panicked: %v\n%s", v, debug.Stack())
		}
	}()
	return fn(ctx, tx)
}
