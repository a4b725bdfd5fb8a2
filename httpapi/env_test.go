package httpapi_test

import (
	"cmp"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/openapi/openapitest"
	"github.com/casapay/casapay/storetest"
)

// env is a CasaPay server over real HTTP on a fresh store, with two accounts and their keys.
type env struct {
	URL      string
	Store    casapay.Store
	TestKey  string // account A, test mode
	LiveKey  string // account A, live mode
	OtherKey string // account B, test mode
	checker  *openapitest.Checker
}

// forEachStore runs fn once per store, as a subtest named after the store.
func forEachStore(t *testing.T, fn func(t *testing.T, open storetest.Opener)) {
	for _, s := range storetest.Stores() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, s.Open)
		})
	}
}

func newEnv(t *testing.T, open storetest.Opener) *env {
	t.Helper()
	store := open(t)
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	srv := httptest.NewServer(httpapi.NewServer(logger, store, time.Now, nil))
	t.Cleanup(srv.Close)
	e := &env{URL: srv.URL, Store: store, checker: openapitest.New(t)}
	e.TestKey, e.LiveKey = createAccount(t, store, "Account A")
	e.OtherKey, _ = createAccount(t, store, "Account B")
	return e
}

// createAccount stores an account and returns its test and live secrets.
func createAccount(t *testing.T, store casapay.Store, name string) (test, live string) {
	t.Helper()
	a, keys, test, live := casapay.NewAccount(name, time.Now())
	if err := store.CreateAccount(t.Context(), a, keys); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return test, live
}

// response is an answer as the client saw it.
type response struct {
	Path   string // the request's path, with its query
	Status int
	Header http.Header
	Body   []byte
}

// decode unmarshals the body into a generic map.
func (r *response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Error returns the error object of an error response.
func (r *response) Error(t *testing.T) casapay.Error {
	t.Helper()
	var env struct{ Error *casapay.Error }
	if err := json.Unmarshal(r.Body, &env); err != nil || env.Error == nil {
		t.Fatalf("status %d: body is not an error envelope: %v\n%s", r.Status, err, r.Body)
	}
	return *env.Error
}

// request describes one call. Body is sent as is; ContentType defaults to form encoding when Body is set.
type request struct {
	Method      string
	Path        string
	Key         string
	Body        string
	ContentType string
	Header      map[string]string
	URL         string // the base URL of another server than e's
}

// do sends req, checks the answer against the OpenAPI document and the headers every answer carries,
// and returns it.
func (e *env) do(t *testing.T, req request) *response {
	t.Helper()
	r, hr := e.send(t, req)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" && req.Path != "/openapi.yaml" {
		t.Errorf("%s %s: Content-Type = %q, want application/json", req.Method, req.Path, ct)
	}
	if id := r.Header.Get("Request-Id"); !strings.HasPrefix(id, "req_") {
		t.Errorf("%s %s: Request-Id = %q, want req_…", req.Method, req.Path, id)
	}
	e.checker.Check(t, hr, r.Status, r.Header, r.Body)
	return r
}

// doUnchecked sends req and returns the answer without checking it.
func (e *env) doUnchecked(t *testing.T, req request) *response {
	t.Helper()
	r, _ := e.send(t, req)
	return r
}

func (e *env) send(t *testing.T, req request) (*response, *http.Request) {
	t.Helper()
	var body io.Reader
	if req.Body != "" {
		body = strings.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(t.Context(), req.Method, cmp.Or(req.URL, e.URL)+req.Path, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if req.Body != "" {
		ct := req.ContentType
		if ct == "" {
			ct = "application/x-www-form-urlencoded"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if req.Key != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Key)
	}
	for k, v := range req.Header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return &response{Path: req.Path, Status: res.StatusCode, Header: res.Header, Body: b}, hr
}

// get, post and del are shorthands with account A's test key.
func (e *env) get(t *testing.T, path string) *response {
	t.Helper()
	return e.do(t, request{Method: "GET", Path: path, Key: e.TestKey})
}

func (e *env) post(t *testing.T, path, form string) *response {
	t.Helper()
	return e.do(t, request{Method: "POST", Path: path, Key: e.TestKey, Body: form})
}

func (e *env) postJSON(t *testing.T, path, body string) *response {
	t.Helper()
	return e.do(t, request{Method: "POST", Path: path, Key: e.TestKey, Body: body, ContentType: "application/json"})
}

func (e *env) del(t *testing.T, path string) *response {
	t.Helper()
	return e.do(t, request{Method: "DELETE", Path: path, Key: e.TestKey})
}

// mustStatus fails the test unless r has the wanted status.
func mustStatus(t *testing.T, r *response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status = %d, want %d; body:\n%s", r.Status, want, r.Body)
	}
}

// createCustomer creates a customer with a form body and returns its decoded object.
func (e *env) createCustomer(t *testing.T, form string) map[string]any {
	t.Helper()
	r := e.post(t, "/v1/customers", form)
	mustStatus(t, r, http.StatusOK)
	return r.JSON(t)
}

// countCustomers lists every customer of account A's test mode and returns how many there are.
func (e *env) countCustomers(t *testing.T) int {
	t.Helper()
	r := e.get(t, "/v1/customers?limit=100")
	mustStatus(t, r, http.StatusOK)
	return len(r.JSON(t)["data"].([]any))
}
