package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/casapay/casapay/storetest"
)

// The reference's create example, verbatim.
const referenceCreate = `{
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "metadata": { "property_id": "prop_456" }
  }`

func TestCreateCustomer(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		before := time.Now().Unix()

		t.Run("json body from the reference", func(t *testing.T) {
			r := e.postJSON(t, "/v1/customers", referenceCreate)
			mustStatus(t, r, http.StatusOK)
			got := r.JSON(t)
			if id, _ := got["id"].(string); !regexp.MustCompile(`^cus_[0-9A-Za-z]{24}$`).MatchString(id) {
				t.Errorf("id = %q, want cus_ and 24 base62 characters", id)
			}
			created, _ := got["created"].(float64)
			if int64(created) < before || int64(created) > time.Now().Unix() {
				t.Errorf("created = %v, want between %d and now", created, before)
			}
			want := map[string]any{
				"id": got["id"], "object": "customer", "name": "Jane Doe", "email": "jane.doe@example.com",
				"phone": nil, "address": nil, "default_payment_method": nil, "balance": float64(0), "currency": nil,
				"metadata": map[string]any{"property_id": "prop_456"}, "created": got["created"], "livemode": false,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("created customer (-want +got):\n%s", diff)
			}
		})

		t.Run("form body with bracket notation", func(t *testing.T) {
			got := e.createCustomer(t, "name=Jane+Doe&phone=%2B44+7700+900123&address[line1]=123+High+Street"+
				"&address[city]=London&address[postal_code]=SW1A+1AA&address[country]=GB&metadata[unit]=4B&metadata[property_id]=prop_456")
			want := map[string]any{
				"line1": "123 High Street", "line2": nil, "city": "London", "state": nil,
				"postal_code": "SW1A 1AA", "country": "GB",
			}
			if diff := cmp.Diff(want, got["address"]); diff != "" {
				t.Errorf("address (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]any{"unit": "4B", "property_id": "prop_456"}, got["metadata"]); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			if got["phone"] != "+44 7700 900123" {
				t.Errorf("phone = %v, want +44 7700 900123", got["phone"])
			}
		})

		t.Run("empty create gives an empty customer", func(t *testing.T) {
			r := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.TestKey})
			mustStatus(t, r, http.StatusOK)
			got := r.JSON(t)
			for _, f := range []string{"name", "email", "phone", "address", "default_payment_method", "currency"} {
				if v, ok := got[f]; !ok || v != nil {
					t.Errorf("%s = %v (present %v), want null", f, v, ok)
				}
			}
			if diff := cmp.Diff(map[string]any{}, got["metadata"]); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})

		t.Run("livemode follows the key", func(t *testing.T) {
			r := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.LiveKey, Body: "name=Live"})
			mustStatus(t, r, http.StatusOK)
			if r.JSON(t)["livemode"] != true {
				t.Errorf("livemode = %v, want true", r.JSON(t)["livemode"])
			}
		})

		t.Run("retrieve answers what create answered", func(t *testing.T) {
			r := e.post(t, "/v1/customers", "name=Round+Trip&metadata[a]=b")
			mustStatus(t, r, http.StatusOK)
			got := e.get(t, "/v1/customers/"+r.JSON(t)["id"].(string))
			mustStatus(t, got, http.StatusOK)
			if diff := cmp.Diff(string(r.Body), string(got.Body)); diff != "" {
				t.Errorf("retrieve (-create +retrieve):\n%s", diff)
			}
		})
	})
}

