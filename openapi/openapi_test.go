package openapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/openapi"
	"github.com/casapay/casapay/openapi/openapitest"
)

// loadDocument loads and validates the embedded document, examples included.
func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("validate openapi.yaml: %v", err)
	}
	return doc
}

func TestDocumentValidates(t *testing.T) {
	doc := loadDocument(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	openapitest.New(t)
}

// TestOperations holds the document to the API surface and to the responses every operation must
// list: the five customer operations, the four balance transaction operations, the eight payment
// method operations, the five webhook endpoint operations, the two event operations and the three
// unauthenticated service endpoints, nothing else.
func TestOperations(t *testing.T) {
	doc := loadDocument(t)
	want := []string{
		"DELETE /v1/customers/{id}",
		"DELETE /v1/webhook_endpoints/{id}",
		"GET /healthz",
		"GET /metrics",
		"GET /openapi.yaml",
		"GET /v1/customers",
		"GET /v1/customers/{id}",
		"GET /v1/customers/{id}/balance_transactions",
		"GET /v1/customers/{id}/balance_transactions/{transaction}",
		"GET /v1/customers/{id}/payment_methods",
		"GET /v1/customers/{id}/payment_methods/{payment_method}",
		"GET /v1/events",
		"GET /v1/events/{id}",
		"GET /v1/payment_methods",
		"GET /v1/payment_methods/{id}",
		"GET /v1/webhook_endpoints",
		"GET /v1/webhook_endpoints/{id}",
		"POST /v1/customers",
		"POST /v1/customers/{id}",
		"POST /v1/customers/{id}/balance_transactions",
		"POST /v1/customers/{id}/balance_transactions/{transaction}",
		"POST /v1/payment_methods",
		"POST /v1/payment_methods/{id}",
		"POST /v1/payment_methods/{id}/attach",
		"POST /v1/payment_methods/{id}/detach",
		"POST /v1/webhook_endpoints",
		"POST /v1/webhook_endpoints/{id}",
	}
	var got []string
	operationIDs := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			got = append(got, name)
			t.Run(name, func(t *testing.T) {
				checkOperation(t, name, method, path, op)
			})
			if op.OperationID == "" {
				continue
			}
			if other, ok := operationIDs[op.OperationID]; ok {
				t.Errorf("%s and %s share operationId %q", other, name, op.OperationID)
			}
			operationIDs[op.OperationID] = name
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("operations = %q, want %q", got, want)
	}
}

// cardErrorOperations are the operations that may answer a 402 card_error: those that take card
// details, and those that attach a payment method, which a test card may decline.
var cardErrorOperations = []string{
	"POST /v1/customers",
	"POST /v1/customers/{id}",
	"POST /v1/payment_methods",
	"POST /v1/payment_methods/{id}",
	"POST /v1/payment_methods/{id}/attach",
}

func checkOperation(t *testing.T, name, method, path string, op *openapi3.Operation) {
	if op.OperationID == "" {
		t.Errorf("%s has no operationId", name)
	}
	if op.Summary == "" || op.Description == "" {
		t.Errorf("%s needs a summary and a description", name)
	}
	api := strings.HasPrefix(path, "/v1/")
	statuses := []int{200, 500}
	if api {
		statuses = append(statuses, 400, 401, 404)
	}
	if api && method == http.MethodPost {
		statuses = append(statuses, 409, 413)
	}
	if api && (method == http.MethodPost || method == http.MethodDelete) {
		statuses = append(statuses, 503) // a write the SQLite writer's full queue refuses
	}
	if slices.Contains(cardErrorOperations, method+" "+path) {
		statuses = append(statuses, 402) // card details that cannot be used, or a declined card
	}
	for _, status := range statuses {
		ref := op.Responses.Status(status)
		if ref == nil || ref.Value == nil {
			t.Errorf("%s has no %d response", name, status)
			continue
		}
		if h := ref.Value.Headers["Request-Id"]; h == nil || !h.Value.Required {
			t.Errorf("%s %d does not require the Request-Id header", name, status)
		}
		if status < 400 {
			continue
		}
		media := ref.Value.Content.Get("application/json")
		if media == nil || media.Schema == nil || media.Schema.Ref != "#/components/schemas/error" {
			t.Errorf("%s %d is not the error object", name, status)
		}
	}
	for code := range op.Responses.Map() {
		if code == "default" {
			t.Errorf("%s has a default response: list each status, so the checker rejects the others", name)
		}
	}

	hasIdempotencyKey := slices.ContainsFunc(op.Parameters, func(p *openapi3.ParameterRef) bool {
		return p.Value.In == openapi3.ParameterInHeader && p.Value.Name == "Idempotency-Key"
	})
	if want := api && method == http.MethodPost; hasIdempotencyKey != want {
		t.Errorf("%s takes Idempotency-Key: %t, want %t", name, hasIdempotencyKey, want)
	}
	if public := op.Security != nil && len(*op.Security) == 0; public == api {
		t.Errorf("%s needs no API key: %t, want %t", name, public, !api)
	}
	if api && method == http.MethodPost {
		for _, ct := range []string{"application/x-www-form-urlencoded", "application/json"} {
			if op.RequestBody == nil || op.RequestBody.Value.Content.Get(ct) == nil {
				t.Errorf("%s does not take %s bodies", name, ct)
			}
		}
	}
}

// sampleCustomer is the API reference's example customer, built from the domain type so that the
// check also covers its JSON encoding.
func sampleCustomer() *casapay.Customer {
	s := func(v string) *string { return &v }
	return &casapay.Customer{
		ID:    "cus_123456789",
		Name:  s("Jane Doe"),
		Email: s("jane.doe@example.com"),
		Phone: s("+44 7700 900123"),
		Address: &casapay.Address{
			Line1:      s("123 High Street"),
			City:       s("London"),
			PostalCode: s("SW1A 1AA"),
			Country:    s("GB"),
		},
		DefaultPaymentMethod: s("pm_1PgT3xJ8kLmN2oPqRsTuVwXy"),
		Currency:             s("gbp"),
		Metadata:             map[string]string{"property_id": "prop_456", "unit": "4B"},
		Created:              1706140800,
	}
}

// samplePaymentMethod is a card attached to sampleCustomer, built from the domain type so that the
// check also covers its JSON encoding.
func samplePaymentMethod() *casapay.PaymentMethod {
	s := func(v string) *string { return &v }
	return &casapay.PaymentMethod{
		ID:   "pm_1PgT3xJ8kLmN2oPqRsTuVwXy",
		Type: casapay.PaymentMethodCard,
		BillingDetails: casapay.BillingDetails{
			Name:    s("Jane Doe"),
			Address: &casapay.Address{PostalCode: s("SW1A 1AA"), Country: s("GB")},
		},
		Card: &casapay.Card{Brand: "visa", Country: s("US"), ExpMonth: 12, ExpYear: 2034,
			Fingerprint: "3f9c0a1b2d4e6f78", Funding: "credit", Last4: "4242"},
		Customer: s("cus_123456789"),
		Metadata: map[string]string{"unit": "4B"},
		Created:  1706140850,
	}
}

// sampleBalanceTransaction is an adjustment to sampleCustomer's ledger, built from the domain type so
// that the check also covers its JSON encoding.
func sampleBalanceTransaction() *casapay.BalanceTransaction {
	s := func(v string) *string { return &v }
	return &casapay.BalanceTransaction{
		ID:            "cbtxn_8E5zDGyEN97uPNV2TT5w3A2l",
		Amount:        125000,
		Currency:      "gbp",
		Customer:      "cus_123456789",
		Description:   s("April rent"),
		EndingBalance: 125000,
		Metadata:      map[string]string{"unit": "4B"},
		Type:          casapay.BalanceAdjustment,
		Created:       1706140900,
	}
}

// sampleBankPaymentMethods returns one payment method of each bank type, attached to no customer.
func sampleBankPaymentMethods() []*casapay.PaymentMethod {
	s := func(v string) *string { return &v }
	return []*casapay.PaymentMethod{
		{ID: "pm_1PgT3xJ8kLmN2oPqRsTuVwXz", Type: casapay.PaymentMethodSepaDebit,
			SepaDebit: &casapay.SepaDebit{BankCode: s("37040044"), Country: "DE", Fingerprint: "0a1b2c3d4e5f6a7b", Last4: "3000"},
			Created:   1706140849},
		{ID: "pm_1PgT3xJ8kLmN2oPqRsTuVwXa", Type: casapay.PaymentMethodBacsDebit,
			BacsDebit: &casapay.BacsDebit{Fingerprint: "1b2c3d4e5f6a7b8c", Last4: "2345", SortCode: "108800"},
			Created:   1706140848, Livemode: true},
		{ID: "pm_1PgT3xJ8kLmN2oPqRsTuVwXb", Type: casapay.PaymentMethodUSBankAccount,
			USBankAccount: &casapay.USBankAccount{AccountHolderType: "individual", AccountType: "checking",
				BankName: s("STRIPE TEST BANK"), Fingerprint: "2c3d4e5f6a7b8c9d", Last4: "6789", RoutingNumber: "110000000"},
			Created: 1706140847},
	}
}

