package storetest

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/postgres"
	"github.com/casapay/casapay/sqlite"
	"github.com/casapay/casapay/storage"
)

// KeyStores opens two stores on one fresh database, as two processes would, and returns a function
// that revokes a key by changing its row directly, telling no process.
type KeyStores func(t *testing.T) (a, b casapay.Store, revokeByHand func(t *testing.T, keyID string))

// KeyChanges checks that a store keeps the API keys it looks up, and that what another store on the
// same database changes reaches it through KeysChanged alone. b keeps keys for an hour, so only a notice
// can make it read a key again: a key revoked by hand stays usable through b, while one revoked through
// a, and an account's new rate limits set through a, reach b within seconds.
func KeyChanges(t *testing.T, open KeyStores) {
	a, b, revokeByHand := open(t)
	ctx := t.Context()
	b.(interface{ SetKeyCacheTTL(time.Duration) }).SetKeyCacheTTL(time.Hour)
	watch := b.(storage.KeyWatcher)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, ok := watch.KeysVersion(); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("KeysVersion never reported that the store follows key changes")
		}
	}

	acct := &casapay.Account{ID: casapay.NewID("acct"), Name: "Key Lettings", Created: time.Now()}
	secret1, k1 := casapay.NewAPIKey(acct.ID, false, time.Now())
	secret2, k2 := casapay.NewAPIKey(acct.ID, true, time.Now())
	if err := a.CreateAccount(ctx, acct, []*casapay.APIKey{k1, k2}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	find := func(secret string) *casapay.APIKey {
		t.Helper()
		k, err := b.FindAPIKey(ctx, casapay.HashAPIKey(secret))
		if err != nil {
			t.Fatalf("FindAPIKey: %v", err)
		}
		return k
	}
	// eventually waits up to ten seconds for b to see what ok checks.
	eventually := func(what string, ok func(*casapay.APIKey) bool, secret string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(find(secret)); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("after ten seconds the other store has not seen %s", what)
				return
			}
		}
	}

	if k := find(secret1); k.RevokedAt != nil {
		t.Fatalf("a new key is revoked")
	}
	revokeByHand(t, k1.ID)
	if k := find(secret1); k.RevokedAt != nil {
		t.Errorf("a key revoked by hand, with no notice, was read again: the store does not keep the keys it looks up")
	}
	find(secret2)
	if err := a.RevokeAPIKey(ctx, acct.ID, k2.ID, time.Now()); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	eventually("the key revoked through the first", func(k *casapay.APIKey) bool { return k.RevokedAt != nil }, secret2)

	find(secret1) // kept again under the version the revocation's notice made
	if err := a.SetAccountRateLimits(ctx, acct.ID, casapay.RateLimits{Live: 7, Test: 3}); err != nil {
		t.Fatalf("SetAccountRateLimits: %v", err)
	}
	eventually("the rate limit set through the first", func(k *casapay.APIKey) bool { return k.RateLimit == 3 }, secret1)
}

// SQLiteKeyStores is KeyStores on one fresh SQLite file; it revokes by hand through a connection of its
// own.
func SQLiteKeyStores(t *testing.T) (a, b casapay.Store, revokeByHand func(*testing.T, string)) {
	path := filepath.Join(t.TempDir(), "casapay.db")
	a, b = openTwice(t, func(ctx context.Context) (casapay.Store, error) { return sqlite.Open(ctx, path) })
	return a, b, func(t *testing.T, keyID string) {
		db, err := sql.Open("sqlite", sqlite.DSN(path))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(t.Context(), `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, time.Now().Unix(), keyID); err != nil {
			t.Fatalf("revoke %s by hand: %v", keyID, err)
		}
	}
}

// PostgresKeyStores is KeyStores on one fresh schema of CASAPAY_TEST_POSTGRES; it revokes by hand
// through a connection of its own.
func PostgresKeyStores(t *testing.T) (a, b casapay.Store, revokeByHand func(*testing.T, string)) {
	url := PostgresSchemaURL(t)
	a, b = openTwice(t, func(ctx context.Context) (casapay.Store, error) { return postgres.Open(ctx, url) })
	return a, b, func(t *testing.T, keyID string) {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.WithoutCancel(t.Context()))
		if _, err := conn.Exec(t.Context(), `UPDATE api_keys SET revoked_at = now() WHERE id = $1`, keyID); err != nil {
			t.Fatalf("revoke %s by hand: %v", keyID, err)
		}
	}
}

// openTwice opens two stores with open, closed when the test ends.
func openTwice(t *testing.T, open func(context.Context) (casapay.Store, error)) (a, b casapay.Store) {
	t.Helper()
	var stores [2]casapay.Store
	for i := range stores {
		s, err := open(t.Context())
		if err != nil {
			t.Fatalf("open store %d: %v", i, err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	return stores[0], stores[1]
}
