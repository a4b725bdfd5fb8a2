package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/postgres"
	"github.com/casapay/casapay/sqlite"
)

// Opener opens a fresh, empty store that lives as long as the test.
type Opener func(t *testing.T) casapay.Store

// Stores lists every store by name, for tests that run once per store. The PostgreSQL opener skips its
// test when CASAPAY_TEST_POSTGRES is not set.
func Stores() []struct {
	Name string
	Open Opener
} {
	return []struct {
		Name string
		Open Opener
	}{{"sqlite", OpenSQLite}, {"postgres", OpenPostgres}}
}

// OpenSQLite opens a store on a fresh file in the test's temporary directory.
func OpenSQLite(t *testing.T) casapay.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "casapay.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sqlite store: %v", err)
		}
	})
	return s
}

// PostgresURL returns the test server's URL from CASAPAY_TEST_POSTGRES, or skips the test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CASAPAY_TEST_POSTGRES")
	if u == "" {
		t.Skip("CASAPAY_TEST_POSTGRES is not set; to run the PostgreSQL tests, point it at a database, " +
			"e.g. CASAPAY_TEST_POSTGRES=postgres://postgres:postgres@127.0.0.1:5432/casapay_test?sslmode=disable")
	}
	return u
}

// OpenPostgres opens a store on a fresh schema of the CASAPAY_TEST_POSTGRES database. The schema is
// dropped when the test ends, so tests can run in parallel on one database.
func OpenPostgres(t *testing.T) casapay.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), PostgresSchemaURL(t))
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close postgres store: %v", err)
		}
	})
	return s
}

// PostgresSchemaURL creates a fresh schema in the CASAPAY_TEST_POSTGRES database, drops it when the test
// ends, and returns a URL whose connections use it. Several stores (or serve processes) opened on the
// URL share the schema, as they would share a production database.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	schema := "casapay_test_" + strings.ToLower(rand.Text()[:16])
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect to CASAPAY_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// The test's context is already cancelled when cleanups run.
		ctx := context.WithoutCancel(t.Context())
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("connect to drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse CASAPAY_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown URL parameters as run-time settings
	u.RawQuery = q.Encode()
	return fmt.Sprint(u)
}