// sampleWebhookEndpoint is a test-mode endpoint subscribed to two customer events, as a retrieve answers
// it (without its secret), built from the domain type so that the check also covers its JSON encoding.
// Set ShowSecret for the create's answer.
func sampleWebhookEndpoint() *casapay.WebhookEndpoint {
	s := func(v string) *string { return &v }
	return &casapay.WebhookEndpoint{
		ID:            "we_8E5zmV1qZUdr6zJpgWoEZ4DE",
		URL:           "https://hooks.example.com/casapay",
		EnabledEvents: []string{casapay.EventCustomerCreated, casapay.EventCustomerUpdated},
		Status:        casapay.WebhookEnabled,
		Description:   s("Rent app"),
		Metadata:      map[string]string{"env": "staging"},
		APIVersion:    casapay.APIVersion,
		Created:       1706140800,
		Secret:        "whsec_0mJ3ZpYxHc7vQ2aLbN5sTgWk8b7f3a7e",
	}
}

// sampleEvents returns the events of sampleCustomer's life, newest first: its deletion, an update of
// its email made by a request with an Idempotency-Key, and its creation, which no API request made.
// They are built from the domain type so that the check also covers the event's JSON encoding.
func sampleEvents(t *testing.T) (deleted, updated, created *casapay.Event) {
	t.Helper()
	customer := sampleCustomer()
	object := func(c *casapay.Customer) json.RawMessage {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("encode customer: %v", err)
		}
		return b
	}
	version := casapay.APIVersion
	s := func(v string) *string { return &v }

	before := object(customer)
	customer.Email = s("jane.new@example.com")
	after := object(customer)
	previous, err := casapay.PreviousAttributes(before, after)
	if err != nil {
		t.Fatalf("PreviousAttributes: %v", err)
	}
	gone, err := customer.DeletedJSON()
	if err != nil {
		t.Fatalf("DeletedJSON: %v", err)
	}
	deleted = &casapay.Event{ID: "evt_8E5pnFz1Uq4mLw7XkS0bTyRc", Type: casapay.EventCustomerDeleted, Created: 1706141000,
		APIVersion: &version, Object: gone, RequestID: s("req_2Kd9XwQ4pLm7ZsB1vNc6TgHr")}
	updated = &casapay.Event{ID: "evt_8E5pnDkXCLrv5ck5okL3pIic", Type: casapay.EventCustomerUpdated, Created: 1706140900,
		APIVersion: &version, Object: after, PreviousAttributes: previous,
		RequestID: s("req_0mJ3ZpYxHc7vQ2aLbN5sTgWk"), IdempotencyKey: s("8b7f3a7e-5c1d-4f0e-9a51-0c3f6d2e1b44")}
	created = &casapay.Event{ID: "evt_8E5pnAq3TbKf1xWm9RvYc2Ld", Type: casapay.EventCustomerCreated, Created: 1706140800,
		Object: before}
	return deleted, updated, created
}

// A response is a recorded answer to check: the request it answers and what came back.
type response struct {
	name   string
	method string
	url    string // absolute, as an httptest client sends it
	status int
	header http.Header
	body   string
}

const base = "http://127.0.0.1:53219"

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}, "Request-Id": {"req_4Zf8Qm1sLkP0aW9eYtR2uVxB"}}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return string(b) + "\n"
}

// editJSON returns the JSON of v after edit changed it as a generic value: a way to break one field.
func editJSON(t *testing.T, v any, edit func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, v)), &m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	edit(m)
	return mustJSON(t, m)
}

func errorBody(t *testing.T, e *casapay.Error) string {
	return mustJSON(t, map[string]*casapay.Error{"error": e})
}

