package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
	if _, err := s.CreateCustomer(t.Context(), scope, c, idem); err != nil {
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
	replay, err := s.CreateCustomer(t.Context(), scope, other, idem)
	if err != nil || replay == nil {
		t.Errorf("CreateCustomer retried after reopen = %v, %v, want a replay", replay, err)
	}
}

func TestOpenRejectsURIPaths(t *testing.T) {
	for _, path := range []string{"", "casapay.db?mode=ro"} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("sqlite.Open(%q) succeeded, want an error", path)
		}
	}
}

func strPtr(s string) *string { return &s }
