package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/casapay/casapay"
)

// Exercise runs the conformance suite against the stores open makes: every behaviour of casapay.Store
// that the API relies on. Each subtest opens a fresh store, and the subtests run in parallel.
//
// The suite holds stores to a few rules beyond the Store doc, because the API shows them: timestamps
// keep whole seconds, a customer's metadata is a non-nil map, and IDs that tie on created are ordered
// by byte value (in PostgreSQL, COLLATE "C"), so a cursor means the same thing on both stores.
func Exercise(t *testing.T, open Opener) {
	for _, tt := range []struct {
		name string
		test func(t *testing.T, open Opener)
	}{
		{"CreateAndFind", testCreateAndFind},
		{"NotFound", testNotFound},
		{"ScopeIsolation", testScopeIsolation},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"List", testList},
		{"ImportCustomers", testImportCustomers},
		{"Idempotency", testIdempotency},
		{"ConcurrentIdempotentCreate", testConcurrentIdempotentCreate},
		{"APIKeys", testAPIKeys},
		{"AccountRateLimits", testAccountRateLimits},
		{"BootstrapAccount", testBootstrapAccount},
		{"PruneIdempotencyKeys", testPruneIdempotencyKeys},
		{"PaymentMethodChecked", testPaymentMethodChecked},
		{"AttachRace", testAttachRace},
		{"PaymentMethodWritesInterleave", testPaymentMethodWritesInterleave},
		{"Ledger", testLedger},
		{"ClaimOnce", testClaimOnce},
		{"PostponeByAge", testPostponeByAge},
		{"DeleteWhileQueueing", testDeleteWhileQueueing},
		{"DeliveryCurrent", testDeliveryCurrent},
		{"PruneWebhookDeliveries", testPruneWebhookDeliveries},
		{"Events", testEvents},
		{"ListEvents", testListEvents},
		{"EventsFollowApplication", testEventsFollowApplication},
		{"PruneEvents", testPruneEvents},
		{"EventAtomic", testEventAtomic},
		{"CommitOutlivesClient", testCommitOutlivesClient},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, open)
		})
	}
}

// epoch is the suite's clock: 2024-01-25T00:00:00Z, the created time in the API reference's example.
// Tests name times as seconds after it, so no result depends on when the suite runs.
const epoch = 1706140800

// at returns the time sec seconds after epoch.
func at(sec int64) time.Time { return time.Unix(epoch+sec, 0) }

func str(s string) *string { return &s }
func i64(v int64) *int64   { return &v }

// newAccount stores a new account with no keys and returns its test-mode scope.
func newAccount(t *testing.T, s casapay.Store) casapay.Scope {
	t.Helper()
	a := &casapay.Account{ID: casapay.NewID("acct"), Name: "Northside Lettings", Created: at(0)}
	if err := s.CreateAccount(t.Context(), a, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return casapay.Scope{AccountID: a.ID}
}

// live returns scope's live-mode twin.
func live(scope casapay.Scope) casapay.Scope {
	return casapay.Scope{AccountID: scope.AccountID, Livemode: true}
}

// newCustomer builds, without storing, a customer from p created sec seconds after epoch.
func newCustomer(t *testing.T, scope casapay.Scope, p *casapay.CustomerParams, sec int64) *casapay.Customer {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	c, err := casapay.NewCustomer(scope, p, at(sec))
	if err != nil {
		t.Fatalf("NewCustomer: %v", err)
	}
	return c
}

// createCustomer stores a customer built from p, created sec seconds after epoch, without an
// idempotency key.
func createCustomer(t *testing.T, s casapay.Store, scope casapay.Scope, p *casapay.CustomerParams, sec int64) *casapay.Customer {
	t.Helper()
	c := newCustomer(t, scope, p, sec)
	replay, err := createReplay(t.Context(), s, scope, c, nil)
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	if replay != nil {
		t.Fatalf("CreateCustomer without a key replayed %s", replay.Body)
	}
	return c
}

// createReplay is s.CreateCustomer under idem (nil for none) that returns the response only when it
// is a replay, for tests about idempotency.
func createReplay(ctx context.Context, s casapay.Store, scope casapay.Scope, c *casapay.Customer, idem *casapay.Idempotency) (*casapay.Response, error) {
	resp, err := s.CreateCustomer(ctx, scope, c, casapay.Request{Idempotency: idem, Time: time.Unix(c.Created, 0)})
	if err != nil || !resp.Replayed {
		return nil, err
	}
	return resp, nil
}

// updateReplay is s.UpdateCustomer under idem (nil for none) that returns the response only when it
// is a replay.
func updateReplay(ctx context.Context, s casapay.Store, scope casapay.Scope, id string, p *casapay.CustomerParams,
	idem *casapay.Idempotency) (*casapay.Customer, *casapay.Response, error) {
	var req casapay.Request
	if idem != nil {
		req = casapay.Request{Idempotency: idem, Time: idem.Created}
	}
	c, resp, err := s.UpdateCustomer(ctx, scope, id, p, req)
	if err != nil || !resp.Replayed {
		return c, nil, err
	}
	return c, resp, nil
}

// deleteCustomer is s.DeleteCustomer without a request.
func deleteCustomer(ctx context.Context, s casapay.Store, scope casapay.Scope, id string) error {
	_, err := s.DeleteCustomer(ctx, scope, id, casapay.Request{})
	return err
}

// findCustomer returns a customer that must exist.
func findCustomer(t *testing.T, s casapay.Store, scope casapay.Scope, id string) *casapay.Customer {
	t.Helper()
	c, err := s.FindCustomer(t.Context(), scope, id)
	if err != nil {
		t.Fatalf("FindCustomer(%q): %v", id, err)
	}
	return c
}

// clone returns a deep copy of c, for building the customer a test expects.
func clone(t *testing.T, c *casapay.Customer) *casapay.Customer {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("encode customer: %v", err)
	}
	var d casapay.Customer
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("decode customer: %v", err)
	}
	d.Deleted = c.Deleted
	return &d
}

// customerJSON is what a stored response for c must hold.
func customerJSON(t *testing.T, c *casapay.Customer) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("encode customer: %v", err)
	}
	return string(b)
}

// listIDs lists with f and returns the IDs of the page.
func listIDs(t *testing.T, s casapay.Store, scope casapay.Scope, f casapay.CustomerFilter) ([]string, bool) {
	t.Helper()
	page, hasMore, err := s.ListCustomers(t.Context(), scope, f)
	if err != nil {
		t.Fatalf("ListCustomers(%+v): %v", f, err)
	}
	return ids(page), hasMore
}

func ids(cs []*casapay.Customer) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// wantError reports unless err is a *casapay.Error equal to want.
func wantError(t *testing.T, call string, err error, want *casapay.Error) {
	t.Helper()
	var got *casapay.Error
	if !errors.As(err, &got) {
		t.Errorf("%s error = %v, want %v", call, err, want)
		return
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("%s error mismatch (-want +got):\n%s", call, diff)
	}
}

// wantCode reports unless err is a *casapay.Error with the given code and param.
func wantCode(t *testing.T, call string, err error, code, param string) {
	t.Helper()
	var got *casapay.Error
	if !errors.As(err, &got) {
		t.Errorf("%s error = %v, want code %q param %q", call, err, code, param)
		return
	}
	if got.Code != code || got.Param != param {
		t.Errorf("%s error code, param = %q, %q, want %q, %q", call, got.Code, got.Param, code, param)
	}
}