func goodResponses(t *testing.T) []response {
	customer := sampleCustomer()
	bare := &casapay.Customer{ID: "cus_8WkT3pQ2xYz", Created: 1706140801, Livemode: true}
	list := map[string]any{"object": "list", "url": "/v1/customers", "has_more": true, "data": []*casapay.Customer{customer, bare}}
	deleted, updated, created := sampleEvents(t)
	events := map[string]any{"object": "list", "url": "/v1/events", "has_more": false, "data": []*casapay.Event{deleted, updated, created}}
	_, err := casapay.EventTypesMatching("type", "invoice.*")
	var unknownType *casapay.Error
	if !errors.As(err, &unknownType) {
		t.Fatalf(`EventTypesMatching("type", "invoice.*") = %v, want a *casapay.Error`, err)
	}
	replayed := jsonHeader()
	replayed.Set("Idempotent-Replayed", "true")
	utf8Header := jsonHeader()
	utf8Header.Set("Content-Type", "application/json; charset=utf-8")
	yamlHeader := jsonHeader()
	yamlHeader.Set("Content-Type", "application/yaml")
	methodNotAllowed := jsonHeader()
	methodNotAllowed.Set("Allow", "GET, POST, DELETE")
	methodNotAllowedGet := jsonHeader()
	methodNotAllowedGet.Set("Allow", "GET")
	methodNotAllowedPost := jsonHeader()
	methodNotAllowedPost.Set("Allow", "POST")

	pm := samplePaymentMethod()
	pmExpanded := samplePaymentMethod()
	pmExpanded.CustomerObject = sampleCustomer()
	customerExpanded := sampleCustomer()
	customerExpanded.DefaultPaymentMethodObject = samplePaymentMethod()
	detached := samplePaymentMethod()
	detached.Customer = nil
	banks := sampleBankPaymentMethods()
	pmList := map[string]any{"object": "list", "url": "/v1/payment_methods", "has_more": false,
		"data": append([]*casapay.PaymentMethod{pmExpanded}, banks...)}
	customerPMs := map[string]any{"object": "list", "url": "/v1/customers/cus_123456789/payment_methods", "has_more": true,
		"data": []*casapay.PaymentMethod{pm}}
	customersExpanded := map[string]any{"object": "list", "url": "/v1/customers", "has_more": false,
		"data": []*casapay.Customer{customerExpanded}}
	pmEvent := &casapay.Event{ID: "evt_8E5pnGz2Vr5nMx8YlT1cUzSd", Type: casapay.EventPaymentMethodAttached, Created: 1706140860,
		Object: json.RawMessage(mustJSON(t, pm))}
	_, expiryErr := casapay.NewPaymentMethod(casapay.Scope{}, &casapay.PaymentMethodParams{Type: casapay.PaymentMethodCard,
		Card: &casapay.CardParams{Number: "4242424242424242", ExpMonth: new(int64(13)), ExpYear: new(int64(2034))}},
		nil, time.Unix(1706140800, 0))
	var expiry *casapay.Error
	if !errors.As(expiryErr, &expiry) {
		t.Fatalf("NewPaymentMethod with exp_month 13 = %v, want a *casapay.Error", expiryErr)
	}

	we := sampleWebhookEndpoint()
	weCreated := sampleWebhookEndpoint()
	weCreated.ShowSecret = true
	weAll := &casapay.WebhookEndpoint{ID: "we_8E5zmWfWQEh1sbcfWV3ZxJ4d", URL: "https://hooks.example.com/", EnabledEvents: []string{"*"},
		Status: casapay.WebhookDisabled, APIVersion: casapay.APIVersion, Created: 1706140700, Livemode: true}
	weList := map[string]any{"object": "list", "url": "/v1/webhook_endpoints", "has_more": false,
		"data": []*casapay.WebhookEndpoint{we, weAll}}
	weURL := base + "/v1/webhook_endpoints/" + we.ID
	_, liveHTTPErr := casapay.ParseWebhookURL("http://hooks.example.com/", true)
	unknownEventErr := (&casapay.WebhookEndpointParams{URL: &we.URL, EnabledEvents: []string{"customer.created", "invoice.paid"}}).Validate(true, false)
	var liveHTTP, unknownEvent *casapay.Error
	if !errors.As(liveHTTPErr, &liveHTTP) || !errors.As(unknownEventErr, &unknownEvent) {
		t.Fatalf("ParseWebhookURL = %v and Validate = %v, want *casapay.Errors", liveHTTPErr, unknownEventErr)
	}
	unavailable := jsonHeader()
	unavailable.Set("Retry-After", "1")

	txn := sampleBalanceTransaction()
	txnExpanded := sampleBalanceTransaction()
	txnExpanded.CustomerObject = sampleCustomer()
	initial := &casapay.BalanceTransaction{ID: "cbtxn_8E5zDGyEN97uPNV2TT5w3A2k", Amount: -5000, Currency: "gbp",
		Customer: "cus_123456789", EndingBalance: -5000, Type: casapay.BalanceInitial, Created: 1706140800}
	initialExpanded := *initial
	initialExpanded.CustomerObject = sampleCustomer()
	txnURL := base + "/v1/customers/cus_123456789/balance_transactions"
	txnList := map[string]any{"object": "list", "url": "/v1/customers/cus_123456789/balance_transactions", "has_more": false,
		"data": []*casapay.BalanceTransaction{txn, initial}}
	txnListExpanded := map[string]any{"object": "list", "url": "/v1/customers/cus_123456789/balance_transactions", "has_more": true,
		"data": []*casapay.BalanceTransaction{txnExpanded, &initialExpanded}}
	zeroAmount := (&casapay.BalanceTransactionParams{Amount: new(int64(0)), Currency: new("gbp")}).Validate(true)
	var zero *casapay.Error
	if !errors.As(zeroAmount, &zero) {
		t.Fatalf("Validate with amount 0 = %v, want a *casapay.Error", zeroAmount)
	}
	methodNotAllowedGetPost := jsonHeader()
	methodNotAllowedGetPost.Set("Allow", "GET, POST")
	pendingEvent := *updated
	pendingEvent.PendingWebhooks = 2
	pendingEvents := map[string]any{"object": "list", "url": "/v1/events", "has_more": false, "data": []*casapay.Event{&pendingEvent}}

	return []response{
		{"create", "POST", base + "/v1/customers", 200, jsonHeader(), mustJSON(t, customer)},
		{"create replayed", "POST", base + "/v1/customers", 200, replayed, mustJSON(t, customer)},
		{"create without fields", "POST", base + "/v1/customers", 200, jsonHeader(), mustJSON(t, bare)},
		{"retrieve", "GET", base + "/v1/customers/cus_123456789", 200, utf8Header, mustJSON(t, customer)},
		{"retrieve deleted", "GET", base + "/v1/customers/cus_123456789", 200, jsonHeader(), mustJSON(t, customer.Stub())},
		{"update", "POST", base + "/v1/customers/cus_123456789", 200, jsonHeader(), mustJSON(t, customer)},
		{"delete", "DELETE", base + "/v1/customers/cus_123456789", 200, jsonHeader(), mustJSON(t, customer.Stub())},
		{"list", "GET", base + "/v1/customers?limit=2&created[gte]=1706140800", 200, jsonHeader(), mustJSON(t, list)},
		{"empty list", "GET", base + "/v1/customers", 200, jsonHeader(),
			`{"object":"list","url":"/v1/customers","has_more":false,"data":[]}`},
		{"relative URL", "GET", "/v1/customers/cus_123456789", 200, jsonHeader(), mustJSON(t, customer)},
		{"invalid param", "POST", base + "/v1/customers", 400, jsonHeader(),
			errorBody(t, casapay.InvalidParam(casapay.CodeEmailInvalid, "email", "Invalid email address: jane"))},
		{"idempotency mismatch", "POST", base + "/v1/customers/cus_123456789", 400, jsonHeader(),
			errorBody(t, casapay.ErrIdempotencyMismatch("k1"))},
		{"no key", "GET", base + "/v1/customers", 401, jsonHeader(),
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "You did not provide an API key."})},
		{"missing", "DELETE", base + "/v1/customers/cus_nope", 404, jsonHeader(),
			errorBody(t, casapay.NotFound("customer", "id", "cus_nope"))},
		{"in flight", "POST", base + "/v1/customers", 409, jsonHeader(), errorBody(t, casapay.ErrIdempotencyInFlight("k1"))},
		{"too large", "POST", base + "/v1/customers/cus_123456789", 413, jsonHeader(),
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "The request body is too large."})},
		{"internal", "GET", base + "/v1/customers", 500, jsonHeader(),
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeAPI, Message: "An unexpected error occurred."})},
		{"retrieve event", "GET", base + "/v1/events/evt_8E5pnDkXCLrv5ck5okL3pIic", 200, jsonHeader(), mustJSON(t, updated)},
		{"retrieve deletion event", "GET", base + "/v1/events/evt_8E5pnFz1Uq4mLw7XkS0bTyRc", 200, jsonHeader(), mustJSON(t, deleted)},
		{"retrieve event without request", "GET", base + "/v1/events/evt_8E5pnAq3TbKf1xWm9RvYc2Ld", 200, jsonHeader(), mustJSON(t, created)},
		{"list events", "GET", base + "/v1/events?types[]=customer.created&types[]=customer.deleted&created[lt]=1706227200", 200,
			jsonHeader(), mustJSON(t, events)},
		{"empty events list", "GET", base + "/v1/events?type=customer.*", 200, jsonHeader(),
			`{"object":"list","url":"/v1/events","has_more":false,"data":[]}`},
		{"unknown event type", "GET", base + "/v1/events?type=invoice.*", 400, jsonHeader(), errorBody(t, unknownType)},
		{"event parameter", "GET", base + "/v1/events/evt_8E5pnDkXCLrv5ck5okL3pIic?expand[]=data.object", 400, jsonHeader(),
			errorBody(t, casapay.InvalidParam(casapay.CodeParameterUnknown, "expand", "Received unknown parameter: expand"))},
		{"missing event", "GET", base + "/v1/events/evt_nope", 404, jsonHeader(), errorBody(t, casapay.NotFound("event", "id", "evt_nope"))},
		{"missing event cursor", "GET", base + "/v1/events?starting_after=evt_nope", 404, jsonHeader(),
			errorBody(t, casapay.NotFound("event", "starting_after", "evt_nope"))},
		{"events without key", "GET", base + "/v1/events", 401, jsonHeader(),
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "You did not provide an API key."})},
		{"wrong method on events", "POST", base + "/v1/events", 405, methodNotAllowedGet,
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "Method POST is not allowed."})},
		{"retrieve with default_payment_method expanded", "GET", base + "/v1/customers/cus_123456789?expand[]=default_payment_method", 200,
			jsonHeader(), mustJSON(t, customerExpanded)},
		{"list with default_payment_method expanded", "GET", base + "/v1/customers?expand[]=data.default_payment_method", 200,
			jsonHeader(), mustJSON(t, customersExpanded)},
		{"create with a declined payment_method", "POST", base + "/v1/customers", 402, jsonHeader(),
			errorBody(t, casapay.DeclineError("generic_decline"))},
		{"update with a missing default_payment_method", "POST", base + "/v1/customers/cus_123456789", 400, jsonHeader(),
			errorBody(t, casapay.MissingParam("PaymentMethod", "default_payment_method", "pm_nope"))},
		{"create payment method", "POST", base + "/v1/payment_methods", 200, jsonHeader(), mustJSON(t, detached)},
		{"create payment method with a bad expiry", "POST", base + "/v1/payment_methods", 402, jsonHeader(), errorBody(t, expiry)},
		{"retrieve payment method", "GET", base + "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy", 200, jsonHeader(), mustJSON(t, pm)},
		{"retrieve payment method expanded", "GET", base + "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy?expand[]=customer", 200,
			jsonHeader(), mustJSON(t, pmExpanded)},
		{"retrieve sepa_debit", "GET", base + "/v1/payment_methods/" + banks[0].ID, 200, jsonHeader(), mustJSON(t, banks[0])},
		{"update payment method", "POST", base + "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy", 200, replayed, mustJSON(t, pm)},
		{"update a detached payment method", "POST", base + "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy", 400, jsonHeader(),
			errorBody(t, casapay.ErrNotAttached(detached, "updated"))},
		{"attach", "POST", base + "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy/attach", 200, jsonHeader(), mustJSON(t, pm)},
		{"attach a test token", "POST", base + "/v1/payment_methods/pm_card_visa/attach", 200, jsonHeader(), mustJSON(t, pm)},
		{"attach declined", "POST", base + "/v1/payment_methods/pm_card_visa_chargeDeclined/attach", 402, jsonHeader(),
			errorBody(t, casapay.DeclineError("insufficient_funds"))},
		{"attach to a full customer", "POST", base + "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy/attach", 400, jsonHeader(),
			errorBody(t, casapay.ErrTooManyPaymentMethods("cus_123456789"))},
		{"detach", "POST", base + "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy/detach", 200, jsonHeader(), mustJSON(t, detached)},
		{"list payment methods", "GET", base + "/v1/payment_methods?type=card&expand[]=data.customer", 200, jsonHeader(), mustJSON(t, pmList)},
		{"list a customer's payment methods", "GET", base + "/v1/customers/cus_123456789/payment_methods?limit=1", 200, jsonHeader(),
			mustJSON(t, customerPMs)},
		{"retrieve a customer's payment method", "GET", base + "/v1/customers/cus_123456789/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy", 200,
			jsonHeader(), mustJSON(t, pm)},
		{"a customer's payment method attached elsewhere", "GET",
			base + "/v1/customers/cus_8WkT3pQ2xYz/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy", 404, jsonHeader(),
			errorBody(t, casapay.NotFound("PaymentMethod", "payment_method", "pm_1PgT3xJ8kLmN2oPqRsTuVwXy"))},
		{"retrieve payment_method.attached", "GET", base + "/v1/events/" + pmEvent.ID, 200, jsonHeader(), mustJSON(t, pmEvent)},
		{"wrong method on attach", "GET", base + "/v1/payment_methods/pm_1/attach", 405, methodNotAllowedPost,
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "Method GET is not allowed."})},
		{"create webhook endpoint", "POST", base + "/v1/webhook_endpoints", 200, jsonHeader(), mustJSON(t, weCreated)},
		{"create webhook endpoint replayed", "POST", base + "/v1/webhook_endpoints", 200, replayed, mustJSON(t, weCreated)},
		{"create a 17th webhook endpoint", "POST", base + "/v1/webhook_endpoints", 400, jsonHeader(),
			errorBody(t, casapay.ErrTooManyWebhookEndpoints())},
		{"create a live webhook endpoint on http", "POST", base + "/v1/webhook_endpoints", 400, jsonHeader(), errorBody(t, liveHTTP)},
		{"create a webhook endpoint for an unknown event", "POST", base + "/v1/webhook_endpoints", 400, jsonHeader(),
			errorBody(t, unknownEvent)},
		{"create webhook endpoint unavailable", "POST", base + "/v1/webhook_endpoints", 503, unavailable,
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeAPI, Message: "Retry later."})},
		{"retrieve webhook endpoint", "GET", weURL, 200, jsonHeader(), mustJSON(t, we)},
		{"retrieve webhook endpoint with a parameter", "GET", weURL + "?expand[]=url", 400, jsonHeader(),
			errorBody(t, casapay.InvalidParam(casapay.CodeParameterUnknown, "expand", "Received unknown parameter: expand"))},
		{"update webhook endpoint", "POST", base + "/v1/webhook_endpoints/" + weAll.ID, 200, jsonHeader(), mustJSON(t, weAll)},
		{"update webhook endpoint with a bad boolean", "POST", weURL, 400, jsonHeader(),
			errorBody(t, casapay.InvalidParam("parameter_invalid_boolean", "disabled", "Invalid boolean: disabled must be true or false."))},
		{"list webhook endpoints", "GET", base + "/v1/webhook_endpoints?limit=2&starting_after=we_1", 200, jsonHeader(), mustJSON(t, weList)},
		{"empty webhook endpoints list", "GET", base + "/v1/webhook_endpoints", 200, jsonHeader(),
			`{"object":"list","url":"/v1/webhook_endpoints","has_more":false,"data":[]}`},
		{"delete webhook endpoint", "DELETE", weURL, 200, jsonHeader(),
			mustJSON(t, casapay.DeletedWebhookEndpoint{ID: we.ID, Object: "webhook_endpoint", Deleted: true})},
		{"delete webhook endpoint unavailable", "DELETE", weURL, 503, unavailable,
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeAPI, Message: "Retry later."})},
		{"missing webhook endpoint", "GET", base + "/v1/webhook_endpoints/we_nope", 404, jsonHeader(),
			errorBody(t, casapay.NotFound("webhook_endpoint", "id", "we_nope"))},
		{"wrong method on a webhook endpoint", "PUT", weURL, 405, methodNotAllowed,
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "Method PUT is not allowed."})},
		{"list events by delivery_success", "GET", base + "/v1/events?delivery_success=false", 200, jsonHeader(),
			mustJSON(t, pendingEvents)},
		{"events by a bad delivery_success", "GET", base + "/v1/events?delivery_success=yes", 400, jsonHeader(),
			errorBody(t, casapay.InvalidParam("parameter_invalid_boolean", "delivery_success",
				"Invalid boolean: delivery_success must be true or false."))},
		{"create balance transaction", "POST", txnURL, 200, jsonHeader(), mustJSON(t, txn)},
		{"create balance transaction replayed", "POST", txnURL, 200, replayed, mustJSON(t, txn)},
		{"create balance transaction with customer expanded", "POST", txnURL, 200, jsonHeader(), mustJSON(t, txnExpanded)},
		{"create balance transaction of 0", "POST", txnURL, 400, jsonHeader(), errorBody(t, zero)},
		{"create balance transaction in another currency", "POST", txnURL, 400, jsonHeader(),
			errorBody(t, casapay.ErrCurrencyMismatch("gbp"))},
		{"create balance transaction beyond the bounds", "POST", txnURL, 400, jsonHeader(),
			errorBody(t, casapay.ErrBalanceBounds("amount"))},
		{"create balance transaction for a deleted customer", "POST", txnURL, 404, jsonHeader(),
			errorBody(t, casapay.NotFound("customer", "id", "cus_123456789"))},
		{"create balance transaction unavailable", "POST", txnURL, 503, unavailable,
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeAPI, Message: "Retry later."})},
		{"list balance transactions", "GET", txnURL + "?limit=2", 200, jsonHeader(), mustJSON(t, txnList)},
		{"list balance transactions expanded", "GET", txnURL + "?expand[]=data.customer&starting_after=" + txn.ID, 200,
			jsonHeader(), mustJSON(t, txnListExpanded)},
		{"empty balance transactions list", "GET", base + "/v1/customers/cus_8WkT3pQ2xYz/balance_transactions", 200, jsonHeader(),
			`{"object":"list","url":"/v1/customers/cus_8WkT3pQ2xYz/balance_transactions","has_more":false,"data":[]}`},
		{"retrieve balance transaction", "GET", txnURL + "/" + txn.ID, 200, utf8Header, mustJSON(t, txn)},
		{"retrieve initial balance transaction expanded", "GET", txnURL + "/" + initial.ID + "?expand[]=customer", 200,
			jsonHeader(), mustJSON(t, &initialExpanded)},
		{"missing balance transaction", "GET", txnURL + "/cbtxn_nope", 404, jsonHeader(),
			errorBody(t, casapay.NotFound("customer_balance_transaction", "id", "cbtxn_nope"))},
		{"update balance transaction", "POST", txnURL + "/" + txn.ID, 200, jsonHeader(), mustJSON(t, txn)},
		{"update balance transaction with customer expanded", "POST", txnURL + "/" + txn.ID, 200, replayed, mustJSON(t, txnExpanded)},
		{"update balance transaction with an amount", "POST", txnURL + "/" + txn.ID, 400, jsonHeader(),
			errorBody(t, casapay.InvalidParam(casapay.CodeParameterUnknown, "amount", "Received unknown parameter: amount"))},
		{"wrong method on a balance transaction", "DELETE", txnURL + "/" + txn.ID, 405, methodNotAllowedGetPost,
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "Method DELETE is not allowed."})},
		{"health", "GET", base + "/healthz", 200, jsonHeader(), `{"status":"ok"}`},
		{"document", "GET", base + "/openapi.yaml", 200, yamlHeader, string(openapi.Document)},
		{"unknown route", "GET", base + "/v1/charges", 404, jsonHeader(),
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "Unrecognized request URL (GET: /v1/charges)."})},
		{"wrong method", "PUT", base + "/v1/customers/cus_123456789", 405, methodNotAllowed,
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "Method PUT is not allowed."})},
		{"wrong method on the collection", "DELETE", base + "/v1/customers", 405, methodNotAllowed,
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "Method DELETE is not allowed."})},
		{"trailing slash", "GET", base + "/v1/customers/", 404, jsonHeader(),
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "Unrecognized request URL (GET: /v1/customers/)."})},
		{"escaped slash in an ID", "GET", base + "/v1/customers/cus_1%2Fx", 404, jsonHeader(),
			errorBody(t, casapay.NotFound("customer", "id", "cus_1/x"))},
	}
}