func TestUpdateCustomer(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		newCustomer := func(t *testing.T) string {
			c := e.createCustomer(t, "name=Jane&email=jane@example.com&phone=123&address[city]=London&address[country]=GB"+
				"&metadata[unit]=4B&metadata[property_id]=prop_456")
			return c["id"].(string)
		}
		tests := []struct {
			name  string
			body  string
			ctype string
			want  map[string]any // fields expected after the update; others must not change
		}{
			{"changes only what it is given", "email=jane.new@example.com", "",
				map[string]any{"email": "jane.new@example.com"}},
			{"json body from the reference", `{"email": "jane.new@example.com"}`, "application/json",
				map[string]any{"email": "jane.new@example.com"}},
			{"empty string unsets", "name=&phone=", "",
				map[string]any{"name": nil, "phone": nil}},
			{"json null unsets", `{"name": null}`, "application/json",
				map[string]any{"name": nil}},
			{"metadata merges key by key", "metadata[tenant]=yes&metadata[unit]=5C", "",
				map[string]any{"metadata": map[string]any{"unit": "5C", "property_id": "prop_456", "tenant": "yes"}}},
			{"empty metadata value removes the key", "metadata[unit]=", "",
				map[string]any{"metadata": map[string]any{"property_id": "prop_456"}}},
			{"metadata empty string clears all", "metadata=", "",
				map[string]any{"metadata": map[string]any{}}},
			{"json metadata null clears all", `{"metadata": null}`, "application/json",
				map[string]any{"metadata": map[string]any{}}},
			{"json metadata empty string clears all", `{"metadata": ""}`, "application/json",
				map[string]any{"metadata": map[string]any{}}},
			{"address merges field by field", "address[line1]=1+Main+St", "",
				map[string]any{"address": map[string]any{"line1": "1 Main St", "line2": nil, "city": "London",
					"state": nil, "postal_code": nil, "country": "GB"}}},
			{"address empty string removes the address", "address=", "",
				map[string]any{"address": nil}},
			{"unsetting default_payment_method is allowed", "default_payment_method=", "",
				map[string]any{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := newCustomer(t)
				before := e.get(t, "/v1/customers/"+id).JSON(t)
				r := e.do(t, request{Method: "POST", Path: "/v1/customers/" + id, Key: e.TestKey, Body: tt.body, ContentType: tt.ctype})
				mustStatus(t, r, http.StatusOK)
				want := before
				for k, v := range tt.want {
					want[k] = v
				}
				if diff := cmp.Diff(want, r.JSON(t)); diff != "" {
					t.Errorf("updated customer (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, e.get(t, "/v1/customers/"+id).JSON(t)); diff != "" {
					t.Errorf("customer retrieved after update (-want +got):\n%s", diff)
				}
			})
		}

		t.Run("metadata over 50 keys after merging is rejected and changes nothing", func(t *testing.T) {
			id := newCustomer(t)
			before := e.get(t, "/v1/customers/"+id)
			var form []string
			for i := range 49 {
				form = append(form, fmt.Sprintf("metadata[k%d]=v", i))
			}
			r := e.post(t, "/v1/customers/"+id, strings.Join(form, "&"))
			mustStatus(t, r, http.StatusBadRequest)
			if got := r.Error(t); got.Param != "metadata" {
				t.Errorf("param = %q, want metadata", got.Param)
			}
			if after := e.get(t, "/v1/customers/"+id); string(after.Body) != string(before.Body) {
				t.Errorf("customer changed by a rejected update:\nbefore %s\nafter %s", before.Body, after.Body)
			}
		})

		t.Run("missing customer", func(t *testing.T) {
			r := e.post(t, "/v1/customers/cus_doesnotexist", "name=x")
			mustStatus(t, r, http.StatusNotFound)
			want := casapayError("invalid_request_error", "resource_missing", "id", "No such customer: 'cus_doesnotexist'")
			if diff := cmp.Diff(want, r.Error(t), ignoreStatus); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	})
}

func TestDeleteCustomer(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		for range 3 {
			e.createCustomer(t, "name=Tenant")
		}
		all := ids(t, e.get(t, "/v1/customers")) // newest first
		newer, id, older := all[0], all[1], all[2]
		stub := map[string]any{"id": id, "object": "customer", "deleted": true}

		r := e.del(t, "/v1/customers/"+id)
		mustStatus(t, r, http.StatusOK)
		if diff := cmp.Diff(stub, r.JSON(t)); diff != "" {
			t.Errorf("delete answer (-want +got):\n%s", diff)
		}
		r = e.get(t, "/v1/customers/"+id)
		mustStatus(t, r, http.StatusOK)
		if diff := cmp.Diff(stub, r.JSON(t)); diff != "" {
			t.Errorf("retrieve after delete (-want +got):\n%s", diff)
		}
		for _, r := range []*response{e.post(t, "/v1/customers/"+id, "name=x"), e.del(t, "/v1/customers/"+id)} {
			mustStatus(t, r, http.StatusNotFound)
			if got := r.Error(t); got.Code != "resource_missing" || got.Param != "id" {
				t.Errorf("after delete: code %q param %q, want resource_missing id", got.Code, got.Param)
			}
		}
		if diff := cmp.Diff([]string{newer, older}, ids(t, e.get(t, "/v1/customers"))); diff != "" {
			t.Errorf("list after delete (-want +got):\n%s", diff)
		}
		// A deleted customer still works as a cursor, so paging through a list survives deletes.
		if diff := cmp.Diff([]string{newer}, ids(t, e.get(t, "/v1/customers?ending_before="+id))); diff != "" {
			t.Errorf("ending_before a deleted customer (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{older}, ids(t, e.get(t, "/v1/customers?starting_after="+id))); diff != "" {
			t.Errorf("starting_after a deleted customer (-want +got):\n%s", diff)
		}
	})
}

