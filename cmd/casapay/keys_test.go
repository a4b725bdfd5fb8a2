package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay/sqlite"
)

// cli runs the casapay binary with args and returns what it printed.
func cli(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(casapayBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("casapay %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// TestRevokedKeyStopsEverywhere runs two `casapay serve` processes on one database, each of which keeps
// the keys it has looked up, and checks the promise the README makes: a revoked key stops working in
// every process within a second. It revokes one key with `casapay keys revoke`, a third process, and
// another by changing its row directly, as a revocation whose notice never arrives (its process stopped
// after the commit); a second after each, both servers refuse the key, while the account's other key
// still works.
func TestRevokedKeyStopsEverywhere(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dsn := db(t)
			var acct struct {
				ID            string `json:"id"`
				TestSecretKey string `json:"test_secret_key"`
			}
			if err := json.Unmarshal(cli(t, "accounts", "create", "--db", dsn, "--name", "Revocation Lettings", "--json"), &acct); err != nil {
				t.Fatal(err)
			}
			newKey := func() (id, secret string) {
				var k struct{ ID, Secret string }
				if err := json.Unmarshal(cli(t, "keys", "create", "--db", dsn, "--account", acct.ID, "--mode", "test", "--json"), &k); err != nil {
					t.Fatal(err)
				}
				return k.ID, k.Secret
			}
			servers := []*serveProcess{startServeProcess(t, dsn), startServeProcess(t, dsn)}
			client := newKeepAliveClient(t)
			status := func(s *serveProcess, secret string) int {
				a, err := do(t.Context(), client, "GET", s.URL+"/v1/customers?limit=1", secret, "", nil)
				if err != nil {
					t.Fatalf("GET %s: %v", s.URL, err)
				}
				return a.Status
			}
			// use has every server look the key up, and keep it, and checks that it works.
			use := func(secret string) {
				for i, s := range servers {
					for range 5 {
						if code := status(s, secret); code != http.StatusOK {
							t.Fatalf("server %d answered a working key %d, want 200", i, code)
						}
					}
				}
			}
			// refusedWithinASecond waits until a second after revoked, then asks each server.
			refusedWithinASecond := func(how, secret string, revoked time.Time) {
				time.Sleep(time.Until(revoked.Add(time.Second)))
				for i, s := range servers {
					if code := status(s, secret); code != http.StatusUnauthorized {
						t.Errorf("a second after a key was %s, server %d answered it %d, want 401", how, i, code)
					}
					if code := status(s, acct.TestSecretKey); code != http.StatusOK {
						t.Errorf("server %d answered the account's other key %d, want 200", i, code)
					}
				}
			}

			id, secret := newKey()
			use(secret)
			cli(t, "keys", "revoke", "--db", dsn, "--account", acct.ID, "--id", id)
			refusedWithinASecond("revoked with casapay keys revoke", secret, time.Now())

			id, secret = newKey()
			use(secret)
			revokeRow(t, dsn, id)
			refusedWithinASecond("revoked in the database, with no notice to the servers", secret, time.Now())
		})
	}
}

// revokeRow marks a key revoked with an UPDATE of its row, outside CasaPay: no process is told.
func revokeRow(t *testing.T, dsn, keyID string) {
	t.Helper()
	ctx := t.Context()
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err := sql.Open("sqlite", sqlite.DSN(path)) // waits for the servers' writes
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, time.Now().Unix(), keyID); err != nil {
			t.Fatalf("revoke %s in the database: %v", keyID, err)
		}
		return
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1`, keyID); err != nil {
		t.Fatalf("revoke %s in the database: %v", keyID, err)
	}
}