func TestCheckerAccepts(t *testing.T) {
	c := openapitest.New(t)
	for _, r := range goodResponses(t) {
		t.Run(r.name, func(t *testing.T) {
			req := httptest.NewRequest(r.method, r.url, nil)
			c.Check(t, req, r.status, r.header, []byte(r.body))
		})
	}
}

// recorder is a testing.TB that keeps the failures reported to it instead of failing the test.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// TestCheckerRejects proves Check is not a no-op: each response breaks the document in one way.
func TestCheckerRejects(t *testing.T) {
	customer := sampleCustomer()
	withHeader := func(key, value string) http.Header {
		h := jsonHeader()
		if value == "" {
			h.Del(key)
		} else {
			h.Set(key, value)
		}
		return h
	}
	customerWith := func(edit func(m map[string]any)) string { return editJSON(t, customer, edit) }
	_, updated, created := sampleEvents(t)
	eventWith := func(edit func(m map[string]any)) string { return editJSON(t, updated, edit) }
	event := base + "/v1/events/evt_8E5pnDkXCLrv5ck5okL3pIic"
	pmWith := func(edit func(m map[string]any)) string { return editJSON(t, samplePaymentMethod(), edit) }
	pmURL := base + "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy"
	weWith := func(edit func(m map[string]any)) string {
		we := sampleWebhookEndpoint()
		we.ShowSecret = true
		return editJSON(t, we, edit)
	}
	weURL := base + "/v1/webhook_endpoints/we_8E5zmV1qZUdr6zJpgWoEZ4DE"
	txnWith := func(edit func(m map[string]any)) string { return editJSON(t, sampleBalanceTransaction(), edit) }
	txnURL := base + "/v1/customers/cus_123456789/balance_transactions/cbtxn_8E5zDGyEN97uPNV2TT5w3A2l"

	tests := []response{
		{"balance transaction with a type outside the enum", "GET", txnURL, 200, jsonHeader(),
			txnWith(func(m map[string]any) { m["type"] = "payment" })},
		{"balance transaction with another object", "GET", txnURL, 200, jsonHeader(),
			txnWith(func(m map[string]any) { m["object"] = "balance_transaction" })},
		{"balance transaction with a txn_ ID", "GET", txnURL, 200, jsonHeader(),
			txnWith(func(m map[string]any) { m["id"] = "txn_8E5zDGyEN97uPNV2TT5w3A2l" })},
		{"balance transaction with a string amount", "GET", txnURL, 200, jsonHeader(),
			txnWith(func(m map[string]any) { m["amount"] = "125000" })},
		{"balance transaction with an upper-case currency", "GET", txnURL, 200, jsonHeader(),
			txnWith(func(m map[string]any) { m["currency"] = "GBP" })},
		{"balance transaction without ending_balance", "GET", txnURL, 200, jsonHeader(),
			txnWith(func(m map[string]any) { delete(m, "ending_balance") })},
		{"balance transaction without description", "GET", txnURL, 200, jsonHeader(),
			txnWith(func(m map[string]any) { delete(m, "description") })},
		{"balance transaction with a payment method as customer", "GET", txnURL, 200, jsonHeader(),
			txnWith(func(m map[string]any) { m["customer"] = "pm_1PgT3xJ8kLmN2oPqRsTuVwXy" })},
		{"balance transaction with a half deleted customer stub", "GET", txnURL + "?expand[]=customer", 200, jsonHeader(),
			txnWith(func(m map[string]any) {
				m["customer"] = map[string]any{"id": "cus_123456789", "object": "customer"}
			})},
		{"balance transaction with an unknown field", "POST", txnURL, 200, jsonHeader(),
			txnWith(func(m map[string]any) { m["source"] = nil })},
		{"balance transactions list with the customers URL", "GET", base + "/v1/customers/cus_123456789/balance_transactions", 200,
			jsonHeader(), `{"object":"list","url":"/v1/customers","has_more":false,"data":[]}`},
		{"balance transactions list of customers", "GET", base + "/v1/customers/cus_123456789/balance_transactions", 200, jsonHeader(),
			mustJSON(t, map[string]any{"object": "list", "url": "/v1/customers/cus_123456789/balance_transactions", "has_more": false,
				"data": []*casapay.Customer{customer}})},
		{"card error on a balance transaction create", "POST", base + "/v1/customers/cus_123456789/balance_transactions", 402,
			jsonHeader(), errorBody(t, casapay.DeclineError("generic_decline"))},
		{"unavailable on a balance transaction read", "GET", txnURL, 503, jsonHeader(),
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeAPI, Message: "Retry later."})},
		{"ok to DELETE a balance transaction", "DELETE", txnURL, 200, jsonHeader(), txnWith(func(map[string]any) {})},
		{"customer with an upper-case currency", "GET", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			customerWith(func(m map[string]any) { m["currency"] = "GBP" })},
		{"webhook endpoint with a status outside the enum", "GET", weURL, 200, jsonHeader(),
			weWith(func(m map[string]any) { m["status"] = "paused" })},
		{"webhook endpoint with an unknown event type", "GET", weURL, 200, jsonHeader(),
			weWith(func(m map[string]any) { m["enabled_events"] = []any{"customer.created", "invoice.paid"} })},
		{"webhook endpoint with a pattern as event type", "GET", weURL, 200, jsonHeader(),
			weWith(func(m map[string]any) { m["enabled_events"] = []any{"customer.*"} })},
		{"webhook endpoint without description", "GET", weURL, 200, jsonHeader(),
			weWith(func(m map[string]any) { delete(m, "description") })},
		{"webhook endpoint with a secret of another kind", "POST", base + "/v1/webhook_endpoints", 200, jsonHeader(),
			weWith(func(m map[string]any) { m["secret"] = "sk_test_4eC39HqLyjWDarjtT1zdp7dc" })},
		{"webhook endpoint with a customer ID", "GET", weURL, 200, jsonHeader(),
			weWith(func(m map[string]any) { m["id"] = "cus_123456789" })},
		{"webhook endpoint with an unknown field", "GET", weURL, 200, jsonHeader(),
			weWith(func(m map[string]any) { m["application"] = nil })},
		{"webhook endpoints list with the events URL", "GET", base + "/v1/webhook_endpoints", 200, jsonHeader(),
			`{"object":"list","url":"/v1/events","has_more":false,"data":[]}`},
		{"deleted webhook endpoint as a customer", "DELETE", weURL, 200, jsonHeader(),
			`{"id":"we_8E5zmV1qZUdr6zJpgWoEZ4DE","object":"customer","deleted":true}`},
		{"delete webhook endpoint answering the endpoint", "DELETE", weURL, 200, jsonHeader(), weWith(func(map[string]any) {})},
		{"card error on a webhook endpoint create", "POST", base + "/v1/webhook_endpoints", 402, jsonHeader(),
			errorBody(t, casapay.DeclineError("generic_decline"))},
		{"conflict on a webhook endpoint delete", "DELETE", weURL, 409, jsonHeader(), errorBody(t, casapay.ErrIdempotencyInFlight("k"))},
		{"payment method with two type hashes", "GET", pmURL, 200, jsonHeader(), pmWith(func(m map[string]any) {
			m["sepa_debit"] = map[string]any{"bank_code": nil, "country": "DE", "fingerprint": "0a1b", "last4": "3000"}
		})},
		{"payment method with an unknown brand", "GET", pmURL, 200, jsonHeader(),
			pmWith(func(m map[string]any) { m["card"].(map[string]any)["brand"] = "maestro" })},
		{"payment method with the card number", "GET", pmURL, 200, jsonHeader(),
			pmWith(func(m map[string]any) { m["card"].(map[string]any)["number"] = "4242424242424242" })},
		{"payment method without customer", "GET", pmURL, 200, jsonHeader(), pmWith(func(m map[string]any) { delete(m, "customer") })},
		{"payment method with a payment method as customer", "GET", pmURL, 200, jsonHeader(),
			pmWith(func(m map[string]any) { m["customer"] = "pm_1" })},
		{"payment method with a token ID", "GET", pmURL, 200, jsonHeader(), pmWith(func(m map[string]any) { m["id"] = "pm_card_visa" })},
		{"customer with a token as default_payment_method", "GET", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			customerWith(func(m map[string]any) { m["default_payment_method"] = "pm_card_visa" })},
		{"payment methods list with the customers URL", "GET", base + "/v1/payment_methods", 200, jsonHeader(),
			`{"object":"list","url":"/v1/customers","has_more":false,"data":[]}`},
		{"card error on detach", "POST", pmURL + "/detach", 402, jsonHeader(), errorBody(t, casapay.DeclineError("generic_decline"))},
		{"card error on a read", "GET", pmURL, 402, jsonHeader(), errorBody(t, casapay.DeclineError("generic_decline"))},
		{"customer without livemode", "GET", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			customerWith(func(m map[string]any) { delete(m, "livemode") })},
		{"metadata with a number", "POST", base + "/v1/customers", 200, jsonHeader(),
			customerWith(func(m map[string]any) { m["metadata"] = map[string]any{"unit": 4} })},
		{"unset field omitted instead of null", "POST", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			customerWith(func(m map[string]any) { delete(m, "phone") })},
		{"unknown field", "POST", base + "/v1/customers", 200, jsonHeader(),
			customerWith(func(m map[string]any) { m["nickname"] = "JD" })},
		{"id without prefix", "GET", base + "/v1/customers/123456789", 200, jsonHeader(),
			customerWith(func(m map[string]any) { m["id"] = "123456789" })},
		{"address without line2", "GET", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			customerWith(func(m map[string]any) { delete(m["address"].(map[string]any), "line2") })},
		{"balance as a string", "GET", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			customerWith(func(m map[string]any) { m["balance"] = "0" })},
		{"wrong object", "GET", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			customerWith(func(m map[string]any) { m["object"] = "tenant" })},
		{"metadata null", "GET", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			customerWith(func(m map[string]any) { m["metadata"] = nil })},
		{"deleted false", "DELETE", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			`{"id":"cus_123456789","object":"customer","deleted":false}`},
		{"delete answering the customer", "DELETE", base + "/v1/customers/cus_123456789", 200, jsonHeader(),
			mustJSON(t, customer)},
		{"list without has_more", "GET", base + "/v1/customers", 200, jsonHeader(),
			`{"object":"list","url":"/v1/customers","data":[]}`},
		{"list of broken customers", "GET", base + "/v1/customers", 200, jsonHeader(),
			`{"object":"list","url":"/v1/customers","has_more":false,"data":[{"id":"cus_1"}]}`},
		{"created instead of ok", "POST", base + "/v1/customers", 201, jsonHeader(), mustJSON(t, customer)},
		{"conflict on a read", "GET", base + "/v1/customers", 409, jsonHeader(), errorBody(t, casapay.ErrIdempotencyInFlight("k"))},
		{"no Request-Id", "GET", base + "/v1/customers/cus_123456789", 200, withHeader("Request-Id", ""), mustJSON(t, customer)},
		{"malformed Request-Id", "GET", base + "/v1/customers/cus_123456789", 200, withHeader("Request-Id", "1234"), mustJSON(t, customer)},
		{"Idempotent-Replayed not true", "POST", base + "/v1/customers", 200, withHeader("Idempotent-Replayed", "yes"), mustJSON(t, customer)},
		{"text body", "GET", base + "/v1/customers/cus_123456789", 200, withHeader("Content-Type", "text/plain"), mustJSON(t, customer)},
		{"error with unknown type", "GET", base + "/v1/customers/cus_x", 404, jsonHeader(),
			`{"error":{"type":"not_found","message":"No such customer: 'cus_x'"}}`},
		{"error without message", "GET", base + "/v1/customers/cus_x", 404, jsonHeader(),
			`{"error":{"type":"invalid_request_error","code":"resource_missing"}}`},
		{"bare error", "GET", base + "/v1/customers", 500, jsonHeader(), `{"type":"api_error","message":"boom"}`},
		{"health as text", "GET", base + "/healthz", 200, withHeader("Content-Type", "text/plain"), "ok"},
		{"unknown route answering ok", "GET", base + "/v1/charges", 200, jsonHeader(), `{"object":"list"}`},
		{"unknown route with a text body", "GET", base + "/v1/charges", 404, withHeader("Content-Type", "text/plain"), "404 page not found\n"},
		{"unknown route with a bare error", "GET", base + "/nope", 404, jsonHeader(), `{"message":"not found"}`},
		{"unknown route without Request-Id", "GET", base + "/nope", 404, withHeader("Request-Id", ""),
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: "Unrecognized request URL."})},
		{"event without request", "GET", event, 200, jsonHeader(), eventWith(func(m map[string]any) { delete(m, "request") })},
		{"event request without idempotency_key", "GET", event, 200, jsonHeader(),
			eventWith(func(m map[string]any) { delete(m["request"].(map[string]any), "idempotency_key") })},
		{"event with unknown type", "GET", event, 200, jsonHeader(), eventWith(func(m map[string]any) { m["type"] = "customer.archived" })},
		{"event id without prefix", "GET", event, 200, jsonHeader(), eventWith(func(m map[string]any) { m["id"] = "8E5pnDkXCLrv5ck5okL3pIic" })},
		{"event with customer's object", "GET", event, 200, jsonHeader(), eventWith(func(m map[string]any) { m["object"] = "customer" })},
		{"event without data.object", "GET", event, 200, jsonHeader(),
			eventWith(func(m map[string]any) { delete(m["data"].(map[string]any), "object") })},
		{"event with data.object null", "GET", event, 200, jsonHeader(),
			eventWith(func(m map[string]any) { m["data"].(map[string]any)["object"] = nil })},
		{"previous_attributes null instead of absent", "GET", event, 200, jsonHeader(),
			editJSON(t, created, func(m map[string]any) { m["data"].(map[string]any)["previous_attributes"] = nil })},
		{"negative pending_webhooks", "GET", event, 200, jsonHeader(), eventWith(func(m map[string]any) { m["pending_webhooks"] = -1 })},
		{"created as a string", "GET", event, 200, jsonHeader(), eventWith(func(m map[string]any) { m["created"] = "1706140900" })},
		{"unknown event field", "GET", event, 200, jsonHeader(), eventWith(func(m map[string]any) { m["account"] = "acct_1" })},
		{"events list with the customers URL", "GET", base + "/v1/events", 200, jsonHeader(),
			`{"object":"list","url":"/v1/customers","has_more":false,"data":[]}`},
		{"events list of customers", "GET", base + "/v1/events", 200, jsonHeader(),
			mustJSON(t, map[string]any{"object": "list", "url": "/v1/events", "has_more": false, "data": []*casapay.Customer{customer}})},
		{"conflict on the events list", "GET", base + "/v1/events", 409, jsonHeader(), errorBody(t, casapay.ErrIdempotencyInFlight("k"))},
		{"unavailable on an event", "GET", event, 503, jsonHeader(),
			errorBody(t, &casapay.Error{Type: casapay.ErrorTypeAPI, Message: "Retry later."})},
		{"ok to DELETE an event", "DELETE", event, 200, jsonHeader(), mustJSON(t, updated)},
		{"ok to DELETE on the collection", "DELETE", base + "/v1/customers", 200, jsonHeader(), mustJSON(t, customer.Stub())},
		{"ok with a trailing slash", "GET", base + "/v1/customers/", 200, jsonHeader(),
			`{"object":"list","url":"/v1/customers","has_more":false,"data":[]}`},
		{"wrong method with plain text", "PATCH", base + "/v1/customers/cus_1", 405, withHeader("Content-Type", "text/plain"),
			"Method Not Allowed\n"},
	}
	c := openapitest.New(t)
	for _, r := range tests {
		t.Run(r.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			req := httptest.NewRequest(r.method, r.url, nil)
			c.Check(rec, req, r.status, r.header, []byte(r.body))
			if len(rec.failures) == 0 {
				t.Fatalf("Check accepted %s %s %d with body %s", r.method, r.url, r.status, r.body)
			}
			// The failure must say which request it is about, so a server test's log points at it.
			u, _ := strings.CutPrefix(r.url, base)
			path, _, _ := strings.Cut(u, "?")
			if prefix := fmt.Sprintf("%s %s answered %d", r.method, path, r.status); !strings.HasPrefix(rec.failures[0], prefix) {
				t.Errorf("failure = %q, want it to start with %q", rec.failures[0], prefix)
			}
		})
	}
}

