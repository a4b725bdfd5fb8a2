package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/casapay/casapay"
)

func TestRecoverPanics(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	h := assignRequestID(recoverPanics(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("secret internal detail")
	})))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer res.Body.Close()
	var body struct{ Error casapay.Error }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("decode answer to a panic: %v", err)
	}
	if res.StatusCode != 500 || body.Error.Type != "api_error" {
		t.Errorf("status %d type %q, want 500 api_error", res.StatusCode, body.Error.Type)
	}
	if strings.Contains(body.Error.Message, "secret") {
		t.Errorf("message %q leaks the panic", body.Error.Message)
	}
	if !strings.Contains(logs.String(), "secret internal detail") || !strings.Contains(logs.String(), res.Header.Get("Request-Id")) {
		t.Errorf("log lacks the panic or the request ID:\n%s", logs.String())
	}
}
