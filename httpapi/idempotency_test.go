package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/casapay/casapay/storetest"
)

func TestIdempotency(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		withKey := func(key, body string) request {
			return request{Method: "POST", Path: "/v1/customers", Key: e.TestKey, Body: body, Header: map[string]string{"Idempotency-Key": key}}
		}

		t.Run("a retry replays the first answer", func(t *testing.T) {
			first := e.do(t, withKey("retry-1", "name=Jane&metadata[unit]=4B"))
			mustStatus(t, first, 200)
			if first.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("first answer has Idempotent-Replayed %q, want none", first.Header.Get("Idempotent-Replayed"))
			}
			n := e.countCustomers(t)
			// The same request, as JSON with its keys in another order, is the same request.
			again := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.TestKey, ContentType: "application/json",
				Body: `{"metadata":{"unit":"4B"},"name":"Jane"}`, Header: map[string]string{"Idempotency-Key": "retry-1"}})
			mustStatus(t, again, 200)
			if string(again.Body) != string(first.Body) {
				t.Errorf("replayed body differs:\nfirst %s\nreplay %s", first.Body, again.Body)
			}
			if got := again.Header.Get("Idempotent-Replayed"); got != "true" {
				t.Errorf("Idempotent-Replayed = %q, want true", got)
			}
			if got := e.countCustomers(t); got != n {
				t.Errorf("%d customers after the retry, want %d", got, n)
			}
		})

		t.Run("the same key with other parameters is an idempotency_error", func(t *testing.T) {
			mustStatus(t, e.do(t, withKey("reuse-1", "name=Jane")), 200)
			r := e.do(t, withKey("reuse-1", "name=John"))
			mustStatus(t, r, http.StatusBadRequest)
			if got := r.Error(t); got.Type != "idempotency_error" {
				t.Errorf("type = %q, want idempotency_error", got.Type)
			}
		})

		t.Run("the same key on another endpoint is an idempotency_error", func(t *testing.T) {
			c := e.do(t, withKey("reuse-2", "name=Jane"))
			mustStatus(t, c, 200)
			r := e.do(t, request{Method: "POST", Path: "/v1/customers/" + c.JSON(t)["id"].(string), Key: e.TestKey,
				Body: "name=Jane", Header: map[string]string{"Idempotency-Key": "reuse-2"}})
			mustStatus(t, r, http.StatusBadRequest)
			if got := r.Error(t); got.Type != "idempotency_error" {
				t.Errorf("type = %q, want idempotency_error", got.Type)
			}
		})

		t.Run("updates replay too", func(t *testing.T) {
			id := e.createCustomer(t, "name=Jane")["id"].(string)
			upd := request{Method: "POST", Path: "/v1/customers/" + id, Key: e.TestKey, Body: "metadata[n]=1",
				Header: map[string]string{"Idempotency-Key": "update-1"}}
			first := e.do(t, upd)
			mustStatus(t, first, 200)
			mustStatus(t, e.post(t, "/v1/customers/"+id, "metadata[n]=2"), 200)
			again := e.do(t, upd)
			if string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("update retry answered %s (replayed %q), want the first answer %s", again.Body, again.Header.Get("Idempotent-Replayed"), first.Body)
			}
			if got := e.get(t, "/v1/customers/"+id).JSON(t)["metadata"].(map[string]any)["n"]; got != "2" {
				t.Errorf("metadata[n] = %v after a replay, want 2: a replay must not write", got)
			}
		})

		t.Run("requests rejected by validation are not stored", func(t *testing.T) {
			mustStatus(t, e.do(t, withKey("invalid-1", "email=nope")), 400)
			r := e.do(t, withKey("invalid-1", "email=ok@example.com"))
			mustStatus(t, r, 200)
			if r.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("a valid request after a rejected one was replayed")
			}
		})

		t.Run("keys are scoped to the account and mode", func(t *testing.T) {
			a := e.do(t, withKey("scoped-1", "name=Jane"))
			live := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.LiveKey, Body: "name=Jane", Header: map[string]string{"Idempotency-Key": "scoped-1"}})
			other := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.OtherKey, Body: "name=Jane", Header: map[string]string{"Idempotency-Key": "scoped-1"}})
			for _, r := range []*response{a, live, other} {
				mustStatus(t, r, 200)
				if r.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("scope replayed another scope's answer: %s", r.Body)
				}
			}
			if a.JSON(t)["id"] == live.JSON(t)["id"] || a.JSON(t)["id"] == other.JSON(t)["id"] {
				t.Errorf("scopes shared a customer: %v %v %v", a.JSON(t)["id"], live.JSON(t)["id"], other.JSON(t)["id"])
			}
		})

		t.Run("a key over 255 characters is rejected", func(t *testing.T) {
			r := e.do(t, withKey(strings.Repeat("k", 256), "name=Jane"))
			mustStatus(t, r, 400)
			if got := r.Error(t); got.Type != "idempotency_error" {
				t.Errorf("type = %q, want idempotency_error", got.Type)
			}
		})

		t.Run("sixteen concurrent requests with one key create one customer", func(t *testing.T) {
			n := e.countCustomers(t)
			var wg sync.WaitGroup
			results := make([]*response, 16)
			for i := range results {
				wg.Go(func() { results[i] = e.do(t, withKey("concurrent-1", "name=Once")) })
			}
			wg.Wait()
			var id string
			for _, r := range results {
				switch r.Status {
				case 200:
					got := r.JSON(t)["id"].(string)
					if id == "" {
						id = got
					} else if got != id {
						t.Errorf("two customers created: %s and %s", id, got)
					}
				case 409:
					if got := r.Error(t); got.Type != "idempotency_error" {
						t.Errorf("409 type = %q, want idempotency_error", got.Type)
					}
				default:
					t.Errorf("status %d, want 200 or 409: %s", r.Status, r.Body)
				}
			}
			if got := e.countCustomers(t); got != n+1 {
				t.Errorf("%d customers after 16 concurrent creates, want %d", got, n+1)
			}
		})
	})
}
