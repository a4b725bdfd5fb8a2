package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/casapay/casapay/storetest"
)

// ledger returns every balance transaction of a customer, oldest first, walking the list newest first.
func (e *env) ledger(t *testing.T, key, customer string) []map[string]any {
	t.Helper()
	var all []map[string]any
	after := ""
	for {
		path := "/v1/customers/" + customer + "/balance_transactions?limit=100"
		if after != "" {
			path += "&starting_after=" + after
		}
		r := e.do(t, request{Method: "GET", Path: path, Key: key})
		mustStatus(t, r, http.StatusOK)
		body := r.JSON(t)
		for _, item := range body["data"].([]any) {
			all = append(all, item.(map[string]any))
		}
		if !body["has_more"].(bool) {
			break
		}
		after = all[len(all)-1]["id"].(string)
	}
	slices.Reverse(all)
	return all
}

// checkLedger holds a customer to the ledger's rule: its balance is the sum of its transactions, and in
// the ledger's order each transaction's ending_balance is the running sum.
func (e *env) checkLedger(t *testing.T, key, customer string) (balance int64, txns int) {
	t.Helper()
	var sum int64
	lines := e.ledger(t, key, customer)
	for i, b := range lines {
		sum += int64(b["amount"].(float64))
		if end := int64(b["ending_balance"].(float64)); end != sum {
			t.Errorf("transaction %d (%s): ending_balance %d, want the running sum %d", i, b["id"], end, sum)
		}
	}
	r := e.do(t, request{Method: "GET", Path: "/v1/customers/" + customer, Key: key})
	mustStatus(t, r, http.StatusOK)
	c := r.JSON(t)
	if c["deleted"] == true {
		return sum, len(lines)
	}
	if got := int64(c["balance"].(float64)); got != sum {
		t.Errorf("balance %d, want the sum of its %d transactions, %d", got, len(lines), sum)
	}
	return sum, len(lines)
}

