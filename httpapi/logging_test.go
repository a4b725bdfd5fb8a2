package httpapi_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/storetest"
)

// lockedBuffer is a log destination the server's goroutines and the test can share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestKeysAreNeverLogged sends good, wrong and malformed keys and checks that no secret reaches the log,
// while each request still gets its log line with its Request-Id.
func TestKeysAreNeverLogged(t *testing.T) {
	store := storetest.OpenSQLite(t)
	var logs lockedBuffer
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.NewJSONHandler(&logs, nil)), store, time.Now, nil))
	t.Cleanup(srv.Close)
	e := &env{URL: srv.URL, Store: store}
	e.TestKey, _ = createAccount(t, store, "Logged")
	wrong := "sk_test_" + strings.Repeat("Q", 32)

	var requestIDs []string
	for _, key := range []string{e.TestKey, wrong, "sk_live_short", "not-a-key " + wrong} {
		r := e.doUnchecked(t, request{Method: "POST", Path: "/v1/customers", Key: key, Body: "name=Jane"})
		requestIDs = append(requestIDs, r.Header.Get("Request-Id"))
	}
	srv.Close() // waits for every handler, and so for every log line
	got := logs.String()
	for _, secret := range []string{e.TestKey, wrong, strings.Repeat("Q", 32)} {
		if strings.Contains(got, secret) {
			t.Errorf("the log contains a secret %q:\n%s", secret, got)
		}
	}
	for _, id := range requestIDs {
		if !strings.Contains(got, id) {
			t.Errorf("the log has no line for request %s:\n%s", id, got)
		}
	}
}