// janeParams are full create parameters, as in the API reference's example.
func janeParams() *casapay.CustomerParams {
	return &casapay.CustomerParams{
		Name:  str("Jane Doe"),
		Email: str("jane.doe@example.com"),
		Phone: str("+44 7700 900123"),
		Address: &casapay.AddressParams{
			Line1: str("123 High Street"), City: str("London"), PostalCode: str("SW1A 1AA"), Country: str("GB"),
		},
		Metadata: map[string]string{"property_id": "prop_456", "unit": "4B"},
	}
}

func testCreateAndFind(t *testing.T, open Opener) {
	s := open(t)
	scope := newAccount(t, s)

	for _, tt := range []struct {
		name  string
		scope casapay.Scope
		p     *casapay.CustomerParams
		edit  func(c *casapay.Customer) // fields no create parameter sets
	}{
		{"every field", scope, janeParams(), nil},
		{"no fields", scope, &casapay.CustomerParams{}, nil},
		{"live mode", live(scope), janeParams(), nil},
		{"unicode", scope, &casapay.CustomerParams{
			Name:     str("Zoë Łukasiewicz-李"),
			Address:  &casapay.AddressParams{Line2: str("Flat 2, Ærøskøbing Hus"), State: str("Île-de-France")},
			Metadata: map[string]string{"note": "payé ✓", "quote": `"'; --`},
		}, nil},
		{"balance and currency", scope, &casapay.CustomerParams{Name: str("Owes Rent")}, func(c *casapay.Customer) {
			c.Balance = -125050
			c.Currency = str("gbp")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCustomer(t, tt.scope, tt.p, 42)
			if tt.edit != nil {
				tt.edit(c)
			}
			want := clone(t, c)
			replay, err := createReplay(t.Context(), s, tt.scope, c, nil)
			if err != nil || replay != nil {
				t.Fatalf("CreateCustomer = %v, %v, want nil, nil", replay, err)
			}
			got := findCustomer(t, s, tt.scope, c.ID)
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("FindCustomer(%q) mismatch (-want +got):\n%s", c.ID, diff)
			}
		})
	}
}

func testNotFound(t *testing.T, open Opener) {
	s := open(t)
	scope := newAccount(t, s)
	createCustomer(t, s, scope, janeParams(), 0) // the store is not empty
	id := casapay.NewID("cus")
	want := casapay.NotFound("customer", "id", id)

	_, err := s.FindCustomer(t.Context(), scope, id)
	wantError(t, "FindCustomer", err, want)
	c, replay, err := updateReplay(t.Context(), s, scope, id, &casapay.CustomerParams{Name: str("x")}, nil)
	if c != nil || replay != nil {
		t.Errorf("UpdateCustomer(%q) = %v, %v, want nil, nil", id, c, replay)
	}
	wantError(t, "UpdateCustomer", err, want)
	wantError(t, "DeleteCustomer", deleteCustomer(t.Context(), s, scope, id), want)
}

// testScopeIsolation checks that from another account, or the other mode of the same account, a
// customer behaves exactly as a missing one.
func testScopeIsolation(t *testing.T, open Opener) {
	s := open(t)
	scope := newAccount(t, s)
	other := newAccount(t, s)
	c := createCustomer(t, s, scope, janeParams(), 10)
	want := clone(t, c)
	// Each other scope has a customer of its own, so an empty list there is not an empty store.
	mine := map[casapay.Scope]*casapay.Customer{}
	for _, o := range []casapay.Scope{live(scope), other, live(other)} {
		mine[o] = createCustomer(t, s, o, &casapay.CustomerParams{Name: str("Someone Else")}, 5)
	}

	for _, o := range []casapay.Scope{live(scope), other, live(other)} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			ctx := t.Context()
			_, err := s.FindCustomer(ctx, o, c.ID)
			wantError(t, "FindCustomer", err, casapay.NotFound("customer", "id", c.ID))
			_, _, err = updateReplay(ctx, s, o, c.ID, &casapay.CustomerParams{Name: str("Mallory")}, nil)
			wantError(t, "UpdateCustomer", err, casapay.NotFound("customer", "id", c.ID))
			wantError(t, "DeleteCustomer", deleteCustomer(ctx, s, o, c.ID), casapay.NotFound("customer", "id", c.ID))

			got, hasMore := listIDs(t, s, o, casapay.CustomerFilter{Limit: 100})
			if wantIDs := []string{mine[o].ID}; !slices.Equal(got, wantIDs) || hasMore {
				t.Errorf("ListCustomers = %v, %t, want %v, false", got, hasMore, wantIDs)
			}
			_, _, err = s.ListCustomers(ctx, o, casapay.CustomerFilter{Limit: 10, StartingAfter: c.ID})
			wantError(t, "ListCustomers(starting_after)", err, casapay.NotFound("customer", "starting_after", c.ID))
			_, _, err = s.ListCustomers(ctx, o, casapay.CustomerFilter{Limit: 10, EndingBefore: c.ID})
			wantError(t, "ListCustomers(ending_before)", err, casapay.NotFound("customer", "ending_before", c.ID))
			_, _, err = s.ListCustomers(ctx, o, casapay.CustomerFilter{Limit: 10, Email: c.Email})
			if err != nil {
				t.Errorf("ListCustomers(email): %v", err)
			}
		})
	}

	if diff := gocmp.Diff(want, findCustomer(t, s, scope, c.ID)); diff != "" {
		t.Errorf("customer changed from other scopes (-want +got):\n%s", diff)
	}
	if got, _ := listIDs(t, s, scope, casapay.CustomerFilter{Limit: 100}); !slices.Equal(got, []string{c.ID}) {
		t.Errorf("ListCustomers in the owner's scope = %v, want [%s]", got, c.ID)
	}
}