// ids returns the IDs of a list response's data. The list is the request's path's: its url is the path
// without the query.
func ids(t *testing.T, r *response) []string {
	t.Helper()
	mustStatus(t, r, http.StatusOK)
	body := r.JSON(t)
	if want, _, _ := strings.Cut(r.Path, "?"); body["object"] != "list" || body["url"] != want {
		t.Errorf("envelope object=%v url=%v, want list %s", body["object"], body["url"], want)
	}
	var out []string
	for _, c := range body["data"].([]any) {
		out = append(out, c.(map[string]any)["id"].(string))
	}
	return out
}

func hasMore(t *testing.T, r *response) bool {
	t.Helper()
	return r.JSON(t)["has_more"].(bool)
}

func TestListCustomers(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		// Seven customers, created one after another, most within the same second: the list is newest
		// first by creation, not just by the created timestamp.
		var created []string
		for i := range 7 {
			created = append(created, e.createCustomer(t, fmt.Sprintf("name=C%d&email=Tenant%d@Example.com", i, i))["id"].(string))
		}
		all := ids(t, e.get(t, "/v1/customers?limit=100"))
		newestFirst := slices.Clone(created)
		slices.Reverse(newestFirst)
		if diff := cmp.Diff(newestFirst, all); diff != "" {
			t.Fatalf("listed ids (-newest first +listed):\n%s", diff)
		}

		t.Run("default limit is 10", func(t *testing.T) {
			for i := range 4 {
				e.createCustomer(t, fmt.Sprintf("name=Extra%d", i))
			}
			r := e.get(t, "/v1/customers")
			if got := len(ids(t, r)); got != 10 || !hasMore(t, r) {
				t.Errorf("default page: %d customers, has_more %v; want 10, true", got, hasMore(t, r))
			}
			all = ids(t, e.get(t, "/v1/customers?limit=100"))
		})

		t.Run("starting_after walks the whole list", func(t *testing.T) {
			var walked []string
			path := "/v1/customers?limit=3"
			for {
				r := e.get(t, path)
				page := ids(t, r)
				walked = append(walked, page...)
				if !hasMore(t, r) {
					break
				}
				path = "/v1/customers?limit=3&starting_after=" + page[len(page)-1]
			}
			if diff := cmp.Diff(all, walked); diff != "" {
				t.Errorf("walk (-full list +walked):\n%s", diff)
			}
		})

		t.Run("ending_before gives the limit customers just newer, newest first", func(t *testing.T) {
			r := e.get(t, "/v1/customers?limit=3&ending_before="+all[6])
			if diff := cmp.Diff(all[3:6], ids(t, r)); diff != "" {
				t.Errorf("page (-want +got):\n%s", diff)
			}
			if !hasMore(t, r) {
				t.Errorf("has_more = false, want true: %d newer customers remain", 3)
			}
			r = e.get(t, "/v1/customers?limit=3&ending_before="+all[3])
			if diff := cmp.Diff(all[0:3], ids(t, r)); diff != "" || hasMore(t, r) {
				t.Errorf("first page (-want +got):\n%s has_more %v, want false", diff, hasMore(t, r))
			}
		})

		t.Run("email filter is exact and case-insensitive", func(t *testing.T) {
			got := ids(t, e.get(t, "/v1/customers?email=tenant3@example.COM"))
			if diff := cmp.Diff([]string{created[3]}, got); diff != "" {
				t.Errorf("email filter (-want +got):\n%s", diff)
			}
			if got := ids(t, e.get(t, "/v1/customers?email=tenant3@example")); len(got) != 0 {
				t.Errorf("partial email matched %v, want nothing", got)
			}
		})

		t.Run("created filters", func(t *testing.T) {
			c := e.get(t, "/v1/customers/"+created[0]).JSON(t)["created"].(float64)
			ts := fmt.Sprint(int64(c))
			for _, q := range []string{"created=" + ts, "created[gte]=" + ts + "&created[lte]=" + ts} {
				if got := ids(t, e.get(t, "/v1/customers?limit=100&"+q)); !contains(got, created[0]) {
					t.Errorf("%s: %v does not include %s", q, got, created[0])
				}
			}
			if got := ids(t, e.get(t, "/v1/customers?created[gt]="+ts+"&created[lt]="+ts)); len(got) != 0 {
				t.Errorf("empty range listed %v", got)
			}
			if got := ids(t, e.get(t, "/v1/customers?created[lt]="+ts)); len(got) != 0 {
				t.Errorf("created[lt] before the first customer listed %v", got)
			}
		})

		t.Run("another scope's customer is not a cursor", func(t *testing.T) {
			other := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.OtherKey}).JSON(t)["id"].(string)
			r := e.get(t, "/v1/customers?starting_after="+other)
			mustStatus(t, r, http.StatusNotFound)
			if got := r.Error(t); got.Code != "resource_missing" || got.Param != "starting_after" {
				t.Errorf("code %q param %q, want resource_missing starting_after", got.Code, got.Param)
			}
		})
	})
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestBadInputIsRejectedAndChangesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		id := e.createCustomer(t, "name=Existing")["id"].(string)
		long := func(n int) string { return strings.Repeat("x", n) }
		var tooMany []string
		for i := range 51 {
			tooMany = append(tooMany, fmt.Sprintf("metadata[k%d]=v", i))
		}
		tests := []struct {
			name         string
			method, path string
			body, ctype  string
			status       int
			code, param  string
			errType      string // default invalid_request_error
		}{
			{"unknown parameter", "POST", "/v1/customers", "nickname=JD", "", 400, "parameter_unknown", "nickname", ""},
			{"unknown nested parameter", "POST", "/v1/customers", "address[planet]=Mars", "", 400, "parameter_unknown", "address[planet]", ""},
			{"payment_method on update", "POST", "/v1/customers/" + id, "payment_method=pm_1", "", 400, "parameter_unknown", "payment_method", ""},
			{"object where a string belongs", "POST", "/v1/customers", "name[first]=Jane", "", 400, "parameter_invalid_string", "name", ""},
			{"json object where a string belongs", "POST", "/v1/customers", `{"name":{"first":"Jane"}}`, "application/json", 400, "parameter_invalid_string", "name", ""},
			{"json number where a string belongs", "POST", "/v1/customers", `{"phone":5551234}`, "application/json", 400, "parameter_invalid_string", "phone", ""},
			{"invalid email", "POST", "/v1/customers", "email=not-an-email", "", 400, "email_invalid", "email", ""},
			{"name too long", "POST", "/v1/customers", "name=" + long(257), "", 400, "", "name", ""},
			{"email too long", "POST", "/v1/customers", "email=" + long(510) + "@x.io", "", 400, "", "email", ""},
			{"phone too long", "POST", "/v1/customers", "phone=" + long(21), "", 400, "", "phone", ""},
			{"address line too long", "POST", "/v1/customers", "address[line1]=" + long(201), "", 400, "", "address[line1]", ""},
			{"unknown country", "POST", "/v1/customers", "address[country]=XX", "", 400, "", "address[country]", ""},
			{"country not alpha-2", "POST", "/v1/customers", "address[country]=GBR", "", 400, "", "address[country]", ""},
			{"51 metadata keys", "POST", "/v1/customers", strings.Join(tooMany, "&"), "", 400, "", "metadata", ""},
			{"metadata key over 40 characters", "POST", "/v1/customers", "metadata[" + long(41) + "]=v", "", 400, "", "metadata", ""},
			{"metadata value over 500 characters", "POST", "/v1/customers", "metadata[k]=" + long(501), "", 400, "", "metadata[k]", ""},
			{"metadata value not a string", "POST", "/v1/customers", `{"metadata":{"k":1}}`, "application/json", 400, "", "metadata[k]", ""},
			{"metadata key with a bracket", "POST", "/v1/customers", `{"metadata":{"a[b":"v"}}`, "application/json", 400, "", "metadata", ""},
			{"malformed json", "POST", "/v1/customers", `{"name": "Jane"`, "application/json", 400, "", "", ""},
			{"json that is not an object", "POST", "/v1/customers", `["name"]`, "application/json", 400, "", "", ""},
			{"bad utf-8 in json", "POST", "/v1/customers", "{\"name\": \"\xff\xfe\"}", "application/json", 400, "", "", ""},
			{"bad utf-8 in a form", "POST", "/v1/customers", "name=%FF%FE", "", 400, "", "name", ""},
			{"limit not an integer", "GET", "/v1/customers?limit=ten", "", "", 400, "parameter_invalid_integer", "limit", ""},
			{"limit zero", "GET", "/v1/customers?limit=0", "", "", 400, "", "limit", ""},
			{"limit over 100", "GET", "/v1/customers?limit=101", "", "", 400, "", "limit", ""},
			{"malformed cursor", "GET", "/v1/customers?starting_after=not_a_customer", "", "", 400, "", "starting_after", ""},
			{"missing cursor", "GET", "/v1/customers?ending_before=cus_missing000", "", "", 404, "resource_missing", "ending_before", ""},
			{"both cursors", "GET", "/v1/customers?starting_after=" + id + "&ending_before=" + id, "", "", 400, "parameters_exclusive", "ending_before", ""},
			{"created not an integer", "GET", "/v1/customers?created[gte]=yesterday", "", "", 400, "parameter_invalid_integer", "created[gte]", ""},
			{"unknown list parameter", "GET", "/v1/customers?sort=name", "", "", 400, "parameter_unknown", "sort", ""},
			{"payment method that does not exist", "POST", "/v1/customers", "payment_method=pm_0000000000000000000000001", "", 400, "resource_missing", "payment_method", ""},
			{"payment method that is no ID", "POST", "/v1/customers", "payment_method=4242424242424242", "", 400, "parameter_invalid_string", "payment_method", ""},
			{"declined test token", "POST", "/v1/customers", "payment_method=pm_card_visa_chargeDeclined", "", 402, "card_declined", "", "card_error"},
			{"default payment method that does not exist", "POST", "/v1/customers/" + id, "default_payment_method=pm_0000000000000000000000001", "", 400, "resource_missing", "default_payment_method", ""},
			{"unsupported content type", "POST", "/v1/customers", "name=x", "text/plain", 400, "", "", ""},
			{"body over 1 MiB", "POST", "/v1/customers", "name=" + long(1<<20), "", 413, "", "", ""},
			{"a body on a GET", "GET", "/v1/customers", `{"limit":1}`, "application/json", 400, "", "", ""},
			{"a body on a DELETE", "DELETE", "/v1/customers/" + id, "name=x", "", 400, "", "", ""},
			{"unknown route", "GET", "/v1/tenants", "", "", 404, "", "", ""},
			{"path not in clean form", "GET", "/v1/./customers", "", "", 404, "", "", ""},
			{"wrong method on health", "POST", "/healthz", "", "", 405, "", "", ""},
			{"wrong method", "PUT", "/v1/customers/" + id, "name=x", "", 405, "", "", ""},
			{"wrong method on the collection", "DELETE", "/v1/customers", "", "", 405, "", "", ""},
		}
		before := e.get(t, "/v1/customers?limit=100")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(t, request{Method: tt.method, Path: tt.path, Key: e.TestKey, Body: tt.body, ContentType: tt.ctype})
				mustStatus(t, r, tt.status)
				got := r.Error(t)
				wantType := tt.errType
				if wantType == "" {
					wantType = "invalid_request_error"
				}
				if got.Type != wantType || got.Message == "" {
					t.Errorf("type %q message %q, want type %q and a message", got.Type, got.Message, wantType)
				}
				if tt.code != "" && got.Code != tt.code {
					t.Errorf("code = %q, want %q", got.Code, tt.code)
				}
				if got.Param != tt.param {
					t.Errorf("param = %q, want %q", got.Param, tt.param)
				}
			})
		}
		if after := e.get(t, "/v1/customers?limit=100"); string(after.Body) != string(before.Body) {
			t.Errorf("rejected requests changed the customers:\nbefore %s\nafter %s", before.Body, after.Body)
		}
	})
}

func TestQueryStringAndBodyMergeOnPost(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		r := e.post(t, "/v1/customers?"+url.Values{"name": {"From Query"}}.Encode(), "email=q@example.com")
		mustStatus(t, r, http.StatusOK)
		if got := r.JSON(t); got["name"] != "From Query" || got["email"] != "q@example.com" {
			t.Errorf("name %v email %v, want both from query and body", got["name"], got["email"])
		}
	})
}
