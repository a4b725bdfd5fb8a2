package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storetest"
)

// listEvents lists account A's test-mode events with query and returns the decoded page.
func (e *env) listEvents(t *testing.T, query string) []map[string]any {
	t.Helper()
	r := e.get(t, "/v1/events?"+query)
	mustStatus(t, r, http.StatusOK)
	var page struct {
		Object  string           `json:"object"`
		URL     string           `json:"url"`
		HasMore bool             `json:"has_more"`
		Data    []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		t.Fatalf("decode event list: %v", err)
	}
	if page.Object != "list" || page.URL != "/v1/events" {
		t.Errorf("event list envelope = %q %q, want list /v1/events", page.Object, page.URL)
	}
	return page.Data
}

func fieldOf(events []map[string]any, field string) []any {
	out := []any{}
	for _, e := range events {
		out = append(out, e[field])
	}
	return out
}

// TestEvents follows a customer through the API and reads what each change recorded at /v1/events.
func TestEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)

		create := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.TestKey,
			Body: "name=Jane+Doe&email=jane.doe%40example.com&metadata[unit]=4B", Header: map[string]string{"Idempotency-Key": "create-jane"}})
		mustStatus(t, create, http.StatusOK)
		if got := create.Header.Get("Idempotency-Key"); got != "create-jane" {
			t.Errorf("create answered Idempotency-Key %q, want the request's create-jane", got)
		}
		id := create.JSON(t)["id"].(string)
		retry := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.TestKey,
			Body: "name=Jane+Doe&email=jane.doe%40example.com&metadata[unit]=4B", Header: map[string]string{"Idempotency-Key": "create-jane"}})
		mustStatus(t, retry, http.StatusOK)
		if retry.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry was not replayed: %s", retry.Body)
		}
		mustStatus(t, e.post(t, "/v1/customers/"+id, "name=Jane+Doe&metadata[unit]=4B"), http.StatusOK) // changes nothing
		update := e.post(t, "/v1/customers/"+id, "email=jane.new%40example.com")
		mustStatus(t, update, http.StatusOK)
		deleted := e.del(t, "/v1/customers/"+id)
		mustStatus(t, deleted, http.StatusOK)

		events := e.listEvents(t, "")
		wantTypes := []any{casapay.EventCustomerDeleted, casapay.EventCustomerUpdated, casapay.EventCustomerCreated}
		if diff := cmp.Diff(wantTypes, fieldOf(events, "type")); diff != "" {
			t.Fatalf("event types (-want +got):\n%s", diff)
		}
		byType := map[string]map[string]any{}
		for _, ev := range events {
			byType[ev["type"].(string)] = ev
			if ev["object"] != "event" || ev["livemode"] != false || ev["api_version"] != casapay.APIVersion || ev["pending_webhooks"] != 0.0 {
				t.Errorf("event %s = %v, want a test-mode event of version %s with no pending webhooks", ev["id"], ev, casapay.APIVersion)
			}
		}
		for _, tt := range []struct {
			typ      string
			answer   *response
			key      any
			object   map[string]any
			previous any
		}{
			{casapay.EventCustomerCreated, create, "create-jane", create.JSON(t), nil},
			{casapay.EventCustomerUpdated, update, nil, update.JSON(t), map[string]any{"email": "jane.doe@example.com"}},
		} {
			ev := byType[tt.typ]
			data := ev["data"].(map[string]any)
			if diff := cmp.Diff(tt.object, data["object"]); diff != "" {
				t.Errorf("%s data.object differs from the response (-response +event):\n%s", tt.typ, diff)
			}
			if diff := cmp.Diff(tt.previous, data["previous_attributes"]); diff != "" {
				t.Errorf("%s previous_attributes (-want +got):\n%s", tt.typ, diff)
			}
			want := map[string]any{"id": tt.answer.Header.Get("Request-Id"), "idempotency_key": tt.key}
			if diff := cmp.Diff(want, ev["request"]); diff != "" {
				t.Errorf("%s request (-want +got):\n%s", tt.typ, diff)
			}
		}
		gone := byType[casapay.EventCustomerDeleted]["data"].(map[string]any)["object"].(map[string]any)
		if gone["deleted"] != true || gone["id"] != id || gone["email"] != "jane.new@example.com" {
			t.Errorf("customer.deleted data.object = %v, want the whole customer, deleted", gone)
		}

		for _, ev := range events {
			r := e.get(t, "/v1/events/"+ev["id"].(string))
			mustStatus(t, r, http.StatusOK)
			if diff := cmp.Diff(ev, r.JSON(t)); diff != "" {
				t.Errorf("GET /v1/events/%s differs from the listed event (-list +get):\n%s", ev["id"], diff)
			}
			for _, key := range []string{e.LiveKey, e.OtherKey} {
				r := e.do(t, request{Method: "GET", Path: "/v1/events/" + ev["id"].(string), Key: key})
				mustStatus(t, r, http.StatusNotFound)
			}
		}
		for _, key := range []string{e.LiveKey, e.OtherKey} {
			r := e.do(t, request{Method: "GET", Path: "/v1/events", Key: key})
			mustStatus(t, r, http.StatusOK)
			if n := len(r.JSON(t)["data"].([]any)); n != 0 {
				t.Errorf("another scope lists %d events, want none", n)
			}
		}
		// A live-mode change is a live-mode event, seen only with the live key.
		live := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.LiveKey, Body: "name=Live"})
		mustStatus(t, live, http.StatusOK)
		r := e.do(t, request{Method: "GET", Path: "/v1/events", Key: e.LiveKey})
		mustStatus(t, r, http.StatusOK)
		if data := r.JSON(t)["data"].([]any); len(data) != 1 || data[0].(map[string]any)["livemode"] != true {
			t.Errorf("live events = %v, want one live-mode event", data)
		}
		if n := len(e.listEvents(t, "")); n != 3 {
			t.Errorf("test mode lists %d events after a live change, want 3", n)
		}
	})
}

