package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/storetest"
)

// rawRequest writes req as it is to addr and reads the answer.
func rawRequest(t *testing.T, addr, req string) (*http.Response, casapay.Error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatalf("write: %v", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer to %q: %v", req, err)
	}
	defer res.Body.Close()
	var env struct{ Error casapay.Error }
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		t.Errorf("answer to %q is not the JSON error envelope: %v", strings.SplitN(req, "\r\n", 2)[0], err)
	}
	return res, env.Error
}

// TestIdempotencyKeyForm: a key must be valid UTF-8, without control characters, and at most 255
// characters, counted as characters; any other is a 400 idempotency_error that writes nothing.
func TestIdempotencyKeyForm(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		u, _ := strings.CutPrefix(e.URL, "http://")
		for name, key := range map[string]string{
			"not UTF-8":      "key-\xff\xfe",
			"a tab":          "key\twith a tab",
			"256 characters": strings.Repeat("é", 256),
		} {
			req := "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + e.TestKey +
				"\r\nIdempotency-Key: " + key + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\nConnection: close\r\n\r\nname=Bad"
			res, got := rawRequest(t, u, req)
			if res.StatusCode != http.StatusBadRequest || got.Type != "idempotency_error" || strings.Contains(got.Message, key) {
				t.Errorf("%s: %d %+v, want 400 idempotency_error without the key", name, res.StatusCode, got)
			}
			if res.Header.Get("Idempotency-Key") != "" {
				t.Errorf("%s: the refused key was echoed", name)
			}
		}
		if n := e.countCustomers(t); n != 0 {
			t.Errorf("%d customers after refused keys, want 0", n)
		}
		// 255 characters of two bytes each is a key like any other.
		long := strings.Repeat("é", 255)
		for range 2 {
			r := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.TestKey, Body: "name=Long", Header: map[string]string{"Idempotency-Key": long}})
			mustStatus(t, r, http.StatusOK)
		}
		if n := e.countCustomers(t); n != 1 {
			t.Errorf("%d customers after a create and its replay, want 1", n)
		}
	})
}

func TestTwoAuthorizationHeaders(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		u, _ := strings.CutPrefix(e.URL, "http://")
		res, got := rawRequest(t, u, "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+e.OtherKey+
			"\r\nAuthorization: Bearer "+e.TestKey+"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\nConnection: close\r\n\r\nname=Two")
		if res.StatusCode != http.StatusBadRequest || got.Type != "invalid_request_error" {
			t.Errorf("two Authorization headers: %d %+v, want 400", res.StatusCode, got)
		}
		if n := e.countCustomers(t); n != 0 {
			t.Errorf("%d customers after the refused request, want 0", n)
		}
	})
}

func TestEchoedNamesAreCut(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		name := strings.Repeat("n", 100_000)
		r := e.post(t, "/v1/customers", name+"=x")
		mustStatus(t, r, http.StatusBadRequest)
		if got := r.Error(t); len(got.Message) > 200 || len(got.Param) > 110 || !strings.HasSuffix(got.Param, "…") {
			t.Errorf("unknown parameter of 100,000 characters echoed as %d characters (param %d)", len(got.Message), len(got.Param))
		}
		// Exactly 100 characters, then the ellipsis, counted in characters, not bytes.
		wide := strings.Repeat("é", 150)
		r = e.post(t, "/v1/customers", wide+"=x")
		if got := r.Error(t); got.Param != strings.Repeat("é", 100)+"…" {
			t.Errorf("a name of 150 characters echoed as %q, want its first 100 and an ellipsis", got.Param)
		}
		r = e.get(t, "/v1/"+strings.Repeat("p", 10_000))
		mustStatus(t, r, http.StatusNotFound)
		if got := r.Error(t); len(got.Message) > 250 || !strings.Contains(got.Message, "/v1/"+strings.Repeat("p", 96)+"…") {
			t.Errorf("unknown path of 10,000 characters echoed as %q, want its first 100 characters and an ellipsis", got.Message)
		}
	})
}

// TestOddTargetsAnswerJSON: CONNECT, a "*" target and OPTIONS * get the JSON envelope, as serve
// configures its server.
func TestOddTargetsAnswerJSON(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		store := open(t)
		srv := httptest.NewUnstartedServer(httpapi.NewServer(slog.New(slog.NewTextHandler(t.Output(), nil)), store, time.Now, nil))
		srv.Config.DisableGeneralOptionsHandler = true
		srv.Start()
		t.Cleanup(srv.Close)
		u, _ := strings.CutPrefix(srv.URL, "http://")
		for req, want := range map[string]int{
			"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n": http.StatusMethodNotAllowed,
			"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n":        http.StatusNotFound,
			"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n":            http.StatusNotFound,
		} {
			res, got := rawRequest(t, u, req)
			if res.StatusCode != want || got.Type != "invalid_request_error" {
				t.Errorf("%q: %d %+v, want %d and the envelope", strings.SplitN(req, "\r\n", 2)[0], res.StatusCode, got, want)
			}
			if want == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "" {
				t.Errorf("CONNECT: 405 without Allow")
			}
		}
	})
}

// TestAnswersAreCompact: every answer is compact JSON, built once and never indented into a second copy,
// with a Content-Length that matches it; a replayed write is byte-for-byte the first answer.
func TestAnswersAreCompact(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		first := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.TestKey, Body: "name=Jane&metadata[unit]=4B",
			Header: map[string]string{"Idempotency-Key": "compact-1"}})
		mustStatus(t, first, http.StatusOK)
		id := first.JSON(t)["id"].(string)
		replay := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.TestKey, Body: "name=Jane&metadata[unit]=4B",
			Header: map[string]string{"Idempotency-Key": "compact-1"}})
		if !bytes.Equal(replay.Body, first.Body) {
			t.Errorf("replay:\n%s\nfirst answer:\n%s", replay.Body, first.Body)
		}
		for _, r := range []*response{first, replay, e.get(t, "/v1/customers/"+id), e.get(t, "/v1/customers?limit=3"),
			e.get(t, "/v1/customers/cus_missing"), e.post(t, "/v1/customers", "nope=1")} {
			var compact bytes.Buffer
			if err := json.Compact(&compact, r.Body); err != nil {
				t.Fatalf("%s: %v", r.Path, err)
			}
			compact.WriteByte('\n')
			if !bytes.Equal(compact.Bytes(), r.Body) {
				t.Errorf("%s answered %q, want compact JSON and a newline", r.Path, r.Body)
			}
			if got := r.Header.Get("Content-Length"); got != strconv.Itoa(len(r.Body)) {
				t.Errorf("%s: Content-Length %q for %d bytes", r.Path, got, len(r.Body))
			}
		}
	})
}
