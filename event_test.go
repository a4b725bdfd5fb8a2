package casapay

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPreviousAttributes(t *testing.T) {
	before := testCustomer()
	for _, tt := range []struct {
		name   string
		change func(c *Customer)
		want   string // "" for no change
	}{
		{"nothing", func(c *Customer) {}, ""},
		{"same metadata rebuilt", func(c *Customer) { c.Metadata = map[string]string{"b": "2", "a": "1"} }, ""},
		{"one field", func(c *Customer) { c.Email = new("jane.new@example.com") }, `{"email":"jane@example.com"}`},
		{"unset", func(c *Customer) { c.Phone = nil }, `{"phone":"+442079460958"}`},
		{"address field", func(c *Customer) { c.Address.City = new("Leeds") },
			`{"address":{"line1":"1 Main St","line2":"Flat 4","city":"London","state":"Greater London","postal_code":"SW1A 1AA","country":"GB"}}`},
		{"metadata, whole", func(c *Customer) { c.Metadata = map[string]string{"a": "1", "b": "3"} }, `{"metadata":{"a":"1","b":"2"}}`},
		{"several", func(c *Customer) { c.Name, c.Balance = nil, 0 }, `{"balance":-1500,"name":"Jane Doe"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(before)
			if err != nil {
				t.Fatal(err)
			}
			after := *before
			addr := *before.Address
			after.Address = &addr
			tt.change(&after)
			a, err := json.Marshal(after)
			if err != nil {
				t.Fatal(err)
			}
			got, err := PreviousAttributes(b, a)
			if err != nil {
				t.Fatalf("PreviousAttributes: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("PreviousAttributes = %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("field added", func(t *testing.T) {
		got, err := PreviousAttributes([]byte(`{"a":1}`), []byte(`{"a":1,"deleted":true}`))
		if err != nil || string(got) != `{"deleted":null}` {
			t.Errorf("PreviousAttributes = %s, %v, want {\"deleted\":null}", got, err)
		}
	})
	if _, err := PreviousAttributes([]byte(`[1]`), []byte(`{}`)); err == nil {
		t.Error("PreviousAttributes of an array succeeded, want an error")
	}
}

func BenchmarkPreviousAttributes(b *testing.B) {
	before, _ := json.Marshal(testCustomer())
	c := testCustomer()
	c.Metadata = map[string]string{"a": "1", "b": "3"}
	after, _ := json.Marshal(c)
	for b.Loop() {
		if _, err := PreviousAttributes(before, after); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEventJSON(t *testing.T) {
	scope := Scope{AccountID: "acct_1", Livemode: true}
	at := time.Unix(1706140800, 500)
	idem := &Idempotency{Key: "k1"}
	e := NewEvent(scope, EventCustomerUpdated, json.RawMessage(`{"id":"cus_1"}`), json.RawMessage(`{"email":null}`),
		Request{ID: "req_1", Time: at, Idempotency: idem}, time.Unix(0, 0))
	if !ValidID("evt", e.ID) || e.Created != 1706140800 || !e.Livemode {
		t.Errorf("NewEvent = %+v, want an evt_ ID, created at the request's time, in live mode", e)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"` + e.ID + `","object":"event","api_version":"` + APIVersion + `","created":1706140800,` +
		`"data":{"object":{"id":"cus_1"},"previous_attributes":{"email":null}},"livemode":true,"pending_webhooks":0,` +
		`"request":{"id":"req_1","idempotency_key":"k1"},"type":"customer.updated"}`
	if string(b) != want {
		t.Errorf("event JSON = %s, want %s", b, want)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*e, back); diff != "" {
		t.Errorf("event after a round trip (-want +got):\n%s", diff)
	}

	// Without a request: no request ID, no key, no previous attributes, stamped with now.
	created := NewEvent(scope, EventCustomerCreated, json.RawMessage(`{}`), nil, Request{}, at)
	b, err = json.Marshal(created)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"id": nil, "idempotency_key": nil}, m["request"]); diff != "" {
		t.Errorf("request of an event no request made (-want +got):\n%s", diff)
	}
	if _, ok := m["data"].(map[string]any)["previous_attributes"]; ok || created.Created != at.Unix() {
		t.Errorf("event without a request = %s, want no previous_attributes and created %d", b, at.Unix())
	}
}

func TestEventTypesMatching(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		want    []string
	}{
		{"customer.created", []string{EventCustomerCreated}},
		{"customer.*", []string{EventCustomerCreated, EventCustomerUpdated, EventCustomerDeleted}},
		{"*", EventTypes},
		{"customer.renamed", nil},
		{"customer.", nil},
		{"invoice.*", nil},
		{"customer*", nil},
		{"", nil},
	} {
		got, err := EventTypesMatching("type", tt.pattern)
		if tt.want == nil {
			var e *Error
			if !errors.As(err, &e) || e.Param != "type" || e.Code != CodeParameterInvalidString {
				t.Errorf("EventTypesMatching(%q) = %v, %v, want a 400 about type", tt.pattern, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("EventTypesMatching(%q) = %v, %v, want %v", tt.pattern, got, err, tt.want)
		}
	}
}

func TestTimeRangeInclusive(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	for _, tt := range []struct {
		name     string
		r        TimeRange
		gte, lte *int64
		empty    bool
	}{
		{"open", TimeRange{}, nil, nil, false},
		{"gt", TimeRange{Gt: i(10)}, i(11), nil, false},
		{"gte and gt", TimeRange{Gte: i(20), Gt: i(10)}, i(20), nil, false},
		{"lt", TimeRange{Lt: i(10)}, nil, i(9), false},
		{"lte and lt", TimeRange{Lte: i(5), Lt: i(10)}, nil, i(5), false},
		{"exact", TimeRange{Gte: i(7), Lte: i(7)}, i(7), i(7), false},
		{"crossed", TimeRange{Gt: i(7), Lt: i(8)}, nil, nil, true},
		{"gt max", TimeRange{Gt: i(math.MaxInt64)}, nil, nil, true},
		{"lt min", TimeRange{Lt: i(math.MinInt64)}, nil, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gte, lte, empty := tt.r.Inclusive()
			if diff := cmp.Diff([]any{tt.gte, tt.lte, tt.empty}, []any{gte, lte, empty}); diff != "" {
				t.Errorf("Inclusive (-want +got):\n%s", diff)
			}
		})
	}
}
