package storage_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
	"github.com/casapay/casapay/storetest"
)

// forEachStore runs fn on a fresh store of each kind, with its driver.
func forEachStore(t *testing.T, fn func(t *testing.T, s casapay.Store, d storage.Driver)) {
	for _, st := range storetest.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			s := st.Open(t)
			d, ok := s.(storage.Driver)
			if !ok {
				t.Fatalf("%T is not a storage.Driver", s)
			}
			fn(t, s, d)
		})
	}
}

func newScope(t *testing.T, s casapay.Store) casapay.Scope {
	t.Helper()
	a := &casapay.Account{ID: casapay.NewID("acct"), Name: "Write Path Lettings", Created: time.Unix(1706140800, 0)}
	if err := s.CreateAccount(t.Context(), a, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return casapay.Scope{AccountID: a.ID}
}

// TestStoredStatus checks that an idempotent response is stored with the status it answered, and
// replayed with it: not every success is a 200.
func TestStoredStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, s casapay.Store, d storage.Driver) {
		scope := newScope(t, s)
		st := storage.New(d)
		req := casapay.Request{Idempotency: &casapay.Idempotency{Key: "k", Fingerprint: "fp", Created: time.Unix(1706140800, 0)}}
		first, err := st.WriteAnswer(t.Context(), scope, req, http.StatusAccepted, map[string]string{"status": "queued"})
		if err != nil || first.Replayed || first.Status != http.StatusAccepted {
			t.Fatalf("first write = %+v, %v, want a fresh 202", first, err)
		}
		replay, err := st.WriteAnswer(t.Context(), scope, req, http.StatusOK, map[string]string{"status": "other"})
		if err != nil || !replay.Replayed {
			t.Fatalf("retried write = %+v, %v, want a replay", replay, err)
		}
		if replay.Status != http.StatusAccepted || string(replay.Body) != string(first.Body) {
			t.Errorf("replay = %d %s, want %d %s", replay.Status, replay.Body, first.Status, first.Body)
		}
	})
}

// countingTx counts the write transactions of a driver.
type countingTx struct {
	storage.Driver
	n atomic.Int64
}

func (d *countingTx) InTx(ctx context.Context, fn func(ctx context.Context, ex storage.Executor) error) error {
	d.n.Add(1)
	return d.Driver.InTx(ctx, fn)
}

// TestPruneInChunks checks that pruning deletes in transactions of at most storage.PruneChunk rows,
// never one unbounded delete that would hold the writer for as long as it takes.
func TestPruneInChunks(t *testing.T) {
	forEachStore(t, func(t *testing.T, s casapay.Store, d storage.Driver) {
		ctx := t.Context()
		scope := newScope(t, s)
		old := time.Unix(1706140800, 0)
		const n = 2*storage.PruneChunk + 500
		// Rows written straight through the executor, in one transaction: quicker than n requests.
		err := d.InTx(ctx, func(ctx context.Context, ex storage.Executor) error {
			for i := range n {
				e := casapay.NewEvent(scope, casapay.EventCustomerCreated, []byte(`{}`), nil, casapay.Request{}, old)
				if err := ex.EventInsert(ctx, scope, e); err != nil {
					return err
				}
				idem := &casapay.Idempotency{Key: fmt.Sprint("k", i), Fingerprint: "fp", Created: old}
				if err := ex.IdempotencyPut(ctx, scope, idem, &casapay.Response{Status: 200, Body: []byte(`{}`)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("insert rows to prune: %v", err)
		}
		for _, tt := range []struct {
			name  string
			prune func(*storage.Store) (int64, error)
		}{
			{"events", func(st *storage.Store) (int64, error) { return st.PruneEvents(ctx, old.Add(time.Second)) }},
			{"idempotency keys", func(st *storage.Store) (int64, error) { return st.PruneIdempotencyKeys(ctx, old.Add(time.Second)) }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				counted := &countingTx{Driver: d}
				got, err := tt.prune(storage.New(counted))
				if err != nil || got != n {
					t.Fatalf("prune = %d, %v, want %d, nil", got, err, n)
				}
				if txs, want := counted.n.Load(), int64(3); txs != want {
					t.Errorf("prune of %d rows took %d transactions, want %d of at most %d rows", n, txs, want, storage.PruneChunk)
				}
			})
		}
		if page, _, err := s.ListEvents(ctx, scope, casapay.EventFilter{}); err != nil || len(page) != 0 {
			t.Errorf("ListEvents after pruning = %d events, %v, want none", len(page), err)
		}
	})
}