func TestBalanceTransactions(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		c := e.createCustomer(t, "name=Jane")["id"].(string)
		base := "/v1/customers/" + c + "/balance_transactions"

		r := e.post(t, base, "amount=125000&currency=gbp&description=April rent&metadata[unit]=4B")
		mustStatus(t, r, http.StatusOK)
		first := r.JSON(t)
		if first["object"] != "customer_balance_transaction" || !strings.HasPrefix(first["id"].(string), "cbtxn_") ||
			first["amount"] != 125000.0 || first["ending_balance"] != 125000.0 || first["type"] != "adjustment" ||
			first["currency"] != "gbp" || first["customer"] != c || first["description"] != "April rent" {
			t.Errorf("create answered %s", r.Body)
		}
		cus := e.get(t, "/v1/customers/"+c).JSON(t)
		if cus["balance"] != 125000.0 || cus["currency"] != "gbp" {
			t.Errorf("customer after the first transaction: %v", cus)
		}
		ev := e.listEvents(t, "type=customer.updated")[0]
		prev := hash(t, hash(t, ev, "data"), "previous_attributes")
		if len(prev) != 2 || prev["balance"] != 0.0 || prev["currency"] != nil {
			t.Errorf("first transaction's previous_attributes %v, want balance 0 and currency null", prev)
		}
		r = e.post(t, base, "amount=-25000&currency=gbp")
		mustStatus(t, r, http.StatusOK)
		if got := r.JSON(t); got["ending_balance"] != 100000.0 || got["description"] != nil {
			t.Errorf("credit answered %v", got)
		}
		prev = hash(t, hash(t, e.listEvents(t, "type=customer.updated")[0], "data"), "previous_attributes")
		if len(prev) != 1 || prev["balance"] != 125000.0 {
			t.Errorf("second transaction's previous_attributes %v, want only balance", prev)
		}

		// Rules, each a 400 that writes nothing.
		events := len(e.listEvents(t, "limit=100"))
		for _, tt := range []struct {
			name, form, code, param string
		}{
			{"no amount", "currency=gbp", "parameter_missing", "amount"},
			{"zero", "amount=0&currency=gbp", "parameter_invalid_integer", "amount"},
			{"not an integer", "amount=12.50&currency=gbp", "parameter_invalid_integer", "amount"},
			{"too large", "amount=1000000000001&currency=gbp", "parameter_invalid_integer", "amount"},
			{"too small", "amount=-1000000000001&currency=gbp", "parameter_invalid_integer", "amount"},
			{"balance beyond the bound", "amount=999999999999&currency=gbp", "parameter_invalid_integer", "amount"},
			{"no currency", "amount=100", "parameter_missing", "currency"},
			{"upper-case currency", "amount=100&currency=GBP", "parameter_invalid_string", "currency"},
			{"no such currency", "amount=100&currency=xyz", "parameter_invalid_string", "currency"},
			{"another currency", "amount=100&currency=eur", "parameter_invalid_string", "currency"},
			{"description too long", "amount=100&currency=gbp&description=" + strings.Repeat("x", 351), "parameter_invalid_string", "description"},
			{"unknown parameter", "amount=100&currency=gbp&type=initial", "parameter_unknown", "type"},
		} {
			r := e.post(t, base, tt.form)
			mustStatus(t, r, http.StatusBadRequest)
			if got := r.Error(t); got.Code != tt.code || got.Param != tt.param {
				t.Errorf("%s: %+v, want %s on %s", tt.name, got, tt.code, tt.param)
			}
		}
		if n := len(e.listEvents(t, "limit=100")); n != events {
			t.Errorf("rejected transactions recorded %d events", n-events)
		}
		if bal, n := e.checkLedger(t, e.TestKey, c); bal != 100000 || n != 2 {
			t.Errorf("ledger after rejected transactions: balance %d in %d transactions, want 100000 in 2", bal, n)
		}

		// Retrieve, update (description and metadata only, and nothing on the customer), list.
		id := first["id"].(string)
		got := e.get(t, base+"/"+id+"?expand[]=customer").JSON(t)
		if got["id"] != id || hash(t, got, "customer")["id"] != c {
			t.Errorf("retrieve answered %v", got)
		}
		r = e.post(t, base+"/"+id, "description=April rent, paid late&metadata[unit]=")
		mustStatus(t, r, http.StatusOK)
		if got := r.JSON(t); got["description"] != "April rent, paid late" || len(hash(t, got, "metadata")) != 0 || got["amount"] != 125000.0 {
			t.Errorf("update answered %v", got)
		}
		if n := len(e.listEvents(t, "limit=100")); n != events {
			t.Errorf("a transaction's update recorded %d events", n-events)
		}
		mustStatus(t, e.post(t, base+"/"+id, "amount=5"), http.StatusBadRequest)
		mustStatus(t, e.get(t, base+"/cbtxn_0000000000000000000000000"), http.StatusNotFound)
		other := e.createCustomer(t, "name=John")["id"].(string)
		mustStatus(t, e.get(t, "/v1/customers/"+other+"/balance_transactions/"+id), http.StatusNotFound)
		if got := ids(t, e.get(t, base+"?limit=1")); len(got) != 1 || got[0] == id {
			t.Errorf("newest first: %v", got)
		}
		if got := ids(t, e.get(t, base+"?starting_after="+ids(t, e.get(t, base+"?limit=1"))[0])); len(got) != 1 || got[0] != id {
			t.Errorf("page after the newest: %v, want %s", got, id)
		}
		// Another account and the other mode see none of it.
		for _, key := range []string{e.OtherKey, e.LiveKey} {
			mustStatus(t, e.do(t, request{Method: "GET", Path: base, Key: key}), http.StatusNotFound)
			mustStatus(t, e.do(t, request{Method: "POST", Path: base, Key: key, Body: "amount=1&currency=gbp"}), http.StatusNotFound)
			mustStatus(t, e.do(t, request{Method: "GET", Path: base + "/" + id, Key: key}), http.StatusNotFound)
		}

		// A deleted customer's ledger stays readable, and takes no new transaction.
		mustStatus(t, e.del(t, "/v1/customers/"+c), http.StatusOK)
		if n := len(ids(t, e.get(t, base))); n != 2 {
			t.Errorf("deleted customer's ledger lists %d transactions, want 2", n)
		}
		mustStatus(t, e.get(t, base+"/"+id), http.StatusOK)
		if got := hash(t, e.get(t, base+"/"+id+"?expand[]=customer").JSON(t), "customer"); got["deleted"] != true || got["id"] != c {
			t.Errorf("a deleted customer expanded: %v, want its deleted stub", got)
		}
		mustStatus(t, e.post(t, base, "amount=1&currency=gbp"), http.StatusNotFound)
		mustStatus(t, e.post(t, base+"/"+id, "description=x"), http.StatusNotFound)
	})
}