func testUpdate(t *testing.T, open Opener) {
	s := open(t)
	scope := newAccount(t, s)

	fiftyKeys := func(from int, n int) map[string]string {
		m := map[string]string{}
		for i := from; i < from+n; i++ {
			m[fmt.Sprintf("key_%02d", i)] = "v"
		}
		return m
	}

	for _, tt := range []struct {
		name  string
		steps []*casapay.CustomerParams
		// want edits a copy of the customer as created; nil when the update must change nothing.
		want            func(c *casapay.Customer)
		wantCode, param string
	}{
		{name: "no parameters", steps: []*casapay.CustomerParams{{}}},
		{
			name:  "one field",
			steps: []*casapay.CustomerParams{{Name: str("Janet Doe")}},
			want:  func(c *casapay.Customer) { c.Name = str("Janet Doe") },
		},
		{
			name:  "empty string unsets",
			steps: []*casapay.CustomerParams{{Phone: str(""), Name: str(""), Email: str("")}},
			want:  func(c *casapay.Customer) { c.Phone, c.Name, c.Email = nil, nil, nil },
		},
		{
			name:  "unset default payment method",
			steps: []*casapay.CustomerParams{{DefaultPaymentMethod: str("")}},
			want:  func(c *casapay.Customer) { c.DefaultPaymentMethod = nil },
		},
		{
			name:  "metadata merges",
			steps: []*casapay.CustomerParams{{Metadata: map[string]string{"unit": "5C", "floor": "5"}}},
			want: func(c *casapay.Customer) {
				c.Metadata = map[string]string{"property_id": "prop_456", "unit": "5C", "floor": "5"}
			},
		},
		{
			name:  "empty metadata value deletes its key",
			steps: []*casapay.CustomerParams{{Metadata: map[string]string{"unit": "", "absent": ""}}},
			want:  func(c *casapay.Customer) { c.Metadata = map[string]string{"property_id": "prop_456"} },
		},
		{
			name:  "clear metadata",
			steps: []*casapay.CustomerParams{{ClearMetadata: true}},
			want:  func(c *casapay.Customer) { c.Metadata = map[string]string{} },
		},
		{
			name:  "clear then set metadata",
			steps: []*casapay.CustomerParams{{ClearMetadata: true, Metadata: map[string]string{"lease": "2025"}}},
			want:  func(c *casapay.Customer) { c.Metadata = map[string]string{"lease": "2025"} },
		},
		{
			name: "metadata merged to exactly the limit",
			steps: []*casapay.CustomerParams{
				{Metadata: fiftyKeys(0, casapay.MaxMetadataKeys-2)},
			},
			want: func(c *casapay.Customer) {
				c.Metadata = fiftyKeys(0, casapay.MaxMetadataKeys-2)
				c.Metadata["property_id"], c.Metadata["unit"] = "prop_456", "4B"
			},
		},
		{
			name: "metadata over the limit after merge",
			steps: []*casapay.CustomerParams{
				{Name: str("Not Applied"), Metadata: fiftyKeys(0, casapay.MaxMetadataKeys-1)},
			},
			wantCode: casapay.CodeParameterInvalidString, param: "metadata",
		},
		{
			name:  "address merges",
			steps: []*casapay.CustomerParams{{Address: &casapay.AddressParams{City: str("Manchester"), Country: str("gb")}}},
			want:  func(c *casapay.Customer) { c.Address.City = str("Manchester") },
		},
		{
			name:  "address field unset",
			steps: []*casapay.CustomerParams{{Address: &casapay.AddressParams{PostalCode: str("")}}},
			want:  func(c *casapay.Customer) { c.Address.PostalCode = nil },
		},
		{
			name:  "address unset",
			steps: []*casapay.CustomerParams{{Address: &casapay.AddressParams{Unset: true}}},
			want:  func(c *casapay.Customer) { c.Address = nil },
		},
		{
			name: "address every field unset",
			steps: []*casapay.CustomerParams{{Address: &casapay.AddressParams{
				Line1: str(""), City: str(""), PostalCode: str(""), Country: str(""),
			}}},
			want: func(c *casapay.Customer) { c.Address = nil },
		},
		{
			name: "address replaced",
			steps: []*casapay.CustomerParams{{Address: &casapay.AddressParams{
				Unset: true, Line1: str("1 Canal Street"), Country: str("ie"),
			}}},
			want: func(c *casapay.Customer) {
				c.Address = &casapay.Address{Line1: str("1 Canal Street"), Country: str("IE")}
			},
		},
		{
			name: "address set after unset",
			steps: []*casapay.CustomerParams{
				{Address: &casapay.AddressParams{Unset: true}},
				{Address: &casapay.AddressParams{Line2: str("Flat 3")}},
			},
			want: func(c *casapay.Customer) { c.Address = &casapay.Address{Line2: str("Flat 3")} },
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := createCustomer(t, s, scope, janeParams(), 100)
			want := clone(t, c)
			if tt.want != nil {
				tt.want(want)
			}
			var (
				got *casapay.Customer
				err error
			)
			for _, p := range tt.steps {
				var replay *casapay.Response
				got, replay, err = updateReplay(t.Context(), s, scope, c.ID, p, nil)
				if replay != nil {
					t.Fatalf("UpdateCustomer without a key replayed %s", replay.Body)
				}
				if err != nil {
					break
				}
			}
			if tt.wantCode != "" {
				wantCode(t, "UpdateCustomer", err, tt.wantCode, tt.param)
				if got != nil {
					t.Errorf("UpdateCustomer = %+v with an error, want nil", got)
				}
			} else {
				if err != nil {
					t.Fatalf("UpdateCustomer: %v", err)
				}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("UpdateCustomer result mismatch (-want +got):\n%s", diff)
				}
			}
			if diff := gocmp.Diff(want, findCustomer(t, s, scope, c.ID)); diff != "" {
				t.Errorf("FindCustomer after update mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("email filter follows update", func(t *testing.T) {
		scope := newAccount(t, s)
		c := createCustomer(t, s, scope, &casapay.CustomerParams{Email: str("old@example.com")}, 0)
		if _, _, err := updateReplay(t.Context(), s, scope, c.ID, &casapay.CustomerParams{Email: str("New.Tenant@Example.com")}, nil); err != nil {
			t.Fatalf("UpdateCustomer: %v", err)
		}
		for _, tt := range []struct {
			email string
			want  []string
		}{{"new.tenant@example.com", []string{c.ID}}, {"old@example.com", []string{}}} {
			got, _ := listIDs(t, s, scope, casapay.CustomerFilter{Limit: 10, Email: str(tt.email)})
			if !slices.Equal(got, tt.want) {
				t.Errorf("ListCustomers(email %q) = %v, want %v", tt.email, got, tt.want)
			}
		}
	})
}

func testDelete(t *testing.T, open Opener) {
	s := open(t)
	scope := newAccount(t, s)
	older := createCustomer(t, s, scope, &casapay.CustomerParams{Name: str("Older")}, 1)
	c := createCustomer(t, s, scope, janeParams(), 2)
	newer := createCustomer(t, s, scope, &casapay.CustomerParams{Name: str("Newer")}, 3)
	ctx := t.Context()

	if err := deleteCustomer(ctx, s, scope, c.ID); err != nil {
		t.Fatalf("DeleteCustomer: %v", err)
	}
	want := clone(t, c)
	want.Deleted = true
	if diff := gocmp.Diff(want, findCustomer(t, s, scope, c.ID)); diff != "" {
		t.Errorf("FindCustomer after delete mismatch (-want +got):\n%s", diff)
	}

	notFound := casapay.NotFound("customer", "id", c.ID)
	wantError(t, "second DeleteCustomer", deleteCustomer(ctx, s, scope, c.ID), notFound)
	_, _, err := updateReplay(ctx, s, scope, c.ID, &casapay.CustomerParams{Name: str("Back")}, nil)
	wantError(t, "UpdateCustomer after delete", err, notFound)
	if diff := gocmp.Diff(want, findCustomer(t, s, scope, c.ID)); diff != "" {
		t.Errorf("FindCustomer after update of deleted mismatch (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		name        string
		f           casapay.CustomerFilter
		want        []string
		wantHasMore bool
	}{
		{"not listed", casapay.CustomerFilter{Limit: 10}, []string{newer.ID, older.ID}, false},
		{"not listed by email", casapay.CustomerFilter{Limit: 10, Email: c.Email}, []string{}, false},
		{"page after it", casapay.CustomerFilter{Limit: 1, StartingAfter: newer.ID}, []string{older.ID}, false},
		{"cursor starting_after", casapay.CustomerFilter{Limit: 10, StartingAfter: c.ID}, []string{older.ID}, false},
		{"cursor ending_before", casapay.CustomerFilter{Limit: 10, EndingBefore: c.ID}, []string{newer.ID}, false},
	} {
		got, hasMore := listIDs(t, s, scope, tt.f)
		if !slices.Equal(got, tt.want) || hasMore != tt.wantHasMore {
			t.Errorf("%s: ListCustomers = %v, %t, want %v, %t", tt.name, got, hasMore, tt.want, tt.wantHasMore)
		}
	}
}

func testList(t *testing.T, open Opener) {
	s := open(t)
	scope := newAccount(t, s)

	// Three customers share created=200, so the order among them comes from their IDs alone.
	var all []*casapay.Customer
	for _, c := range []struct {
		sec   int64
		email string
	}{
		{300, "jane@example.com"}, {100, "JANE@Example.com"}, {200, "other@example.com"},
		{200, ""}, {400, "Jane@example.com"}, {200, "jane@example.org"}, {200, "JANE@EXAMPLE.COM"},
	} {
		p := &casapay.CustomerParams{Name: str(fmt.Sprintf("Tenant %d", len(all)))}
		if c.email != "" {
			p.Email = str(c.email)
		}
		all = append(all, createCustomer(t, s, scope, p, c.sec))
	}
	// Customers of the other mode must never show up.
	createCustomer(t, s, live(scope), &casapay.CustomerParams{Email: str("jane@example.com")}, 250)

	// newestFirst is the order the list must use.
	newestFirst := slices.Clone(all)
	slices.SortFunc(newestFirst, func(a, b *casapay.Customer) int {
		return cmp.Or(cmp.Compare(b.Created, a.Created), strings.Compare(b.ID, a.ID))
	})

	t.Run("whole customers newest first", func(t *testing.T) {
		page, hasMore, err := s.ListCustomers(t.Context(), scope, casapay.CustomerFilter{Limit: 100})
		if err != nil {
			t.Fatalf("ListCustomers: %v", err)
		}
		if diff := gocmp.Diff(newestFirst, page); diff != "" || hasMore {
			t.Errorf("ListCustomers has_more = %t, want false; page mismatch (-want +got):\n%s", hasMore, diff)
		}
	})

	position := map[string]int{}
	for i, c := range newestFirst {
		position[c.ID] = i
	}
	for _, tt := range []struct {
		name  string
		f     casapay.CustomerFilter
		match func(c *casapay.Customer) bool
	}{
		{"no filter", casapay.CustomerFilter{}, func(c *casapay.Customer) bool { return true }},
		{"email any case", casapay.CustomerFilter{Email: str("jAnE@EXAMPLE.com")}, func(c *casapay.Customer) bool {
			return c.Email != nil && strings.EqualFold(*c.Email, "jane@example.com")
		}},
		{"email nobody has", casapay.CustomerFilter{Email: str("nobody@example.com")}, func(c *casapay.Customer) bool { return false }},
		{"created gt", casapay.CustomerFilter{Created: casapay.TimeRange{Gt: i64(epoch + 200)}},
			func(c *casapay.Customer) bool { return c.Created > epoch+200 }},
		{"created gte", casapay.CustomerFilter{Created: casapay.TimeRange{Gte: i64(epoch + 200)}},
			func(c *casapay.Customer) bool { return c.Created >= epoch+200 }},
		{"created lt", casapay.CustomerFilter{Created: casapay.TimeRange{Lt: i64(epoch + 200)}},
			func(c *casapay.Customer) bool { return c.Created < epoch+200 }},
		{"created lte", casapay.CustomerFilter{Created: casapay.TimeRange{Lte: i64(epoch + 200)}},
			func(c *casapay.Customer) bool { return c.Created <= epoch+200 }},
		{"created exact", casapay.CustomerFilter{Created: casapay.TimeRange{Gte: i64(epoch + 200), Lte: i64(epoch + 200)}},
			func(c *casapay.Customer) bool { return c.Created == epoch+200 }},
		{"created between", casapay.CustomerFilter{Created: casapay.TimeRange{Gt: i64(epoch + 100), Lt: i64(epoch + 400)}},
			func(c *casapay.Customer) bool { return c.Created > epoch+100 && c.Created < epoch+400 }},
		{"created none", casapay.CustomerFilter{Created: casapay.TimeRange{Gt: i64(epoch + 400)}},
			func(c *casapay.Customer) bool { return false }},
		{"email and created", casapay.CustomerFilter{Email: str("JANE@example.com"), Created: casapay.TimeRange{Lte: i64(epoch + 300)}},
			func(c *casapay.Customer) bool {
				return c.Email != nil && strings.EqualFold(*c.Email, "jane@example.com") && c.Created <= epoch+300
			}},
	} {
		// Every page is checked: from the start, and after and before each customer as the cursor,
		// including cursors the filter itself would not match.
		t.Run(tt.name, func(t *testing.T) {
			var matching []string
			for _, c := range newestFirst {
				if tt.match(c) {
					matching = append(matching, c.ID)
				}
			}
			for _, limit := range []int{1, 2, 3, len(all), 100} {
				f := tt.f
				f.Limit = limit
				got, hasMore := listIDs(t, s, scope, f)
				want, wantHasMore := firstN(matching, limit)
				if !slices.Equal(got, want) || hasMore != wantHasMore {
					t.Errorf("ListCustomers(limit %d) = %v, %t, want %v, %t", limit, got, hasMore, want, wantHasMore)
				}

				for _, cursor := range newestFirst {
					var older, newer []string
					for _, id := range matching {
						switch {
						case position[id] > position[cursor.ID]:
							older = append(older, id)
						case position[id] < position[cursor.ID]:
							newer = append(newer, id)
						}
					}

					f := tt.f
					f.Limit, f.StartingAfter = limit, cursor.ID
					got, hasMore := listIDs(t, s, scope, f)
					want, wantHasMore := firstN(older, limit)
					if !slices.Equal(got, want) || hasMore != wantHasMore {
						t.Errorf("ListCustomers(limit %d, starting_after #%d) = %v, %t, want %v, %t",
							limit, position[cursor.ID], got, hasMore, want, wantHasMore)
					}

					f = tt.f
					f.Limit, f.EndingBefore = limit, cursor.ID
					got, hasMore = listIDs(t, s, scope, f)
					want, wantHasMore = lastN(newer, limit)
					if !slices.Equal(got, want) || hasMore != wantHasMore {
						t.Errorf("ListCustomers(limit %d, ending_before #%d) = %v, %t, want %v, %t",
							limit, position[cursor.ID], got, hasMore, want, wantHasMore)
					}
				}
			}
		})
	}

	t.Run("missing cursor", func(t *testing.T) {
		id := casapay.NewID("cus")
		_, _, err := s.ListCustomers(t.Context(), scope, casapay.CustomerFilter{Limit: 10, StartingAfter: id})
		wantError(t, "ListCustomers(starting_after)", err, casapay.NotFound("customer", "starting_after", id))
		_, _, err = s.ListCustomers(t.Context(), scope, casapay.CustomerFilter{Limit: 10, EndingBefore: id})
		wantError(t, "ListCustomers(ending_before)", err, casapay.NotFound("customer", "ending_before", id))
	})

	t.Run("empty", func(t *testing.T) {
		got, hasMore := listIDs(t, s, newAccount(t, s), casapay.CustomerFilter{Limit: 10})
		if len(got) != 0 || hasMore {
			t.Errorf("ListCustomers of a new account = %v, %t, want [], false", got, hasMore)
		}
	})
}

// testImportCustomers imports more customers than one statement is likely to carry (SQLite's carries
// 500), four to a second so that IDs break ties in created, and checks that they behave exactly like
// created ones.
func testImportCustomers(t *testing.T, open Opener) {
	s := open(t)
	scope := newAccount(t, s)
	other := newAccount(t, s)

	const n = 640
	cs := make([]*casapay.Customer, n)
	for i := range cs {
		p := &casapay.CustomerParams{Name: str(fmt.Sprintf("Tenant %d", i))}
		switch {
		case i%100 == 0:
			p = janeParams()
		case i%3 == 0:
			p.Email = str(fmt.Sprintf("Tenant%d@Example.COM", i%10))
		}
		cs[i] = newCustomer(t, scope, p, int64(i/4))
	}
	want := make([]*casapay.Customer, n)
	for i, c := range cs {
		want[i] = clone(t, c)
	}
	if err := s.ImportCustomers(t.Context(), scope, cs); err != nil {
		t.Fatalf("ImportCustomers(%d customers): %v", n, err)
	}
	newestFirst := slices.Clone(want)
	slices.SortFunc(newestFirst, func(a, b *casapay.Customer) int {
		return cmp.Or(cmp.Compare(b.Created, a.Created), strings.Compare(b.ID, a.ID))
	})

	t.Run("found", func(t *testing.T) {
		for _, c := range want {
			if diff := gocmp.Diff(c, findCustomer(t, s, scope, c.ID)); diff != "" {
				t.Fatalf("FindCustomer(%q) mismatch (-want +got):\n%s", c.ID, diff)
			}
		}
	})

	t.Run("listed in order", func(t *testing.T) {
		page, hasMore, err := s.ListCustomers(t.Context(), scope, casapay.CustomerFilter{Limit: 100})
		if err != nil {
			t.Fatalf("ListCustomers: %v", err)
		}
		if diff := gocmp.Diff(newestFirst[:100], page); diff != "" || !hasMore {
			t.Errorf("first page has_more = %t, want true; mismatch (-want +got):\n%s", hasMore, diff)
		}
		// Forward with starting_after to the end, then back with ending_before to the start.
		var forward []string
		f := casapay.CustomerFilter{Limit: 90}
		for {
			got, hasMore := listIDs(t, s, scope, f)
			forward = append(forward, got...)
			if !hasMore || len(got) == 0 {
				break
			}
			f.StartingAfter = got[len(got)-1]
		}
		if wantIDs := ids(newestFirst); !slices.Equal(forward, wantIDs) {
			t.Errorf("paging with starting_after listed %d customers, want the %d imported newest first", len(forward), len(wantIDs))
		}
		var backward []string
		f = casapay.CustomerFilter{Limit: 90, EndingBefore: newestFirst[n-1].ID}
		for {
			got, hasMore := listIDs(t, s, scope, f)
			backward = append(got, backward...)
			if !hasMore || len(got) == 0 {
				break
			}
			f.EndingBefore = got[0]
		}
		if wantIDs := ids(newestFirst[:n-1]); !slices.Equal(backward, wantIDs) {
			t.Errorf("paging with ending_before listed %d customers, want the %d before the oldest, newest first", len(backward), len(wantIDs))
		}
	})

	t.Run("email filter", func(t *testing.T) {
		var wantIDs []string
		for _, c := range newestFirst {
			if c.Email != nil && strings.EqualFold(*c.Email, "tenant3@example.com") {
				wantIDs = append(wantIDs, c.ID)
			}
		}
		got, hasMore := listIDs(t, s, scope, casapay.CustomerFilter{Limit: 100, Email: str("TENANT3@example.com")})
		if !slices.Equal(got, wantIDs) || hasMore {
			t.Errorf("ListCustomers(email) = %v, %t, want %v, false", got, hasMore, wantIDs)
		}
	})

	t.Run("scoped", func(t *testing.T) {
		for _, o := range []casapay.Scope{live(scope), other, live(other)} {
			if got, hasMore := listIDs(t, s, o, casapay.CustomerFilter{Limit: 10}); len(got) != 0 || hasMore {
				t.Errorf("ListCustomers(%+v) = %v, %t, want [], false", o, got, hasMore)
			}
			_, err := s.FindCustomer(t.Context(), o, cs[0].ID)
			wantError(t, fmt.Sprintf("FindCustomer(%+v)", o), err, casapay.NotFound("customer", "id", cs[0].ID))
		}
	})

	t.Run("duplicate imports nothing", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			dup  func(fresh []*casapay.Customer) []*casapay.Customer
		}{
			// The duplicate comes last, after more customers than one statement is likely to carry.
			{"already stored", func(fresh []*casapay.Customer) []*casapay.Customer {
				return append(fresh, clone(t, cs[n/2]))
			}},
			{"twice in the import", func(fresh []*casapay.Customer) []*casapay.Customer {
				return append(fresh, clone(t, fresh[0]))
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				// Newer than every imported customer: had any of them been stored, it would head the list.
				fresh := make([]*casapay.Customer, 520)
				for i := range fresh {
					fresh[i] = newCustomer(t, scope, &casapay.CustomerParams{Name: str("Late")}, 5000)
				}
				if err := s.ImportCustomers(t.Context(), scope, tt.dup(fresh)); err == nil {
					t.Fatal("ImportCustomers with a duplicate ID succeeded, want an error")
				}
				if got, _ := listIDs(t, s, scope, casapay.CustomerFilter{Limit: 1}); !slices.Equal(got, ids(newestFirst[:1])) {
					t.Errorf("newest customer after the failed import = %v, want %v", got, ids(newestFirst[:1]))
				}
				if _, err := s.FindCustomer(t.Context(), scope, fresh[0].ID); !casapay.IsNotFound(err) {
					t.Errorf("FindCustomer(%q) after the failed import: err = %v, want resource_missing", fresh[0].ID, err)
				}
			})
		}
	})

	t.Run("empty", func(t *testing.T) {
		if err := s.ImportCustomers(t.Context(), scope, nil); err != nil {
			t.Errorf("ImportCustomers(nil): %v", err)
		}
	})
}

