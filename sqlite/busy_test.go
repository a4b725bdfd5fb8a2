package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
)

// TestQueueFull fills the writer's queue: the next write over HTTP answers 503 api_error with
// Retry-After at once, writes nothing, and writes are accepted again once the queue drains.
func TestQueueFull(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "casapay.db"))
	a, keys, secret, _ := casapay.NewAccount("Busy Lettings", time.Unix(1706140800, 0))
	if err := s.CreateAccount(t.Context(), a, keys); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), s, time.Now, nil))
	t.Cleanup(srv.Close)
	post := func() *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/v1/customers", strings.NewReader("name=Queued"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /v1/customers: %v", err)
		}
		return res
	}

	s.queue.mu.Lock()
	s.queue.limit = 2
	s.queue.mu.Unlock()
	release := holdWriter(t, s)
	queued := whenQueued(s, 2)
	answers := make(chan int, 2)
	for range 2 {
		go func() {
			res := post()
			res.Body.Close()
			answers <- res.StatusCode
		}()
	}
	<-queued
	res := post()
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" ||
		!strings.Contains(string(body), `"type":"api_error"`) {
		t.Errorf("POST with a full queue = %d, Retry-After %q, %s; want 503 api_error with Retry-After: 1",
			res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if err := release(); err != nil {
		t.Fatalf("held write: %v", err)
	}
	for range 2 {
		if status := <-answers; status != http.StatusOK {
			t.Errorf("queued POST = %d, want 200", status)
		}
	}
	page, _, err := s.ListCustomers(t.Context(), casapay.Scope{AccountID: a.ID}, casapay.CustomerFilter{})
	if err != nil || len(page) != 2 {
		t.Errorf("ListCustomers = %d customers, %v; want the 2 queued, not the refused one", len(page), err)
	}
	res = post()
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("POST after the queue drained = %d, want 200", res.StatusCode)
	}
}

// holds lets casapay_test_hold(token), a SQL function, pause the statement that calls it: on its first
// call for a token it closes the token's started channel and waits for release.
var holds sync.Map // int64 token → *hold

type hold struct {
	started, release chan struct{}
	once             sync.Once
}

var holdTokens atomic.Int64

func init() {
	sqlite.MustRegisterScalarFunction("casapay_test_hold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		token, _ := args[0].(int64)
		v, ok := holds.Load(token)
		if !ok {
			return nil, fmt.Errorf("no hold %d", token)
		}
		h := v.(*hold)
		h.once.Do(func() {
			close(h.started)
			<-h.release
		})
		return int64(1), nil
	})
}

// TestCancelWhileRunning cancels a request's context while its statement runs in the middle of a batch:
// the statement finishes, since it runs without the caller's cancellation, and the batch commits every
// request. Were the caller's context to reach the statement, the driver would interrupt it, and an
// interrupted write rolls back the whole transaction, the other requests' writes with it.
func TestCancelWhileRunning(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "casapay.db"))
	scope := newScope(t, s)

	token := holdTokens.Add(1)
	h := &hold{started: make(chan struct{}), release: make(chan struct{})}
	holds.Store(token, h)
	t.Cleanup(func() { holds.Delete(token) })

	release := holdWriter(t, s)
	before, after := newTestCustomer(t, scope, "Before"), newTestCustomer(t, scope, "After")
	victim := newTestCustomer(t, scope, "Cancelled")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var beforeErr, victimErr, afterErr error
	var wg sync.WaitGroup
	for i, send := range []func(){
		func() { _, beforeErr = s.CreateCustomer(t.Context(), scope, before, casapay.Request{}) },
		func() {
			victimErr = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				row, err := customerRow(scope, victim)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, insertCustomerSQL, row...); err != nil {
					return err
				}
				// A statement long enough to be running when the cancellation lands: it pauses at its
				// first row, and then steps through a hundred thousand more.
				var n int64
				return tx.QueryRowContext(ctx, `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r
					WHERE i < 100000 AND casapay_test_hold(?)) SELECT count(*) FROM r`, token).Scan(&n)
			})
		},
		func() { _, afterErr = s.CreateCustomer(t.Context(), scope, after, casapay.Request{}) },
	} {
		queued := whenQueued(s, i+1)
		wg.Go(send)
		<-queued
	}
	if err := release(); err != nil {
		t.Fatalf("held write: %v", err)
	}
	<-h.started
	cancel()
	close(h.release)
	wg.Wait()

	for _, r := range []struct {
		name string
		err  error
	}{{"before", beforeErr}, {"victim", victimErr}, {"after", afterErr}} {
		if r.err != nil && !(r.name == "victim" && errors.Is(r.err, context.Canceled)) {
			t.Errorf("request %s: %v", r.name, r.err)
		}
	}
	for _, c := range []*casapay.Customer{before, after} {
		if _, err := s.FindCustomer(t.Context(), scope, c.ID); err != nil {
			t.Errorf("FindCustomer(%s) after a request of its batch was cancelled: %v", *c.Name, err)
		}
	}
}
