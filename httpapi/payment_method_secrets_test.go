package httpapi_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/openapi/openapitest"
	"github.com/casapay/casapay/postgres"
	"github.com/casapay/casapay/sqlite"
	"github.com/casapay/casapay/storetest"
)

// syncBuffer is a log destination that handlers on many goroutines may write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// TestRawDetailsAreNeverKept sends card numbers, CVCs, IBANs and account numbers, valid and invalid, with
// idempotency keys so the answers are stored, and then searches every byte the server kept or said for
// them: the database (the SQLite file and its WAL, or every row of every PostgreSQL table), the log, and
// every response's headers and body.
func TestRawDetailsAreNeverKept(t *testing.T) {
	for _, s := range []struct {
		name string
		open func(t *testing.T) (store casapay.Store, dump func() []byte)
	}{{"sqlite", openSQLiteFile}, {"postgres", openPostgresDump}} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			store, dump := s.open(t)
			var log syncBuffer
			logger := slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
			srv := httptest.NewServer(httpapi.NewServer(logger, store, time.Now, nil))
			defer srv.Close()
			e := &env{URL: srv.URL, Store: store, checker: openapitest.New(t)}
			e.TestKey, e.LiveKey = createAccount(t, store, "Account A")

			secrets := []string{"4242424242424242", "4000000000009995", "378282246310005", "4111111111111111",
				"5555555555554441", "DE89370400440532013000", "GB33BUKB20201555555555", "00012345", "000123456789", "9876543210123"}
			cvcs := []string{"4729", "873"}
			var said bytes.Buffer
			n := 0
			send := func(key, path, form string) {
				n++
				r := e.doUnchecked(t, request{Method: "POST", Path: path, Key: key, Body: form,
					Header: map[string]string{"Idempotency-Key": fmt.Sprintf("key-%d", n)}})
				fmt.Fprintf(&said, "%d %v %s\n", r.Status, r.Header, r.Body)
				// Sent twice: the second answer is the stored one.
				r = e.doUnchecked(t, request{Method: "POST", Path: path, Key: key, Body: form,
					Header: map[string]string{"Idempotency-Key": fmt.Sprintf("key-%d", n)}})
				fmt.Fprintf(&said, "%d %v %s\n", r.Status, r.Header, r.Body)
			}
			cus := e.createCustomer(t, "name=Jane")["id"].(string)
			send(e.TestKey, "/v1/payment_methods", card("4242 4242 4242 4242", "card[cvc]=873"))
			send(e.TestKey, "/v1/payment_methods", card("4000000000009995", "card[cvc]=873"))
			send(e.TestKey, "/v1/payment_methods", card("378282246310005", "card[cvc]=4729"))
			send(e.TestKey, "/v1/payment_methods", card("378282246310005", "card[cvc]=873")) // wrong CVC length
			send(e.TestKey, "/v1/payment_methods", card("5555555555554441"))                 // fails Luhn
			send(e.TestKey, "/v1/payment_methods", card("4111111111111111"))                 // not a test card
			send(e.LiveKey, "/v1/payment_methods", card("4111111111111111", "card[cvc]=873"))
			send(e.LiveKey, "/v1/payment_methods", card("4242424242424242", "card[cvc]=873")) // a test card in live mode
			send(e.TestKey, "/v1/payment_methods", "type=sepa_debit&sepa_debit[iban]=DE89370400440532013000")
			send(e.TestKey, "/v1/payment_methods", "type=sepa_debit&sepa_debit[iban]=GB33BUKB20201555555555")
			send(e.TestKey, "/v1/payment_methods", "type=bacs_debit&bacs_debit[sort_code]=108800&bacs_debit[account_number]=00012345")
			send(e.TestKey, "/v1/payment_methods", "type=us_bank_account&us_bank_account[routing_number]=110000000&us_bank_account[account_number]=000123456789")
			send(e.TestKey, "/v1/payment_methods", "type=us_bank_account&us_bank_account[routing_number]=110000001&us_bank_account[account_number]=9876543210123")
			send(e.TestKey, "/v1/payment_methods?card[number]=4242424242424242", "type=card&card[exp_month]=1&card[exp_year]=2070")
			send(e.TestKey, "/v1/customers", "payment_method=pm_card_visa")
			pm := e.createPaymentMethod(t, card("378282246310005", "card[cvc]=4729"))["id"].(string)
			send(e.TestKey, "/v1/payment_methods/"+pm+"/attach", "customer="+cus)
			// Numbers pasted where an ID belongs: in a path, in an unknown path, as a parameter's value,
			// and as a parameter's name.
			send(e.TestKey, "/v1/payment_methods/4242424242424242/attach", "customer="+cus)
			send(e.TestKey, "/v1/payment_methods/4242%204242%204242%204242/detach", "")
			send(e.TestKey, "/v1/cards/4000000000009995", "")
			send(e.TestKey, "/v1/customers", "payment_method=378282246310005")
			send(e.TestKey, "/v1/customers/"+cus, "default_payment_method=4111111111111111")
			send(e.TestKey, "/v1/payment_methods/pm_card_visa/attach", "customer=5555555555554441")
			send(e.TestKey, "/v1/customers", "4242424242424242=1")
			if !bytes.Contains(said.Bytes(), []byte(`"last4":"4242"`)) {
				t.Fatalf("no answer showed the card's last4; the requests did not work:\n%s", said.Bytes())
			}

			if err := store.Close(); err != nil {
				t.Fatalf("close store: %v", err)
			}
			for _, where := range []struct {
				name string
				b    []byte
			}{{"database", dump()}, {"log", log.Bytes()}, {"responses", said.Bytes()}} {
				if len(where.b) == 0 || (where.name != "log" && !bytes.Contains(where.b, []byte("4242"))) {
					t.Fatalf("the %s does not even hold the last4 4242: it was not searched\n%s", where.name, where.b)
				}
				for _, secret := range secrets {
					for _, form := range []string{secret, hex.EncodeToString([]byte(secret)), secret[:4] + " " + secret[4:8]} {
						if bytes.Contains(where.b, []byte(form)) {
							t.Errorf("the %s holds %s", where.name, form)
						}
					}
				}
				for _, cvc := range cvcs {
					for _, form := range []string{`"cvc":"` + cvc, `cvc=` + cvc, `"cvc": "` + cvc} {
						if bytes.Contains(where.b, []byte(form)) {
							t.Errorf("the %s holds the CVC %s", where.name, cvc)
						}
					}
				}
				if bytes.Contains(where.b, []byte(`"cvc"`)) && where.name == "database" {
					t.Errorf("the database holds a field named cvc")
				}
			}
		})
	}
}