// firstN returns the first n IDs and whether any were left out.
func firstN(ids []string, n int) ([]string, bool) {
	return append([]string{}, ids[:min(n, len(ids))]...), len(ids) > n
}

// lastN returns the last n IDs and whether any were left out.
func lastN(ids []string, n int) ([]string, bool) {
	return append([]string{}, ids[max(0, len(ids)-n):]...), len(ids) > n
}

func testIdempotency(t *testing.T, open Opener) {
	s := open(t)
	p := janeParams()
	key := func(key, fingerprint string, sec int64) *casapay.Idempotency {
		return &casapay.Idempotency{Key: key, Fingerprint: fingerprint, Created: at(sec)}
	}
	// create stores a customer under idem and fails unless it was created rather than replayed.
	create := func(t *testing.T, scope casapay.Scope, idem *casapay.Idempotency) *casapay.Customer {
		t.Helper()
		c := newCustomer(t, scope, p, idem.Created.Unix()-epoch)
		replay, err := createReplay(t.Context(), s, scope, c, idem)
		if err != nil || replay != nil {
			t.Fatalf("CreateCustomer(key %q) = %v, %v, want nil, nil", idem.Key, replay, err)
		}
		return c
	}
	// replayed retries a create under idem and returns the body it replayed.
	replayed := func(t *testing.T, scope casapay.Scope, idem *casapay.Idempotency) string {
		t.Helper()
		c := newCustomer(t, scope, p, idem.Created.Unix()-epoch)
		replay, err := createReplay(t.Context(), s, scope, c, idem)
		if err != nil {
			t.Fatalf("retried CreateCustomer(key %q): %v", idem.Key, err)
		}
		if replay == nil {
			t.Fatalf("retried CreateCustomer(key %q) created %s, want a replay", idem.Key, c.ID)
		}
		if replay.Status != 200 {
			t.Errorf("replay status = %d, want 200", replay.Status)
		}
		if _, err := s.FindCustomer(t.Context(), scope, c.ID); !casapay.IsNotFound(err) {
			t.Errorf("FindCustomer(replayed create's %q) error = %v, want resource_missing", c.ID, err)
		}
		return string(replay.Body)
	}
	listed := func(t *testing.T, scope casapay.Scope) []string {
		t.Helper()
		got, _ := listIDs(t, s, scope, casapay.CustomerFilter{Limit: 100})
		return got
	}

	t.Run("replay", func(t *testing.T) {
		scope := newAccount(t, s)
		c := create(t, scope, key("k", "fp", 0))
		for _, sec := range []int64{0, 60, int64(casapay.IdempotencyWindow / time.Second)} {
			if got, want := replayed(t, scope, key("k", "fp", sec)), customerJSON(t, c); got != want {
				t.Errorf("replay %ds later = %s, want %s", sec, got, want)
			}
		}
		if got := listed(t, scope); !slices.Equal(got, []string{c.ID}) {
			t.Errorf("ListCustomers = %v, want [%s]", got, c.ID)
		}
	})

	t.Run("mismatch", func(t *testing.T) {
		scope := newAccount(t, s)
		c := create(t, scope, key("k", "fp", 0))
		other := newCustomer(t, scope, &casapay.CustomerParams{Name: str("Other")}, 1)
		replay, err := createReplay(t.Context(), s, scope, other, key("k", "fp2", 1))
		if replay != nil {
			t.Errorf("CreateCustomer with another fingerprint replayed %s", replay.Body)
		}
		wantError(t, "CreateCustomer", err, casapay.ErrIdempotencyMismatch("k"))
		// An update under a key a create used is a different request too.
		_, replay, err = updateReplay(t.Context(), s, scope, c.ID, &casapay.CustomerParams{Name: str("U")}, key("k", "fp3", 2))
		if replay != nil {
			t.Errorf("UpdateCustomer with another fingerprint replayed %s", replay.Body)
		}
		wantError(t, "UpdateCustomer", err, casapay.ErrIdempotencyMismatch("k"))
		if got := listed(t, scope); !slices.Equal(got, []string{c.ID}) {
			t.Errorf("ListCustomers = %v, want [%s]", got, c.ID)
		}
		if diff := gocmp.Diff(c, findCustomer(t, s, scope, c.ID)); diff != "" {
			t.Errorf("customer changed by rejected update (-want +got):\n%s", diff)
		}
	})

	t.Run("scoped to account and mode", func(t *testing.T) {
		scope := newAccount(t, s)
		other := newAccount(t, s)
		made := map[casapay.Scope]*casapay.Customer{}
		for i, sc := range []casapay.Scope{scope, live(scope), other, live(other)} {
			made[sc] = create(t, sc, key("shared", fmt.Sprintf("fp-%d", i), 0))
		}
		for sc, c := range made {
			if got := listed(t, sc); !slices.Equal(got, []string{c.ID}) {
				t.Errorf("ListCustomers(%+v) = %v, want [%s]", sc, got, c.ID)
			}
		}
	})

	t.Run("expired record replaced", func(t *testing.T) {
		scope := newAccount(t, s)
		first := create(t, scope, key("k", "fp", 0))
		window := int64(casapay.IdempotencyWindow / time.Second)
		// At the window's last second the key still belongs to the first request.
		_, err := createReplay(t.Context(), s, scope, newCustomer(t, scope, p, window), key("k", "fp2", window))
		wantError(t, "CreateCustomer at the window's end", err, casapay.ErrIdempotencyMismatch("k"))
		// A second later it is free, and the new response replaces the old.
		second := create(t, scope, key("k", "fp2", window+1))
		if got, want := replayed(t, scope, key("k", "fp2", window+2)), customerJSON(t, second); got != want {
			t.Errorf("replay after reuse = %s, want %s", got, want)
		}
		_, err = createReplay(t.Context(), s, scope, newCustomer(t, scope, p, window+3), key("k", "fp", window+3))
		wantError(t, "CreateCustomer with the expired fingerprint", err, casapay.ErrIdempotencyMismatch("k"))
		if got, want := listed(t, scope), []string{second.ID, first.ID}; !slices.Equal(got, want) {
			t.Errorf("ListCustomers = %v, want %v", got, want)
		}
	})

	t.Run("failed update not stored", func(t *testing.T) {
		scope := newAccount(t, s)
		c := createCustomer(t, s, scope, janeParams(), 0)
		missing := casapay.NewID("cus")
		_, _, err := updateReplay(t.Context(), s, scope, missing, &casapay.CustomerParams{Name: str("x")}, key("k1", "fp", 1))
		wantError(t, "UpdateCustomer(missing)", err, casapay.NotFound("customer", "id", missing))

		tooMany := map[string]string{}
		for i := range casapay.MaxMetadataKeys {
			tooMany[fmt.Sprintf("k%d", i)] = "v"
		}
		_, _, err = updateReplay(t.Context(), s, scope, c.ID, &casapay.CustomerParams{Metadata: tooMany}, key("k2", "fp", 1))
		wantCode(t, "UpdateCustomer(too much metadata)", err, casapay.CodeParameterInvalidString, "metadata")

		// Had either failure been stored, these other requests under the same keys would be mismatches.
		create(t, scope, key("k1", "fp-other", 2))
		got, replay, err := updateReplay(t.Context(), s, scope, c.ID, &casapay.CustomerParams{Name: str("Fixed")}, key("k2", "fp-other", 2))
		if err != nil || replay != nil {
			t.Fatalf("UpdateCustomer after failures = %v, %v, want an update", replay, err)
		}
		if got.Name == nil || *got.Name != "Fixed" {
			t.Errorf("UpdateCustomer name = %v, want Fixed", got.Name)
		}
	})

	t.Run("update replay", func(t *testing.T) {
		scope := newAccount(t, s)
		c := createCustomer(t, s, scope, janeParams(), 0)
		first, replay, err := updateReplay(t.Context(), s, scope, c.ID,
			&casapay.CustomerParams{Name: str("First"), Metadata: map[string]string{"n": "1"}}, key("u", "fp", 10))
		if err != nil || replay != nil {
			t.Fatalf("UpdateCustomer = %v, %v, want an update", replay, err)
		}
		// A retry replays the first answer, even though the customer has changed since and the params
		// given now (which only the fingerprint stands for) would do something else.
		if _, _, err := updateReplay(t.Context(), s, scope, c.ID, &casapay.CustomerParams{Phone: str("")}, nil); err != nil {
			t.Fatalf("UpdateCustomer without a key: %v", err)
		}
		want := findCustomer(t, s, scope, c.ID)
		got, replay, err := updateReplay(t.Context(), s, scope, c.ID, &casapay.CustomerParams{Name: str("Second")}, key("u", "fp", 20))
		if err != nil || got != nil || replay == nil {
			t.Fatalf("retried UpdateCustomer = %v, %v, %v, want nil, a replay, nil", got, replay, err)
		}
		if string(replay.Body) != customerJSON(t, first) || replay.Status != 200 {
			t.Errorf("replay = %d %s, want 200 %s", replay.Status, replay.Body, customerJSON(t, first))
		}
		if diff := gocmp.Diff(want, findCustomer(t, s, scope, c.ID)); diff != "" {
			t.Errorf("customer changed by a replayed update (-want +got):\n%s", diff)
		}
	})
}

