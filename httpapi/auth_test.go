package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storetest"
)

func TestAuthentication(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		id := e.createCustomer(t, "name=Jane")["id"].(string)
		basic := func(user string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":")) }
		tests := []struct {
			name   string
			header string
			status int
		}{
			{"bearer", "Bearer " + e.TestKey, 200},
			{"basic with the key as user name", basic(e.TestKey), 200},
			{"no key", "", 401},
			{"unknown key", "Bearer sk_test_" + strings.Repeat("A", 32), 401},
			{"not a secret key", "Bearer pk_test_123", 401},
			{"empty bearer", "Bearer ", 401},
			{"basic without a user", basic(""), 401},
			{"basic that is not base64", "Basic !!!", 401},
			{"unknown scheme", "Token " + e.TestKey, 401},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(t, request{Method: "GET", Path: "/v1/customers/" + id, Header: map[string]string{"Authorization": tt.header}})
				mustStatus(t, r, tt.status)
				if tt.status == 401 {
					if got := r.Error(t); got.Type != "invalid_request_error" || got.Message == "" {
						t.Errorf("error %+v, want invalid_request_error with a message", got)
					}
				}
			})
		}

		t.Run("the message masks the key", func(t *testing.T) {
			wrong := "sk_test_" + strings.Repeat("Z", 28) + "WXYZ"
			r := e.do(t, request{Method: "GET", Path: "/v1/customers", Key: wrong})
			mustStatus(t, r, 401)
			msg := r.Error(t).Message
			if strings.Contains(msg, strings.Repeat("Z", 28)) || !strings.Contains(msg, "WXYZ") {
				t.Errorf("message %q, want the key masked but for its last four characters", msg)
			}
		})

		t.Run("a revoked key gets 401 at once", func(t *testing.T) {
			scope := scopeOf(t, e.Store, e.TestKey)
			secret, key := casapay.NewAPIKey(scope.AccountID, false, time.Now())
			if err := e.Store.CreateAPIKey(t.Context(), key); err != nil {
				t.Fatalf("CreateAPIKey: %v", err)
			}
			mustStatus(t, e.do(t, request{Method: "GET", Path: "/v1/customers/" + id, Key: secret}), 200)
			if err := e.Store.RevokeAPIKey(t.Context(), scope.AccountID, key.ID, time.Now()); err != nil {
				t.Fatalf("RevokeAPIKey: %v", err)
			}
			mustStatus(t, e.do(t, request{Method: "GET", Path: "/v1/customers/" + id, Key: secret}), 401)
			mustStatus(t, e.do(t, request{Method: "GET", Path: "/v1/customers/" + id, Key: e.TestKey}), 200)
		})

		t.Run("health and the OpenAPI document need no key", func(t *testing.T) {
			mustStatus(t, e.do(t, request{Method: "GET", Path: "/healthz"}), 200)
			r := e.do(t, request{Method: "GET", Path: "/openapi.yaml"})
			mustStatus(t, r, 200)
			if !strings.HasPrefix(string(r.Body), "openapi: 3") {
				t.Errorf("/openapi.yaml starts %q, want an OpenAPI 3 document", r.Body[:min(len(r.Body), 40)])
			}
		})
	})
}

// scopeOf returns the scope a secret grants.
func scopeOf(t *testing.T, store casapay.Store, secret string) casapay.Scope {
	t.Helper()
	k, err := store.FindAPIKey(t.Context(), casapay.HashAPIKey(secret))
	if err != nil {
		t.Fatalf("FindAPIKey: %v", err)
	}
	return k.Scope()
}

func TestIsolation(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		id := e.createCustomer(t, "name=Private&email=private@example.com")["id"].(string)
		for _, other := range []struct{ name, key string }{{"another account", e.OtherKey}, {"live key of the same account", e.LiveKey}} {
			t.Run(other.name, func(t *testing.T) {
				for _, req := range []request{
					{Method: "GET", Path: "/v1/customers/" + id},
					{Method: "POST", Path: "/v1/customers/" + id, Body: "name=Stolen"},
					{Method: "DELETE", Path: "/v1/customers/" + id},
					{Method: "GET", Path: "/v1/customers?starting_after=" + id},
				} {
					req.Key = other.key
					r := e.do(t, req)
					mustStatus(t, r, http.StatusNotFound)
					if got := r.Error(t); got.Code != "resource_missing" {
						t.Errorf("%s %s: code %q, want resource_missing", req.Method, req.Path, got.Code)
					}
				}
				for _, path := range []string{"/v1/customers", "/v1/customers?email=private@example.com"} {
					r := e.do(t, request{Method: "GET", Path: path, Key: other.key})
					if got := ids(t, r); len(got) != 0 {
						t.Errorf("GET %s listed %v, want nothing", path, got)
					}
				}
			})
		}
		// Nothing the others tried changed the customer.
		if got := e.get(t, "/v1/customers/"+id).JSON(t); got["name"] != "Private" {
			t.Errorf("name = %v, want Private", got["name"])
		}
	})
}

func TestResponseHeaders(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		// What Stripe SDKs send, including a Stripe-Version CasaPay does not know.
		r := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.TestKey, Body: "name=Jane", Header: map[string]string{
			"Stripe-Version":             "2099-01-01.future",
			"X-Stripe-Client-User-Agent": `{"lang":"go"}`,
			"User-Agent":                 "Stripe/v1 GoBindings/82.5.1",
		}})
		mustStatus(t, r, 200)
		seen := map[string]bool{}
		for range 3 {
			id := e.get(t, "/v1/customers").Header.Get("Request-Id")
			if seen[id] {
				t.Errorf("Request-Id %q repeated", id)
			}
			seen[id] = true
		}
	})
}