// TestCheckerConcurrent lets the race detector see parallel checks through one Checker.
func TestCheckerConcurrent(t *testing.T) {
	c := openapitest.New(t)
	responses := goodResponses(t)
	var wg sync.WaitGroup
	for range 4 {
		for _, r := range responses {
			wg.Go(func() {
				req := httptest.NewRequest(r.method, r.url, nil)
				c.Check(t, req, r.status, r.header, []byte(r.body))
			})
		}
	}
	wg.Wait()
}

// TestRequests checks the request side of the document: what the reference's curl examples and
// Stripe's SDKs send must be valid, and requests the server rejects should be invalid here too.
// kin-openapi ignores form keys that no property names and does not check a parameter whose schema
// is anyOf (created), so unknown form keys and malformed created values are left to the server's
// own tests. Nor does it decode arrays in form bodies (expand[0]=…, enabled_events[]=…): it ignores
// them, so a form create of a webhook endpoint, whose enabled_events is required, reads as missing
// it, and webhook endpoint creates are checked as JSON here. The document does not say in its schema
// that a balance transaction's amount is not 0 (a `not` there breaks kin-openapi's form decoding), so
// that too is left to the server's tests.
func TestRequests(t *testing.T) {
	doc := loadDocument(t)
	doc.Servers = nil // match on the path alone, as the checker does
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route openapi.yaml: %v", err)
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		method, url string
		contentType string
		body        string
		valid       bool
	}{
		{"reference create", "POST", "/v1/customers", "application/json",
			`{"name":"Jane Doe","email":"jane.doe@example.com","metadata":{"property_id":"prop_456"}}`, true},
		{"reference update", "POST", "/v1/customers/cus_123456789", "application/json", `{"email":"jane.new@example.com"}`, true},
		{"reference list", "GET", "/v1/customers?limit=10", "", "", true},
		{"SDK create", "POST", "/v1/customers", form,
			"address[city]=London&address[country]=GB&email=jane.doe%40example.com&metadata[property_id]=prop_456&metadata[unit]=4B&name=Jane+Doe", true},
		{"SDK update unsetting", "POST", "/v1/customers/cus_123456789", form, "phone=&metadata[unit]=", true},
		{"form clear metadata", "POST", "/v1/customers/cus_123456789", form, "metadata=", true},
		{"JSON clear metadata and address", "POST", "/v1/customers/cus_123456789", "application/json", `{"metadata":"","address":null}`, true},
		{"JSON clear metadata with null", "POST", "/v1/customers/cus_123456789", "application/json", `{"metadata":null}`, true},
		{"empty create", "POST", "/v1/customers", form, "", true},
		{"list by range", "GET", "/v1/customers?created[gte]=1706140800&created[lt]=1706227200&limit=100", "", "", true},
		{"list by exact time", "GET", "/v1/customers?created=1706140800&email=jane.doe%40example.com", "", "", true},
		{"list with cursor", "GET", "/v1/customers?starting_after=cus_123456789", "", "", true},
		{"list with expand", "GET", "/v1/customers?expand[]=data.default_payment_method&ending_before=cus_1", "", "", true},
		{"SDK create with expand", "POST", "/v1/customers", form, "expand[0]=default_payment_method&name=Jane", true},
		{"create with expand[]", "POST", "/v1/customers", form, "expand[]=default_payment_method&name=Jane", true},
		{"JSON create with expand", "POST", "/v1/customers", "application/json", `{"expand":["default_payment_method"]}`, true},
		{"form metadata value too long", "POST", "/v1/customers", form, "metadata[unit]=" + strings.Repeat("x", 501), false},
		{"form name too long", "POST", "/v1/customers", form, "name=" + strings.Repeat("x", 257), false},
		{"form clear address", "POST", "/v1/customers/cus_1", form, "address=", true},
		{"limit too large", "GET", "/v1/customers?limit=101", "", "", false},
		{"limit zero", "GET", "/v1/customers?limit=0", "", "", false},
		{"unknown parameter", "POST", "/v1/customers", "application/json", `{"nickname":"JD"}`, false},
		{"metadata number", "POST", "/v1/customers", "application/json", `{"metadata":{"unit":4}}`, false},
		{"name too long", "POST", "/v1/customers", "application/json", `{"name":"` + strings.Repeat("x", 257) + `"}`, false},
		{"payment_method on update", "POST", "/v1/customers/cus_123456789", "application/json", `{"payment_method":"pm_1"}`, false},
		{"default_payment_method on create", "POST", "/v1/customers", "application/json", `{"default_payment_method":"pm_1"}`, false},
		{"address as a string on create", "POST", "/v1/customers", "application/json", `{"address":"London"}`, false},
		{"long idempotency key", "POST", "/v1/customers", "application/json", `{}`, false},
		{"events list", "GET", "/v1/events?limit=100&starting_after=evt_8E5pnDkXCLrv5ck5okL3pIic", "", "", true},
		{"events by exact type", "GET", "/v1/events?type=customer.updated&created[gte]=1706140800", "", "", true},
		{"events by pattern", "GET", "/v1/events?type=customer.*&ending_before=evt_1", "", "", true},
		{"events by types", "GET", "/v1/events?types[]=customer.created&types[]=customer.deleted", "", "", true},
		{"events by exact time", "GET", "/v1/events?created=1706140800", "", "", true},
		{"events by 20 types", "GET", "/v1/events?" + strings.Repeat("types[]=customer.updated&", 19) + "types[]=customer.created", "", "", true},
		{"events by 21 types", "GET", "/v1/events?" + strings.Repeat("types[]=customer.updated&", 20) + "types[]=customer.created", "", "", false},
		{"events by unknown type in types", "GET", "/v1/events?types[]=customer.archived", "", "", false},
		{"events by pattern in types", "GET", "/v1/events?types[]=customer.*", "", "", false},
		{"events limit too large", "GET", "/v1/events?limit=101", "", "", false},
		{"events limit zero", "GET", "/v1/events?limit=0", "", "", false},
		{"retrieve event", "GET", "/v1/events/evt_8E5pnDkXCLrv5ck5okL3pIic", "", "", true},
		{"customer create with a test token", "POST", "/v1/customers", form, "payment_method=pm_card_visa&expand[0]=default_payment_method", true},
		{"customer expand of an unknown field", "POST", "/v1/customers", "application/json", `{"expand":["customer"]}`, false},
		{"SDK create card", "POST", "/v1/payment_methods", form,
			"type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2034&card[cvc]=314&billing_details[name]=Jane+Doe", true},
		{"JSON create card", "POST", "/v1/payment_methods", "application/json",
			`{"type":"card","card":{"number":"4242424242424242","exp_month":12,"exp_year":2034},"metadata":{"unit":"4B"}}`, true},
		{"JSON create sepa_debit with billing address", "POST", "/v1/payment_methods", "application/json",
			`{"type":"sepa_debit","sepa_debit":{"iban":"DE89370400440532013000"},"billing_details":{"address":{"country":"DE"},"email":"jane@example.com"}}`, true},
		{"form create bacs_debit", "POST", "/v1/payment_methods", form, "type=bacs_debit&bacs_debit[sort_code]=108800&bacs_debit[account_number]=00012345", true},
		{"JSON create us_bank_account", "POST", "/v1/payment_methods", "application/json",
			`{"type":"us_bank_account","us_bank_account":{"routing_number":"110000000","account_number":"000123456789","account_type":"savings"}}`, true},
		{"create without type", "POST", "/v1/payment_methods", "application/json", `{"card":{"number":"4242424242424242","exp_month":12,"exp_year":2034}}`, false},
		{"create with an unknown type", "POST", "/v1/payment_methods", "application/json", `{"type":"ideal"}`, false},
		{"create card without number", "POST", "/v1/payment_methods", "application/json", `{"type":"card","card":{"exp_month":12,"exp_year":2034}}`, false},
		{"create card with an unknown field", "POST", "/v1/payment_methods", "application/json",
			`{"type":"card","card":{"number":"4242424242424242","exp_month":12,"exp_year":2034,"name":"Jane"}}`, false},
		{"create with bad account_type", "POST", "/v1/payment_methods", "application/json",
			`{"type":"us_bank_account","us_bank_account":{"routing_number":"110000000","account_number":"0001","account_type":"cheque"}}`, false},
		{"update expiry", "POST", "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy", form, "card[exp_year]=2035&metadata[unit]=", true},
		{"JSON update clearing", "POST", "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy", "application/json",
			`{"billing_details":{"address":null,"phone":""},"metadata":null}`, true},
		{"update card number", "POST", "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy", "application/json",
			`{"card":{"number":"4242424242424242"}}`, false},
		{"update type", "POST", "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy", "application/json", `{"type":"card"}`, false},
		{"attach", "POST", "/v1/payment_methods/pm_card_visa/attach", form, "customer=cus_123456789&expand[]=customer", true},
		{"attach without customer", "POST", "/v1/payment_methods/pm_card_visa/attach", "application/json", `{}`, false},
		{"attach to a non-customer", "POST", "/v1/payment_methods/pm_card_visa/attach", "application/json", `{"customer":"pm_1"}`, false},
		{"detach", "POST", "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy/detach", form, "", true},
		{"detach with a customer", "POST", "/v1/payment_methods/pm_1PgT3xJ8kLmN2oPqRsTuVwXy/detach", "application/json",
			`{"customer":"cus_1"}`, false},
		{"list payment methods", "GET", "/v1/payment_methods?customer=cus_123456789&type=card&limit=3&expand[]=data.customer", "", "", true},
		{"list payment methods of an unknown type", "GET", "/v1/payment_methods?type=ideal", "", "", false},
		{"list a customer's payment methods", "GET", "/v1/customers/cus_123456789/payment_methods?type=sepa_debit&starting_after=pm_1", "", "", true},
		{"retrieve a customer's payment method", "GET", "/v1/customers/cus_123456789/payment_methods/pm_1?expand[]=customer", "", "", true},
		{"events by delivery_success", "GET", "/v1/events?delivery_success=false&type=customer.*", "", "", true},
		{"events by a bad delivery_success", "GET", "/v1/events?delivery_success=yes", "", "", false},
		{"reference webhook endpoint create", "POST", "/v1/webhook_endpoints", "application/json",
			`{"url":"https://hooks.example.com/casapay","enabled_events":["customer.created","customer.updated"],"description":"Rent app"}`, true},
		{"webhook endpoint create for every event", "POST", "/v1/webhook_endpoints", "application/json",
			`{"url":"http://localhost:3000/hooks","enabled_events":["*","customer.created"],"metadata":{"env":"dev"}}`, true},
		{"form webhook endpoint create without url", "POST", "/v1/webhook_endpoints", form, "description=Rent+app", false},
		{"webhook endpoint create without url", "POST", "/v1/webhook_endpoints", "application/json", `{"enabled_events":["*"]}`, false},
		{"webhook endpoint create without events", "POST", "/v1/webhook_endpoints", "application/json", `{"url":"https://hooks.example.com/"}`, false},
		{"webhook endpoint create with no events", "POST", "/v1/webhook_endpoints", "application/json",
			`{"url":"https://hooks.example.com/","enabled_events":[]}`, false},
		{"webhook endpoint create for an unknown event", "POST", "/v1/webhook_endpoints", "application/json",
			`{"url":"https://hooks.example.com/","enabled_events":["invoice.paid"]}`, false},
		{"webhook endpoint create disabled", "POST", "/v1/webhook_endpoints", "application/json",
			`{"url":"https://hooks.example.com/","enabled_events":["*"],"disabled":true}`, false},
		{"webhook endpoint create with a long url", "POST", "/v1/webhook_endpoints", "application/json",
			`{"url":"https://hooks.example.com/` + strings.Repeat("a", 2048) + `","enabled_events":["*"]}`, false},
		{"webhook endpoint update", "POST", "/v1/webhook_endpoints/we_8E5zmV1qZUdr6zJpgWoEZ4DE", form,
			"disabled=true&enabled_events[]=*&description=&metadata[env]=", true},
		{"JSON webhook endpoint update", "POST", "/v1/webhook_endpoints/we_8E5zmV1qZUdr6zJpgWoEZ4DE", "application/json",
			`{"url":"https://hooks.example.com/v2","disabled":false,"metadata":null}`, true},
		{"webhook endpoint update with a string disabled", "POST", "/v1/webhook_endpoints/we_1", "application/json", `{"disabled":"maybe"}`, false},
		{"webhook endpoint update of the secret", "POST", "/v1/webhook_endpoints/we_1", "application/json", `{"secret":"whsec_1"}`, false},
		{"list webhook endpoints", "GET", "/v1/webhook_endpoints?limit=16&ending_before=we_8E5zmV1qZUdr6zJpgWoEZ4DE", "", "", true},
		{"list webhook endpoints limit too large", "GET", "/v1/webhook_endpoints?limit=101", "", "", false},
		{"retrieve webhook endpoint", "GET", "/v1/webhook_endpoints/we_8E5zmV1qZUdr6zJpgWoEZ4DE", "", "", true},
		{"delete webhook endpoint", "DELETE", "/v1/webhook_endpoints/we_8E5zmV1qZUdr6zJpgWoEZ4DE", "", "", true},
		{"customer create with a balance", "POST", "/v1/customers", form, "name=Jane&balance=-5000&currency=gbp", true},
		{"JSON customer create with a balance", "POST", "/v1/customers", "application/json", `{"balance":125000,"currency":"gbp"}`, true},
		{"customer update of the balance", "POST", "/v1/customers/cus_123456789", form, "balance=0", true},
		{"customer create with an upper-case currency", "POST", "/v1/customers", form, "balance=100&currency=GBP", false},
		{"customer create with a balance beyond the bounds", "POST", "/v1/customers", "application/json",
			`{"balance":1000000000001,"currency":"gbp"}`, false},
		{"customer update with a string balance", "POST", "/v1/customers/cus_123456789", "application/json", `{"balance":"ten"}`, false},
		{"SDK balance transaction create", "POST", "/v1/customers/cus_123456789/balance_transactions", form,
			"amount=125000&currency=gbp&description=April+rent&metadata[unit]=4B&expand[0]=customer", true},
		{"JSON balance transaction credit", "POST", "/v1/customers/cus_123456789/balance_transactions", "application/json",
			`{"amount":-5000,"currency":"gbp","expand":["customer"]}`, true},
		{"balance transaction create without amount", "POST", "/v1/customers/cus_123456789/balance_transactions", form, "currency=gbp", false},
		{"balance transaction create without currency", "POST", "/v1/customers/cus_123456789/balance_transactions", "application/json",
			`{"amount":100}`, false},
		{"balance transaction create beyond the bounds", "POST", "/v1/customers/cus_123456789/balance_transactions", "application/json",
			`{"amount":-1000000000001,"currency":"gbp"}`, false},
		{"balance transaction create with a type", "POST", "/v1/customers/cus_123456789/balance_transactions", "application/json",
			`{"amount":100,"currency":"gbp","type":"initial"}`, false},
		{"balance transaction create with a long description", "POST", "/v1/customers/cus_123456789/balance_transactions", form,
			"amount=100&currency=gbp&description=" + strings.Repeat("x", 351), false},
		{"balance transaction create expanding data.customer", "POST", "/v1/customers/cus_123456789/balance_transactions", "application/json",
			`{"amount":100,"currency":"gbp","expand":["data.customer"]}`, false},
		{"balance transaction update", "POST", "/v1/customers/cus_123456789/balance_transactions/cbtxn_8E5zDGyEN97uPNV2TT5w3A2l", form,
			"description=&metadata[unit]=", true},
		{"JSON balance transaction update clearing metadata", "POST",
			"/v1/customers/cus_123456789/balance_transactions/cbtxn_8E5zDGyEN97uPNV2TT5w3A2l", "application/json",
			`{"description":"April rent, paid late","metadata":null}`, true},
		{"balance transaction update of the amount", "POST", "/v1/customers/cus_123456789/balance_transactions/cbtxn_1", "application/json",
			`{"amount":100}`, false},
		{"balance transaction update of the currency", "POST", "/v1/customers/cus_123456789/balance_transactions/cbtxn_1", "application/json",
			`{"currency":"gbp"}`, false},
		{"list balance transactions", "GET",
			"/v1/customers/cus_123456789/balance_transactions?limit=3&starting_after=cbtxn_8E5zDGyEN97uPNV2TT5w3A2l&expand[]=data.customer", "", "", true},
		{"list balance transactions limit too large", "GET", "/v1/customers/cus_123456789/balance_transactions?limit=101", "", "", false},
		{"retrieve balance transaction", "GET",
			"/v1/customers/cus_123456789/balance_transactions/cbtxn_8E5zDGyEN97uPNV2TT5w3A2l?expand[]=customer", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body *bytes.Reader
			if tt.body != "" {
				body = bytes.NewReader([]byte(tt.body))
			}
			req := httptest.NewRequest(tt.method, tt.url, nil)
			if body != nil {
				req = httptest.NewRequest(tt.method, tt.url, body)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("Authorization", "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc")
			if tt.name == "long idempotency key" {
				req.Header.Set("Idempotency-Key", strings.Repeat("k", 256))
			} else if tt.method == http.MethodPost {
				req.Header.Set("Idempotency-Key", "8b7f3a7e-5c1d-4f0e-9a51-0c3f6d2e1b44")
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("FindRoute(%s %s): %v", tt.method, tt.url, err)
			}
			err = openapi3filter.ValidateRequest(t.Context(), &openapi3filter.RequestValidationInput{
				Request:    req,
				PathParams: params,
				Route:      route,
				Options: &openapi3filter.Options{
					AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
					MultiError:         true,
				},
			})
			if valid := err == nil; valid != tt.valid {
				t.Errorf("ValidateRequest(%s %s %s) = %v, want valid %t", tt.method, tt.url, tt.body, err, tt.valid)
			}
		})
	}
}