// testConcurrentIdempotentCreate sends one create sixteen times at once under one key, as a client
// retrying on timeouts might: exactly one customer may come of it.
func testConcurrentIdempotentCreate(t *testing.T, open Opener) {
	s := open(t)
	scope := newAccount(t, s)
	idem := &casapay.Idempotency{Key: "retry-me", Fingerprint: "fp", Created: at(0)}

	const n = 16
	type result struct {
		c      *casapay.Customer
		replay *casapay.Response
		err    error
	}
	results := make([]result, n)
	for i := range results {
		results[i].c = newCustomer(t, scope, janeParams(), 0)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			<-start // release them together, so they really overlap
			results[i].replay, results[i].err = createReplay(t.Context(), s, scope, results[i].c, idem)
		})
	}
	close(start)
	wg.Wait()

	var created []*casapay.Customer
	for _, r := range results {
		if r.err == nil && r.replay == nil {
			created = append(created, r.c)
		}
	}
	if len(created) != 1 {
		t.Fatalf("%d creates succeeded without a replay, want 1", len(created))
	}
	body := customerJSON(t, created[0])
	for i, r := range results {
		var e *casapay.Error
		switch {
		case r.err == nil && r.replay == nil:
		case r.err == nil:
			if string(r.replay.Body) != body || r.replay.Status != 200 {
				t.Errorf("request %d replayed %d %s, want 200 %s", i, r.replay.Status, r.replay.Body, body)
			}
		case errors.As(r.err, &e) && e.Code == casapay.CodeIdempotencyKeyInUse:
		default:
			t.Errorf("request %d error = %v, want a replay or %s", i, r.err, casapay.CodeIdempotencyKeyInUse)
		}
	}
	got, hasMore := listIDs(t, s, scope, casapay.CustomerFilter{Limit: 100})
	if want := []string{created[0].ID}; !slices.Equal(got, want) || hasMore {
		t.Errorf("ListCustomers = %v, %t, want %v, false", got, hasMore, want)
	}
}

