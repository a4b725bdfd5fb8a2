package httpapi_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/sqlite"
)

// TestStoreOutage closes the store under a running server: requests answer a generic 500 api_error,
// and the driver's error text reaches only the log.
func TestStoreOutage(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "casapay.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	key, _ := createAccount(t, store, "Outage")
	var logs bytes.Buffer
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.NewTextHandler(&logs, nil)), store, time.Now, nil))
	t.Cleanup(srv.Close)
	if err := store.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	req, _ := http.NewRequest("POST", srv.URL+"/v1/customers", strings.NewReader("name=Jane"))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer res.Body.Close()
	r := &response{Status: res.StatusCode, Header: res.Header}
	if r.Body, err = io.ReadAll(res.Body); err != nil {
		t.Fatalf("read body: %v", err)
	}
	mustStatus(t, r, http.StatusInternalServerError)
	e := r.Error(t)
	if e.Type != "api_error" || strings.Contains(strings.ToLower(e.Message), "sql") || strings.Contains(e.Message, "closed") {
		t.Errorf("error %+v, want a generic api_error", e)
	}
	if !strings.Contains(logs.String(), "request failed") || !strings.Contains(logs.String(), res.Header.Get("Request-Id")) {
		t.Errorf("log does not record the failure with its request ID:\n%s", logs.String())
	}
}
