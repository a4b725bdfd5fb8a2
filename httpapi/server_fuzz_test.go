package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/sqlite"
)

func FuzzSecretFrom(f *testing.F) {
	for _, s := range []string{
		"", "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc", "bearer  sk_live_x", "Bearer ",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("sk_test_4eC39HqLyjWDarjtT1zdp7dc:")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte(":pw")), "Basic !!!", "Basic", "Token abc", "\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		secret, err := secretFrom(header)
		if err != nil {
			e, ok := err.(*casapay.Error)
			if !ok || e.Status != http.StatusUnauthorized || e.Message == "" {
				t.Fatalf("secretFrom(%q) error = %#v, want a 401 *casapay.Error", header, err)
			}
			return
		}
		if secret == "" {
			t.Fatalf("secretFrom(%q) = \"\" without an error", header)
		}
		if masked := casapay.MaskSecret(secret); len(secret) > 12 && strings.Contains(masked, secret[4:len(secret)-4]) {
			t.Fatalf("MaskSecret(%q) = %q shows the middle of the key", secret, masked)
		}
	})
}

// FuzzServer sends arbitrary requests through the whole server on a real SQLite store: whatever the
// method, path, headers and body, the answer is JSON with a Request-Id, and never a 500.
func FuzzServer(f *testing.F) {
	store, err := sqlite.Open(f.Context(), filepath.Join(f.TempDir(), "casapay.db"))
	if err != nil {
		f.Fatalf("sqlite.Open: %v", err)
	}
	f.Cleanup(func() { store.Close() })
	a, keys, secret, _ := casapay.NewAccount("Fuzz", time.Now())
	if err := store.CreateAccount(f.Context(), a, keys); err != nil {
		f.Fatalf("CreateAccount: %v", err)
	}
	srv := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, time.Now, nil)

	for _, s := range []struct{ method, target, ctype, body, idem string }{
		{"POST", "/v1/customers", "application/json", `{"name":"Jane Doe","metadata":{"unit":"4B"}}`, ""},
		{"POST", "/v1/customers", "application/x-www-form-urlencoded", "name=Jane&address[city]=London&expand[0]=default_payment_method", "k1"},
		{"POST", "/v1/customers?metadata[a]=b", "", "metadata=", "k1"},
		{"GET", "/v1/customers?limit=3&created[gte]=0&email=a@b.co", "", "", ""},
		{"GET", "/v1/customers?starting_after=cus_AAAAAAAAAAAAAAAAAAAAAAAA", "", "", ""},
		{"GET", "/v1/customers/cus_AAAAAAAAAAAAAAAAAAAAAAAA", "", "", ""},
		{"DELETE", "/v1/customers/cus_%FF", "", "", ""},
		{"PATCH", "/v1/customers", "", "", ""},
		{"GET", "/nope", "", "", ""},
		{"POST", "/v1/customers", "application/json", "{\"name\":\"\xff\"}", ""},
	} {
		f.Add(s.method, s.target, s.ctype, s.body, s.idem)
	}
	f.Fuzz(func(t *testing.T, method, target, ctype, body, idem string) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") {
			t.Skip() // net/http rejects these before any handler runs
		}
		req, err := http.NewRequest(method, "http://casapay.test"+target, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		if ctype != "" && utf8.ValidString(ctype) {
			req.Header.Set("Content-Type", ctype)
		}
		if idem != "" && utf8.ValidString(idem) {
			req.Header.Set("Idempotency-Key", idem)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if target == "/openapi.yaml" && method == "GET" {
			return
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q, want application/json", method, target, ct)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: body is not JSON: %q", method, target, rec.Body.String())
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", method, target, rec.Code, rec.Body.String())
		}
		if !strings.HasPrefix(rec.Header().Get("Request-Id"), "req_") {
			t.Fatalf("%s %s: no Request-Id", method, target)
		}
	})
}

// validMethod reports whether m is a token net/http accepts as a method.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c > 127 || !strings.ContainsRune("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", c) {
			return false
		}
	}
	return true
}