func testAPIKeys(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	a := &casapay.Account{ID: casapay.NewID("acct"), Name: "Keys Ltd", Created: at(0)}
	testSecret, testKey := casapay.NewAPIKey(a.ID, false, at(1))
	_, liveKey := casapay.NewAPIKey(a.ID, true, at(2))
	if err := s.CreateAccount(ctx, a, []*casapay.APIKey{testKey, liveKey}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	other := newAccount(t, s)

	for _, k := range []*casapay.APIKey{testKey, liveKey} {
		got, err := s.FindAPIKey(ctx, k.Hash)
		if err != nil {
			t.Fatalf("FindAPIKey(%s): %v", k.ID, err)
		}
		if diff := gocmp.Diff(k, got); diff != "" {
			t.Errorf("FindAPIKey(%s) mismatch (-want +got):\n%s", k.ID, diff)
		}
	}
	if got, err := s.FindAPIKey(ctx, casapay.HashAPIKey(testSecret)); err != nil || !got.Matches(testSecret) {
		t.Errorf("FindAPIKey(hash of the secret) = %v, %v, want the key", got, err)
	}
	_, err := s.FindAPIKey(ctx, casapay.HashAPIKey(casapay.TestKeyPrefix+"unknown0000000000000000000000"))
	wantCode(t, "FindAPIKey(unknown)", err, casapay.CodeResourceMissing, "key")

	_, added := casapay.NewAPIKey(a.ID, false, at(3))
	if err := s.CreateAPIKey(ctx, added); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	keys, err := s.ListAPIKeys(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListAPIKeys: %v", err)
	}
	if diff := gocmp.Diff([]*casapay.APIKey{testKey, liveKey, added}, keys); diff != "" {
		t.Errorf("ListAPIKeys mismatch (-want +got):\n%s", diff)
	}
	if keys, err := s.ListAPIKeys(ctx, other.AccountID); err != nil || len(keys) != 0 {
		t.Errorf("ListAPIKeys of an account without keys = %v, %v, want none", keys, err)
	}

	// Revoking: the first time counts, and only the owning account can do it.
	wantError(t, "RevokeAPIKey from another account", s.RevokeAPIKey(ctx, other.AccountID, added.ID, at(5)),
		casapay.NotFound("api key", "id", added.ID))
	for _, sec := range []int64{10, 20} {
		if err := s.RevokeAPIKey(ctx, a.ID, added.ID, at(sec)); err != nil {
			t.Fatalf("RevokeAPIKey at %d: %v", sec, err)
		}
	}
	got, err := s.FindAPIKey(ctx, added.Hash)
	if err != nil {
		t.Fatalf("FindAPIKey(revoked): %v", err)
	}
	if got.RevokedAt == nil || !got.RevokedAt.Equal(at(10)) {
		t.Errorf("RevokedAt = %v, want %v", got.RevokedAt, at(10))
	}
	if got, _ := s.FindAPIKey(ctx, testKey.Hash); got == nil || got.RevokedAt != nil {
		t.Errorf("revoking one key touched another: %+v", got)
	}
	missingKey := casapay.NewID("key")
	wantError(t, "RevokeAPIKey(missing)", s.RevokeAPIKey(ctx, a.ID, missingKey, at(5)), casapay.NotFound("api key", "id", missingKey))

	missing := casapay.NewID("acct")
	_, orphan := casapay.NewAPIKey(missing, false, at(4))
	wantError(t, "CreateAPIKey(missing account)", s.CreateAPIKey(ctx, orphan), casapay.NotFound("account", "account", missing))
	_, err = s.ListAPIKeys(ctx, missing)
	wantError(t, "ListAPIKeys(missing account)", err, casapay.NotFound("account", "account", missing))
	if _, err := s.FindAPIKey(ctx, orphan.Hash); !casapay.IsNotFound(err) {
		t.Errorf("FindAPIKey(key of missing account) error = %v, want resource_missing", err)
	}
}

func testBootstrapAccount(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	type candidate struct {
		account *casapay.Account
		keys    []*casapay.APIKey
		created bool
		err     error
	}
	const n = 8
	candidates := make([]candidate, n)
	for i := range candidates {
		a := &casapay.Account{ID: casapay.NewID("acct"), Name: fmt.Sprintf("Candidate %d", i), Created: at(0)}
		_, test := casapay.NewAPIKey(a.ID, false, at(0))
		_, live := casapay.NewAPIKey(a.ID, true, at(1))
		candidates[i] = candidate{account: a, keys: []*casapay.APIKey{test, live}}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range candidates {
		wg.Go(func() {
			<-start
			c := &candidates[i]
			c.created, c.err = s.BootstrapAccount(ctx, c.account, c.keys)
		})
	}
	close(start)
	wg.Wait()

	winners := 0
	for i, c := range candidates {
		if c.err != nil {
			t.Fatalf("BootstrapAccount %d: %v", i, c.err)
		}
		if c.created {
			winners++
		}
		// A loser left no trace: its keys are unknown, and so is its account.
		for _, k := range c.keys {
			_, err := s.FindAPIKey(ctx, k.Hash)
			if c.created && err != nil {
				t.Errorf("FindAPIKey(bootstrapped key): %v", err)
			}
			if !c.created && !casapay.IsNotFound(err) {
				t.Errorf("FindAPIKey(key of a losing bootstrap) error = %v, want resource_missing", err)
			}
		}
		_, err := s.ListAPIKeys(ctx, c.account.ID)
		switch {
		case c.created && err != nil:
			t.Errorf("ListAPIKeys(bootstrapped account): %v", err)
		case !c.created && !casapay.IsNotFound(err):
			t.Errorf("ListAPIKeys(account of a losing bootstrap) error = %v, want resource_missing", err)
		}
	}
	if winners != 1 {
		t.Errorf("%d concurrent BootstrapAccount calls created an account, want 1", winners)
	}

	late := &casapay.Account{ID: casapay.NewID("acct"), Name: "Late", Created: at(5)}
	if created, err := s.BootstrapAccount(ctx, late, nil); err != nil || created {
		t.Errorf("BootstrapAccount on a bootstrapped database = %t, %v, want false, nil", created, err)
	}

	t.Run("after CreateAccount", func(t *testing.T) {
		s := open(t)
		newAccount(t, s)
		a := &casapay.Account{ID: casapay.NewID("acct"), Name: "Second", Created: at(0)}
		if created, err := s.BootstrapAccount(t.Context(), a, nil); err != nil || created {
			t.Errorf("BootstrapAccount = %t, %v, want false, nil", created, err)
		}
		if _, err := s.ListAPIKeys(t.Context(), a.ID); !casapay.IsNotFound(err) {
			t.Errorf("ListAPIKeys(refused account) error = %v, want resource_missing", err)
		}
	})
}

func testPruneIdempotencyKeys(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	for _, k := range []struct {
		key string
		sec int64
	}{{"old", 0}, {"new", 100}} {
		c := newCustomer(t, scope, janeParams(), k.sec)
		idem := &casapay.Idempotency{Key: k.key, Fingerprint: "fp", Created: at(k.sec)}
		if replay, err := createReplay(ctx, s, scope, c, idem); err != nil || replay != nil {
			t.Fatalf("CreateCustomer(%s) = %v, %v, want nil, nil", k.key, replay, err)
		}
	}

	if n, err := s.PruneIdempotencyKeys(ctx, at(100)); err != nil || n != 1 {
		t.Fatalf("PruneIdempotencyKeys(before new) = %d, %v, want 1, nil", n, err)
	}
	// The pruned key is free again, even within its window; the kept one is not.
	c := newCustomer(t, scope, janeParams(), 150)
	if replay, err := createReplay(ctx, s, scope, c, &casapay.Idempotency{Key: "old", Fingerprint: "fp2", Created: at(150)}); err != nil || replay != nil {
		t.Errorf("CreateCustomer under a pruned key = %v, %v, want nil, nil", replay, err)
	}
	_, err := createReplay(ctx, s, scope, newCustomer(t, scope, janeParams(), 150),
		&casapay.Idempotency{Key: "new", Fingerprint: "fp2", Created: at(150)})
	wantError(t, "CreateCustomer under a kept key", err, casapay.ErrIdempotencyMismatch("new"))

	if n, err := s.PruneIdempotencyKeys(ctx, at(100)); err != nil || n != 0 {
		t.Errorf("PruneIdempotencyKeys again = %d, %v, want 0, nil", n, err)
	}
	if n, err := s.PruneIdempotencyKeys(ctx, at(1000)); err != nil || n != 2 {
		t.Errorf("PruneIdempotencyKeys(after all) = %d, %v, want 2, nil", n, err)
	}
	// Pruning removes stored responses, never the objects they describe.
	if got, _ := listIDs(t, s, scope, casapay.CustomerFilter{Limit: 100}); len(got) != 3 {
		t.Errorf("ListCustomers after pruning = %v, want 3 customers", got)
	}
}

// testPaymentMethodChecked holds the store, not only the HTTP layer, to the rule that a customer can name
// only a payment method of its scope, attachable to it: the check runs inside the write's transaction,
// and a rejected write, a declined test card's included, changes and records nothing.
func testPaymentMethodChecked(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)

	p := janeParams()
	p.PaymentMethodID = str("pm_0000000000000000000000001")
	c := newCustomer(t, scope, p, 0)
	_, err := s.CreateCustomer(ctx, scope, c, casapay.Request{})
	wantError(t, "CreateCustomer(payment_method)", err, casapay.MissingParam("PaymentMethod", "payment_method", "pm_0000000000000000000000001"))
	if _, err := s.FindCustomer(ctx, scope, c.ID); !casapay.IsNotFound(err) {
		t.Errorf("FindCustomer after the rejected create: err = %v, want resource_missing", err)
	}
	p.PaymentMethodID = str("pm_card_visa_chargeDeclinedInsufficientFunds")
	c = newCustomer(t, scope, p, 0)
	_, err = s.CreateCustomer(ctx, scope, c, casapay.Request{})
	wantError(t, "CreateCustomer(declined test token)", err, casapay.DeclineError("insufficient_funds"))
	if _, err := s.FindCustomer(ctx, scope, c.ID); !casapay.IsNotFound(err) {
		t.Errorf("FindCustomer after the declined create: err = %v, want resource_missing", err)
	}
	if pms, _, err := s.ListPaymentMethods(ctx, scope, casapay.PaymentMethodFilter{}); err != nil || len(pms) != 0 {
		t.Errorf("ListPaymentMethods after the declined create = %d, %v, want none", len(pms), err)
	}

	kept := createCustomer(t, s, scope, janeParams(), 1)
	_, _, err = s.UpdateCustomer(ctx, scope, kept.ID, &casapay.CustomerParams{Name: str("X"), DefaultPaymentMethod: str("pm_1")}, casapay.Request{})
	wantError(t, "UpdateCustomer(default_payment_method)", err, casapay.MissingParam("PaymentMethod", "default_payment_method", "pm_1"))
	if diff := gocmp.Diff(kept, findCustomer(t, s, scope, kept.ID)); diff != "" {
		t.Errorf("customer changed by the rejected update (-want +got):\n%s", diff)
	}
	// The customer is looked up first: a missing one is the error, whatever the payment method.
	missing := casapay.NewID("cus")
	_, _, err = s.UpdateCustomer(ctx, scope, missing, &casapay.CustomerParams{DefaultPaymentMethod: str("pm_1")}, casapay.Request{})
	wantError(t, "UpdateCustomer(missing customer, payment method)", err, casapay.NotFound("customer", "id", missing))

	events, _, err := s.ListEvents(ctx, scope, casapay.EventFilter{})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if got := eventTypes(events); !slices.Equal(got, []string{casapay.EventCustomerCreated}) {
		t.Errorf("events = %v, want only the created event of the customer that was stored", got)
	}
}
