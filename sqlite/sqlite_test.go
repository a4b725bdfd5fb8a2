package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/sqlite"
	"github.com/casapay/casapay/storetest"
)

func TestStore(t *testing.T) { storetest.Exercise(t, storetest.OpenSQLite) }

// TestReopen checks that what one store wrote is there for the next one on the same file, and that
// opening an up-to-date file migrates nothing.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "casapay.db")
	open := func() *sqlite.Store {
		t.Helper()
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("sqlite.Open: %v", err)
		}
		return s
	}

	s := open()
	a := &casapay.Account{ID: casapay.NewID("acct"), Name: "Durable Homes", Created: time.Unix(1706140800, 0)}
	_, key := casapay.NewAPIKey(a.ID, false, a.Created)
	if err := s.CreateAccount(t.Context(), a, []*casapay.APIKey{key}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	scope := key.Scope()
	c, err := casapay.NewCustomer(scope, &casapay.CustomerParams{Name: strPtr("Jane Doe")}, a.Created)
	if err != nil {
		t.Fatalf("NewCustomer: %v", err)
	}
	idem := &casapay.Idempotency{Key: "k", Fingerprint: "fp", Created: a.Created}
	if _, err := s.CreateCustomer(t.Context(), scope, c, casapay.Request{Idempotency: idem}); err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open()
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	got, err := s.FindCustomer(t.Context(), scope, c.ID)
	if err != nil {
		t.Fatalf("FindCustomer after reopen: %v", err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("FindCustomer after reopen mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.FindAPIKey(t.Context(), key.Hash); err != nil {
		t.Errorf("FindAPIKey after reopen: %v", err)
	}
	other, err := casapay.NewCustomer(scope, &casapay.CustomerParams{}, a.Created)
	if err != nil {
		t.Fatalf("NewCustomer: %v", err)
	}
	replay, err := s.CreateCustomer(t.Context(), scope, other, casapay.Request{Idempotency: idem})
	if err != nil || !replay.Replayed {
		t.Errorf("CreateCustomer retried after reopen = %v, %v, want a replay", replay, err)
	}
}

func TestOpenRejectsURIPaths(t *testing.T) {
	for _, path := range []string{"", "casapay.db?mode=ro", ":memory:", "file::memory:"} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("sqlite.Open(%q) succeeded, want an error", path)
		}
	}
}

// TestDSN checks that a connection opened with DSN has the store's durability settings, so what a tool
// measures through it is what the store's writer pays.
func TestDSN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "casapay.db")
	db, err := sql.Open("sqlite", sqlite.DSN(path))
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	defer db.Close()
	for _, tt := range []struct{ pragma, want string }{
		{"synchronous", "2"}, // FULL
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
	} {
		var got string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
}

// TestCollectors registers a store's collectors in one registry, as the server does, and finds the batch
// histogram and both pools' statistics.
func TestCollectors(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "casapay.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	defer s.Close()
	a := &casapay.Account{ID: casapay.NewID("acct"), Name: "Metered", Created: time.Unix(1706140800, 0)}
	if err := s.CreateAccount(t.Context(), a, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	reg := prometheus.NewPedanticRegistry()
	for _, c := range s.Collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatalf("register collector: %v", err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	pools := map[string]bool{}
	var batches uint64
	for _, f := range families {
		switch f.GetName() {
		case "casapay_sqlite_commit_batch_size":
			batches = f.GetMetric()[0].GetHistogram().GetSampleCount()
		case "go_sql_max_open_connections":
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "db_name" {
						pools[l.GetValue()] = true
					}
				}
			}
		}
	}
	if batches != 1 {
		t.Errorf("casapay_sqlite_commit_batch_size count = %d, want 1 (the account)", batches)
	}
	if !pools["writer"] || !pools["reader"] {
		t.Errorf("go_sql_max_open_connections has pools %v, want writer and reader", pools)
	}
}

// BenchmarkCreateParallel creates customers from many goroutines at once, as concurrent API clients do,
// each create durable when it returns. With one client per core, batches stay small; with many, the
// creates that queue during one commit share the next, and requests/commit shows how many share a sync.
func BenchmarkCreateParallel(b *testing.B) {
	for _, perCore := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", perCore*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "casapay.db"))
			if err != nil {
				b.Fatalf("sqlite.Open: %v", err)
			}
			defer s.Close()
			a := &casapay.Account{ID: casapay.NewID("acct"), Name: "Bench Lettings", Created: time.Unix(1706140800, 0)}
			if err := s.CreateAccount(b.Context(), a, nil); err != nil {
				b.Fatalf("CreateAccount: %v", err)
			}
			scope := casapay.Scope{AccountID: a.ID}
			p := &casapay.CustomerParams{Name: strPtr("Jane Doe"), Email: strPtr("jane.doe@example.com")}
			reg := prometheus.NewRegistry()
			reg.MustRegister(s.Collectors()...)

			b.SetParallelism(perCore)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c, err := casapay.NewCustomer(scope, p, a.Created)
					if err != nil {
						b.Errorf("NewCustomer: %v", err)
						return
					}
					if _, err := s.CreateCustomer(b.Context(), scope, c, casapay.Request{}); err != nil {
						b.Errorf("CreateCustomer: %v", err)
						return
					}
				}
			})
			b.StopTimer()

			families, err := reg.Gather()
			if err != nil {
				b.Fatalf("gather: %v", err)
			}
			for _, f := range families {
				if f.GetName() == "casapay_sqlite_commit_batch_size" {
					h := f.GetMetric()[0].GetHistogram()
					b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount()), "requests/commit")
				}
			}
		})
	}
}

func strPtr(s string) *string { return &s }

// TestKeyChanges runs storetest.KeyChanges on two stores on one database, as two processes would use it.
func TestKeyChanges(t *testing.T) { storetest.KeyChanges(t, storetest.SQLiteKeyStores) }