// openSQLiteFile opens a SQLite store on a new file; dump returns the bytes of the file and its WAL.
func openSQLiteFile(t *testing.T) (casapay.Store, func() []byte) {
	path := filepath.Join(t.TempDir(), "casapay.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	return s, func() []byte {
		var all []byte
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatalf("read %s: %v", p, err)
			}
			all = append(all, b...)
		}
		return all
	}
}

// openPostgresDump opens a PostgreSQL store on a new schema; dump returns every row of every table in
// it as text, bytea columns decoded.
func openPostgresDump(t *testing.T) (casapay.Store, func() []byte) {
	url := storetest.PostgresSchemaURL(t)
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	return s, func() []byte {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(t.Context())
		rows, err := conn.Query(t.Context(), `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
		if err != nil {
			t.Fatalf("list tables: %v", err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("list tables: %v", err)
		}
		var all bytes.Buffer
		for _, table := range tables {
			rows, err := conn.Query(t.Context(), `SELECT row_to_json(t)::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
			if err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			for _, text := range texts {
				all.WriteString(text + "\n")
				// bytea columns appear as \x hex: decode them too.
				for _, part := range strings.Split(text, `\\x`)[1:] {
					end := strings.IndexFunc(part, func(r rune) bool { return !strings.ContainsRune("0123456789abcdef", r) })
					if end < 0 {
						end = len(part)
					}
					if b, err := hex.DecodeString(part[:end&^1]); err == nil {
						all.Write(b)
						all.WriteString("\n")
					}
				}
			}
		}
		return all.Bytes()
	}
}