// TestEventList checks the filters and cursors of GET /v1/events, and the parameter errors it answers.
func TestEventList(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		for range 3 {
			id := e.createCustomer(t, "name=Tenant")["id"].(string)
			mustStatus(t, e.post(t, "/v1/customers/"+id, "phone=1"), http.StatusOK)
		}
		all := e.listEvents(t, "limit=100")
		ids := fieldOf(all, "id")
		if len(ids) != 6 {
			t.Fatalf("listed %d events, want 6", len(ids))
		}
		created := fieldOf(e.listEvents(t, "type=customer.created"), "id")
		updated := fieldOf(e.listEvents(t, "type=customer.updated"), "id")
		if len(created) != 3 || len(updated) != 3 {
			t.Fatalf("type filters gave %d created and %d updated, want 3 and 3", len(created), len(updated))
		}
		for _, tt := range []struct {
			name  string
			query string
			want  []any
		}{
			{"wildcard", "type=customer.*", ids},
			{"everything", "type=*", ids},
			{"types", "types[]=customer.updated&types[]=customer.created", ids},
			{"one of types", "types[0]=customer.updated", updated},
			{"type with an empty types", "type=customer.updated&types=", updated},
			{"an empty types with type", "types=&type=customer.updated", updated},
			{"limit", "limit=2", ids[:2]},
			{"starting_after", "limit=2&starting_after=" + ids[1].(string), ids[2:4]},
			{"ending_before", "limit=2&ending_before=" + ids[4].(string), ids[2:4]},
			{"type and cursor", "type=customer.created&starting_after=" + created[0].(string), created[1:]},
			{"created", "created[gte]=0", ids},
			{"created none", "created[lt]=1", []any{}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, fieldOf(e.listEvents(t, tt.query), "id")); diff != "" {
					t.Errorf("GET /v1/events?%s (-want +got):\n%s", tt.query, diff)
				}
			})
		}

		for _, tt := range []struct {
			name, query string
			status      int
			code, param string
		}{
			{"unknown type", "type=customer.renamed", 400, casapay.CodeParameterInvalidString, "type"},
			{"unknown wildcard", "type=invoice.*", 400, casapay.CodeParameterInvalidString, "type"},
			{"pattern in types", "types[0]=customer.*", 400, casapay.CodeParameterInvalidString, "types[0]"},
			{"type and types", "type=customer.created&types[]=customer.updated", 400, casapay.CodeParametersExclusive, "types"},
			{"too many types", "types[]=" + url.QueryEscape("customer.created") + repeat("&types[]=customer.created", casapay.MaxEventTypes), 400,
				casapay.CodeParameterInvalidString, "types"},
			{"both cursors", "starting_after=" + ids[0].(string) + "&ending_before=" + ids[1].(string), 400, casapay.CodeParametersExclusive, "ending_before"},
			{"customer ID as cursor", "starting_after=cus_123", 400, casapay.CodeParameterInvalidString, "starting_after"},
			{"missing cursor", "starting_after=evt_0000000000000000000000000", 404, casapay.CodeResourceMissing, "starting_after"},
			{"limit", "limit=0", 400, casapay.CodeParameterInvalidInteger, "limit"},
			{"unknown parameter", "object_id=cus_123", 400, casapay.CodeParameterUnknown, "object_id"},
			{"delivery_success not a boolean", "delivery_success=yes", 400, "parameter_invalid_boolean", "delivery_success"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := e.get(t, "/v1/events?"+tt.query)
				mustStatus(t, r, tt.status)
				if got := r.Error(t); got.Code != tt.code || got.Param != tt.param {
					t.Errorf("error code, param = %q, %q, want %q, %q (%s)", got.Code, got.Param, tt.code, tt.param, got.Message)
				}
			})
		}
		for _, path := range []string{"/v1/events/cus_123", "/v1/events/evt_0000000000000000000000000", "/v1/events/evt_bad!"} {
			mustStatus(t, e.get(t, path), http.StatusNotFound)
		}
		if r := e.get(t, "/v1/events/"+ids[0].(string)+"?expand[]=data"); r.Status != http.StatusBadRequest {
			t.Errorf("GET /v1/events/{id} with a parameter = %d, want 400", r.Status)
		}
		if r := e.do(t, request{Method: "POST", Path: "/v1/events", Key: e.TestKey, Body: "type=customer.created"}); r.Status != http.StatusMethodNotAllowed {
			t.Errorf("POST /v1/events = %d, want 405", r.Status)
		}
		if !slices.Equal(fieldOf(e.listEvents(t, "limit=100"), "id"), ids) {
			t.Error("the requests above changed the events")
		}
	})
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// TestIdempotencyKeyEchoed checks that a POST's Idempotency-Key comes back as a response header, on
// success and on error alike, as Stripe answers.
func TestIdempotencyKeyEchoed(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	for _, tt := range []struct {
		name, body string
		status     int
	}{
		{"created", "name=Jane", http.StatusOK},
		{"rejected", "email=nope", http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.TestKey, Body: tt.body,
				Header: map[string]string{"Idempotency-Key": "echo-" + tt.name}})
			mustStatus(t, r, tt.status)
			if got := r.Header.Get("Idempotency-Key"); got != "echo-"+tt.name {
				t.Errorf("Idempotency-Key header = %q, want %q", got, "echo-"+tt.name)
			}
		})
	}
	if got := e.get(t, "/v1/customers").Header.Get("Idempotency-Key"); got != "" {
		t.Errorf("a request without a key answered Idempotency-Key %q", got)
	}
}

// TestPaymentMethodCheckedInWrite checks the order of a write's checks: the customer first, then the
// payment method it names, both inside the write, so a missing customer is the error whatever else the
// request says, and a rejected write records no event.
func TestPaymentMethodCheckedInWrite(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		missing := "cus_0000000000000000000000000"
		r := e.post(t, "/v1/customers/"+missing, "default_payment_method=pm_0000000000000000000000001")
		mustStatus(t, r, http.StatusNotFound)
		if got := r.Error(t); got.Param != "id" {
			t.Errorf("update of a missing customer naming a payment method: error param %q, want id (%s)", got.Param, got.Message)
		}
		id := e.createCustomer(t, "name=Jane")["id"].(string)
		r = e.post(t, "/v1/customers/"+id, "name=Janet&default_payment_method=pm_0000000000000000000000001")
		mustStatus(t, r, http.StatusBadRequest)
		if got := r.Error(t); got.Param != "default_payment_method" {
			t.Errorf("update naming a missing payment method: error param %q, want default_payment_method", got.Param)
		}
		if n := len(e.listEvents(t, "")); n != 1 {
			t.Errorf("%d events after one create and rejected updates, want 1", n)
		}
	})
}