func TestCustomerBalanceParameter(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		c := e.createCustomer(t, "name=Jane&balance=50000&currency=gbp")
		id := c["id"].(string)
		if c["balance"] != 50000.0 || c["currency"] != "gbp" {
			t.Errorf("created %v", c)
		}
		lines := e.ledger(t, e.TestKey, id)
		if len(lines) != 1 || lines[0]["type"] != "initial" || lines[0]["amount"] != 50000.0 || lines[0]["ending_balance"] != 50000.0 {
			t.Errorf("opening ledger %v", lines)
		}
		// An update's balance is an adjustment of the difference, in the update's one event.
		got := e.post(t, "/v1/customers/"+id, "balance=-2000&name=Janet").JSON(t)
		if got["balance"] != -2000.0 || got["name"] != "Janet" {
			t.Errorf("updated %v", got)
		}
		lines = e.ledger(t, e.TestKey, id)
		if len(lines) != 2 || lines[1]["type"] != "adjustment" || lines[1]["amount"] != -52000.0 {
			t.Errorf("ledger after the update %v", lines)
		}
		prev := hash(t, hash(t, e.listEvents(t, "type=customer.updated")[0], "data"), "previous_attributes")
		if prev["balance"] != 50000.0 || prev["name"] != "Jane" {
			t.Errorf("previous_attributes %v", prev)
		}
		// The same balance again records nothing.
		mustStatus(t, e.post(t, "/v1/customers/"+id, "balance=-2000"), http.StatusOK)
		if n := len(e.ledger(t, e.TestKey, id)); n != 2 {
			t.Errorf("an unchanged balance added a transaction: %d", n)
		}
		e.checkLedger(t, e.TestKey, id)

		none := e.createCustomer(t, "name=John")["id"].(string)
		for _, tt := range []struct {
			path, form, code, param string
		}{
			{"/v1/customers", "balance=100", "parameter_missing", "currency"},
			{"/v1/customers", "currency=gbp", "parameter_invalid_string", "currency"},
			{"/v1/customers", "balance=1000000000001&currency=gbp", "parameter_invalid_integer", "balance"},
			{"/v1/customers/" + none, "balance=100", "parameter_missing", "currency"},
			{"/v1/customers/" + id, "balance=100&currency=usd", "parameter_invalid_string", "currency"},
			{"/v1/customers/" + id, "balance=-2000&currency=usd", "parameter_invalid_string", "currency"}, // unchanged, but contradicting
			{"/v1/customers/" + id, "balance=-1000000000001&currency=gbp", "parameter_invalid_integer", "balance"},
			// From -2,000 to 10^12 is an adjustment beyond the bound, though the balance would be at it.
			{"/v1/customers/" + id, "balance=1000000000000", "parameter_invalid_integer", "balance"},
		} {
			r := e.post(t, tt.path, tt.form)
			mustStatus(t, r, http.StatusBadRequest)
			if got := r.Error(t); got.Code != tt.code || got.Param != tt.param {
				t.Errorf("%s %s: %+v, want %s on %s", tt.path, tt.form, got, tt.code, tt.param)
			}
		}
		if got := e.get(t, "/v1/customers/"+id).JSON(t); got["balance"] != -2000.0 {
			t.Errorf("rejected updates changed the balance: %v", got["balance"])
		}
		// Bounds hold on the balance, exactly at them too.
		mustStatus(t, e.post(t, "/v1/customers/"+id, fmt.Sprintf("balance=%d", int64(-1_000_000_000_000))), http.StatusOK)
		e.checkLedger(t, e.TestKey, id)
	})
}
