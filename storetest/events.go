package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// eventTypes returns the types of events, in order.
func eventTypes(events []*casapay.Event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.Type)
	}
	return out
}

// listEvents lists the scope's events with f.
func listEvents(t *testing.T, s casapay.Store, scope casapay.Scope, f casapay.EventFilter) ([]*casapay.Event, bool) {
	t.Helper()
	page, hasMore, err := s.ListEvents(t.Context(), scope, f)
	if err != nil {
		t.Fatalf("ListEvents(%+v): %v", f, err)
	}
	return page, hasMore
}

// eventIDs returns the IDs of events, in order.
func eventIDs(events []*casapay.Event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.ID)
	}
	return out
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return gocmp.Equal(va, vb)
}

// testEvents follows one customer through its life: each change records one event, with the object as
// the change left it and the request that made it, and nothing else records any.
func testEvents(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	other := newAccount(t, s)
	// Updates and deletes are stamped with the store's clock, once they hold the customer.
	clock := at(0)
	clocked := storage.New(driverOf(t, s)).WithClock(func() time.Time { return clock })

	idem := &casapay.Idempotency{Key: "create-jane", Fingerprint: "fp", Created: at(10)}
	create := casapay.Request{ID: "req_create", Time: at(10), Idempotency: idem}
	c := newCustomer(t, scope, janeParams(), 10)
	created, err := s.CreateCustomer(ctx, scope, c, create)
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	// A replay records nothing new.
	again, err := s.CreateCustomer(ctx, scope, newCustomer(t, scope, janeParams(), 11), casapay.Request{ID: "req_retry", Time: at(11), Idempotency: idem})
	if err != nil || !again.Replayed {
		t.Fatalf("retried CreateCustomer = %+v, %v, want a replay", again, err)
	}
	// An update that changes nothing records nothing, whatever it was given.
	if _, _, err := s.UpdateCustomer(ctx, scope, c.ID, &casapay.CustomerParams{Name: c.Name, Metadata: map[string]string{"unit": "4B"}},
		casapay.Request{ID: "req_noop", Time: at(20)}); err != nil {
		t.Fatalf("UpdateCustomer(no change): %v", err)
	}
	update := casapay.Request{ID: "req_update", Time: at(29)}
	clock = at(30)
	_, updated, err := clocked.UpdateCustomer(ctx, scope, c.ID,
		&casapay.CustomerParams{Email: str("jane.new@example.com"), Metadata: map[string]string{"unit": "5C"}}, update)
	if err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	before := findCustomer(t, s, scope, c.ID)
	clock = at(40)
	if _, err := clocked.DeleteCustomer(ctx, scope, c.ID, casapay.Request{ID: "req_delete", Time: at(39)}); err != nil {
		t.Fatalf("DeleteCustomer: %v", err)
	}

	page, hasMore := listEvents(t, s, scope, casapay.EventFilter{})
	if got, want := eventTypes(page), []string{casapay.EventCustomerDeleted, casapay.EventCustomerUpdated, casapay.EventCustomerCreated}; !slices.Equal(got, want) || hasMore {
		t.Fatalf("ListEvents types = %v, %t, want %v, false", got, hasMore, want)
	}
	deleted, upd, cre := page[0], page[1], page[2]

	version := casapay.APIVersion
	for _, tt := range []struct {
		name string
		got  *casapay.Event
		want casapay.Event
	}{
		{"created", cre, casapay.Event{ID: cre.ID, Type: casapay.EventCustomerCreated, Created: at(10).Unix(), APIVersion: &version,
			Object: created.Body, RequestID: str("req_create"), IdempotencyKey: str("create-jane")}},
		{"updated", upd, casapay.Event{ID: upd.ID, Type: casapay.EventCustomerUpdated, Created: at(30).Unix(), APIVersion: &version,
			Object: updated.Body, PreviousAttributes: json.RawMessage(`{"email":"jane.doe@example.com","metadata":{"property_id":"prop_456","unit":"4B"}}`),
			RequestID: str("req_update")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Marshalled once: the event holds the very bytes the response did.
			if string(tt.got.Object) != string(tt.want.Object) {
				t.Errorf("data.object = %s, want %s", tt.got.Object, tt.want.Object)
			}
			if (tt.got.PreviousAttributes == nil) != (tt.want.PreviousAttributes == nil) ||
				tt.want.PreviousAttributes != nil && !jsonEqual(t, tt.got.PreviousAttributes, tt.want.PreviousAttributes) {
				t.Errorf("data.previous_attributes = %s, want %s", tt.got.PreviousAttributes, tt.want.PreviousAttributes)
			}
			got, want := *tt.got, tt.want
			got.Object, got.PreviousAttributes, want.Object, want.PreviousAttributes = nil, nil, nil, nil
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("event mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// customer.deleted shows the customer as it was, marked deleted.
	var object map[string]any
	if err := json.Unmarshal(deleted.Object, &object); err != nil {
		t.Fatalf("decode customer.deleted object: %v", err)
	}
	if object["deleted"] != true || object["id"] != c.ID || object["email"] != *before.Email || deleted.PreviousAttributes != nil {
		t.Errorf("customer.deleted data = %s, previous %s; want the whole customer with deleted: true", deleted.Object, deleted.PreviousAttributes)
	}
	if deleted.RequestID == nil || *deleted.RequestID != "req_delete" || deleted.IdempotencyKey != nil {
		t.Errorf("customer.deleted request = %v, %v, want req_delete without a key", deleted.RequestID, deleted.IdempotencyKey)
	}

	for _, e := range page {
		got, err := s.FindEvent(ctx, scope, e.ID)
		if err != nil {
			t.Fatalf("FindEvent(%s): %v", e.ID, err)
		}
		if diff := gocmp.Diff(e, got); diff != "" {
			t.Errorf("FindEvent(%s) differs from the listed event (-list +find):\n%s", e.ID, diff)
		}
		// No other scope sees it, and a live-mode scope of the same account sees none.
		for _, o := range []casapay.Scope{other, live(scope)} {
			_, err := s.FindEvent(ctx, o, e.ID)
			wantError(t, "FindEvent from another scope", err, casapay.NotFound("event", "id", e.ID))
		}
	}
	for _, o := range []casapay.Scope{other, live(scope)} {
		if page, _ := listEvents(t, s, o, casapay.EventFilter{}); len(page) != 0 {
			t.Errorf("ListEvents(%+v) = %v, want none", o, eventIDs(page))
		}
	}
	missing := casapay.NewID("evt")
	_, err = s.FindEvent(ctx, scope, missing)
	wantError(t, "FindEvent(missing)", err, casapay.NotFound("event", "id", missing))
}

// testEventsFollowApplication holds the order of one customer's events to the order its changes were
// applied: an update whose request arrived first but was applied second records the newer event.
func testEventsFollowApplication(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	c := createCustomer(t, s, scope, janeParams(), 0)
	clock := at(100)
	clocked := storage.New(driverOf(t, s)).WithClock(func() time.Time { return clock })
	late := casapay.Request{ID: "req_late", Time: at(50)} // arrived first, applied second
	if _, _, err := clocked.UpdateCustomer(ctx, scope, c.ID, &casapay.CustomerParams{Name: str("First")}, casapay.Request{ID: "req_early", Time: at(60)}); err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	clock = at(101)
	if _, _, err := clocked.UpdateCustomer(ctx, scope, c.ID, &casapay.CustomerParams{Name: str("Second")}, late); err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	page, _ := listEvents(t, s, scope, casapay.EventFilter{Types: []string{casapay.EventCustomerUpdated}})
	if len(page) != 2 || *page[0].RequestID != "req_late" || page[0].Created != at(101).Unix() {
		t.Fatalf("newest customer.updated = %+v, want req_late's, stamped when applied", page)
	}
	var newest map[string]any
	if err := json.Unmarshal(page[0].Object, &newest); err != nil || newest["name"] != "Second" {
		t.Errorf("newest event shows %v, want the customer as it is now (name Second)", newest["name"])
	}
}

// testListEvents pages and filters events as lists of customers page.
func testListEvents(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	var clock time.Time
	clocked := storage.New(driverOf(t, s)).WithClock(func() time.Time { return clock })

	// Twelve customers, each created and updated: 24 events, two per second, 100 seconds apart.
	var all []string // event IDs, newest first
	for i := range 12 {
		sec := int64(100 * i)
		c := newCustomer(t, scope, &casapay.CustomerParams{Name: str("Tenant")}, sec)
		if _, err := s.CreateCustomer(ctx, scope, c, casapay.Request{Time: at(sec)}); err != nil {
			t.Fatalf("CreateCustomer: %v", err)
		}
		// A millisecond later: the same second, but the update's ID sorts after the create's.
		clock = at(sec).Add(time.Millisecond)
		if _, _, err := clocked.UpdateCustomer(ctx, scope, c.ID, &casapay.CustomerParams{Phone: str("1")}, casapay.Request{Time: at(sec)}); err != nil {
			t.Fatalf("UpdateCustomer: %v", err)
		}
	}
	page, _ := listEvents(t, s, scope, casapay.EventFilter{Limit: 100})
	all = eventIDs(page)
	if len(all) != 24 {
		t.Fatalf("ListEvents = %d events, want 24", len(all))
	}
	for i := 0; i < len(all); i += 2 {
		// Within one second, the update follows the create: IDs sort by the time they were made.
		if page[i].Type != casapay.EventCustomerUpdated || page[i+1].Type != casapay.EventCustomerCreated {
			t.Fatalf("events %d and %d are %s and %s, want updated then created", i, i+1, page[i].Type, page[i+1].Type)
		}
	}
	if !slices.IsSortedFunc(page, func(a, b *casapay.Event) int { return -cmpEvent(a, b) }) {
		t.Errorf("ListEvents is not newest first: %v", all)
	}

	for _, tt := range []struct {
		name        string
		f           casapay.EventFilter
		want        []string
		wantHasMore bool
	}{
		{"first page", casapay.EventFilter{Limit: 5}, all[:5], true},
		{"default limit", casapay.EventFilter{}, all[:10], true},
		{"starting_after", casapay.EventFilter{Limit: 5, StartingAfter: all[4]}, all[5:10], true},
		{"last page", casapay.EventFilter{Limit: 5, StartingAfter: all[19]}, all[20:], false},
		{"ending_before", casapay.EventFilter{Limit: 5, EndingBefore: all[10]}, all[5:10], true},
		{"ending_before at the top", casapay.EventFilter{Limit: 5, EndingBefore: all[3]}, all[:3], false},
		{"type", casapay.EventFilter{Limit: 3, Types: []string{casapay.EventCustomerCreated}}, []string{all[1], all[3], all[5]}, true},
		{"types", casapay.EventFilter{Limit: 100, Types: []string{casapay.EventCustomerCreated, casapay.EventCustomerUpdated}}, all, false},
		{"type none match", casapay.EventFilter{Types: []string{casapay.EventCustomerDeleted}}, []string{}, false},
		{"created gte", casapay.EventFilter{Limit: 100, Created: casapay.TimeRange{Gte: i64(at(1000).Unix())}}, all[:4], false},
		{"created gt lt", casapay.EventFilter{Limit: 100, Created: casapay.TimeRange{Gt: i64(at(0).Unix()), Lt: i64(at(300).Unix())}}, all[18:22], false},
		{"created empty", casapay.EventFilter{Created: casapay.TimeRange{Gt: i64(at(100).Unix()), Lt: i64(at(101).Unix())}}, []string{}, false},
		{"type and starting_after", casapay.EventFilter{Limit: 2, Types: []string{casapay.EventCustomerUpdated}, StartingAfter: all[1]},
			[]string{all[2], all[4]}, true},
		{"type and ending_before", casapay.EventFilter{Limit: 2, Types: []string{casapay.EventCustomerUpdated}, EndingBefore: all[5]},
			[]string{all[2], all[4]}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page, hasMore := listEvents(t, s, scope, tt.f)
			if got := eventIDs(page); !slices.Equal(got, tt.want) || hasMore != tt.wantHasMore {
				t.Errorf("ListEvents(%+v) = %v, %t, want %v, %t", tt.f, got, hasMore, tt.want, tt.wantHasMore)
			}
		})
	}

	t.Run("missing cursor", func(t *testing.T) {
		id := casapay.NewID("evt")
		_, _, err := s.ListEvents(ctx, scope, casapay.EventFilter{StartingAfter: id})
		wantError(t, "ListEvents(starting_after missing)", err, casapay.NotFound("event", "starting_after", id))
		_, _, err = s.ListEvents(ctx, newAccount(t, s), casapay.EventFilter{EndingBefore: all[0]})
		wantError(t, "ListEvents(ending_before of another account)", err, casapay.NotFound("event", "ending_before", all[0]))
	})
}

// cmpEvent orders events as lists do: by created, then by ID.
func cmpEvent(a, b *casapay.Event) int {
	if a.Created != b.Created {
		return int(a.Created - b.Created)
	}
	if a.ID < b.ID {
		return -1
	}
	if a.ID > b.ID {
		return 1
	}
	return 0
}

// testPruneEvents deletes events older than a cutoff, and nothing else.
func testPruneEvents(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	var customers []*casapay.Customer
	for _, sec := range []int64{0, 50, 100} {
		c := newCustomer(t, scope, &casapay.CustomerParams{Name: str("Tenant")}, sec)
		if _, err := s.CreateCustomer(ctx, scope, c, casapay.Request{Time: at(sec)}); err != nil {
			t.Fatalf("CreateCustomer: %v", err)
		}
		customers = append(customers, c)
	}
	if n, err := s.PruneEvents(ctx, at(100)); err != nil || n != 2 {
		t.Fatalf("PruneEvents(before the last) = %d, %v, want 2, nil", n, err)
	}
	page, _ := listEvents(t, s, scope, casapay.EventFilter{})
	if len(page) != 1 || page[0].Created != at(100).Unix() {
		t.Errorf("events after pruning = %v, want the one at %d", eventIDs(page), at(100).Unix())
	}
	if n, err := s.PruneEvents(ctx, at(100)); err != nil || n != 0 {
		t.Errorf("PruneEvents again = %d, %v, want 0, nil", n, err)
	}
	// Pruning removes events, never the objects they describe.
	if got, _ := listIDs(t, s, scope, casapay.CustomerFilter{}); len(got) != len(customers) {
		t.Errorf("ListCustomers after pruning = %v, want %d customers", got, len(customers))
	}
}

// WrapDriver returns d with every executor its transactions hand out passed through wrap first, for
// tests that make one primitive misbehave (fail, pause) while every other statement runs for real.
func WrapDriver(d storage.Driver, wrap func(storage.Executor) storage.Executor) storage.Driver {
	return wrappedDriver{d, wrap}
}

type wrappedDriver struct {
	storage.Driver
	wrap func(storage.Executor) storage.Executor
}

func (d wrappedDriver) InTx(ctx context.Context, fn func(ctx context.Context, ex storage.Executor) error) error {
	return d.Driver.InTx(ctx, func(ctx context.Context, ex storage.Executor) error { return fn(ctx, d.wrap(ex)) })
}

// driverOf returns the storage.Driver under s.
func driverOf(t *testing.T, s casapay.Store) storage.Driver {
	t.Helper()
	d, ok := s.(storage.Driver)
	if !ok {
		t.Fatalf("%T is not a storage.Driver", s)
	}
	return d
}

var errEventInsert = errors.New("event insert failed")

// failingEvents is an executor whose event inserts fail.
type failingEvents struct{ storage.Executor }

func (failingEvents) EventInsert(context.Context, casapay.Scope, *casapay.Event) error {
	return errEventInsert
}

// testEventAtomic makes every event insert fail: each customer write then fails as a whole, its change
// rolled back and nothing stored under its idempotency key, on the real store's transactions.
func testEventAtomic(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	scope := newAccount(t, s)
	kept := createCustomer(t, s, scope, janeParams(), 0)
	failing := storage.New(WrapDriver(driverOf(t, s), func(ex storage.Executor) storage.Executor { return failingEvents{ex} }))

	idem := &casapay.Idempotency{Key: "k", Fingerprint: "fp", Created: at(1)}
	c := newCustomer(t, scope, janeParams(), 1)
	if _, err := failing.CreateCustomer(ctx, scope, c, casapay.Request{Idempotency: idem}); !errors.Is(err, errEventInsert) {
		t.Fatalf("CreateCustomer with a failing event insert: err = %v, want %v", err, errEventInsert)
	}
	if _, err := s.FindCustomer(ctx, scope, c.ID); !casapay.IsNotFound(err) {
		t.Errorf("FindCustomer after the failed create: err = %v, want resource_missing: the insert was not rolled back", err)
	}
	if _, _, err := failing.UpdateCustomer(ctx, scope, kept.ID, &casapay.CustomerParams{Name: str("Changed")}, casapay.Request{}); !errors.Is(err, errEventInsert) {
		t.Fatalf("UpdateCustomer with a failing event insert: err = %v, want %v", err, errEventInsert)
	}
	if _, err := failing.DeleteCustomer(ctx, scope, kept.ID, casapay.Request{}); !errors.Is(err, errEventInsert) {
		t.Fatalf("DeleteCustomer with a failing event insert: err = %v, want %v", err, errEventInsert)
	}
	if diff := gocmp.Diff(kept, findCustomer(t, s, scope, kept.ID)); diff != "" {
		t.Errorf("customer changed by writes whose events failed (-want +got):\n%s", diff)
	}
	// Nothing was stored under the key: the same request runs afresh on the s store.
	resp, err := s.CreateCustomer(ctx, scope, c, casapay.Request{Idempotency: idem})
	if err != nil || resp.Replayed {
		t.Fatalf("CreateCustomer after the failed one = %+v, %v, want a fresh create", resp, err)
	}
	page, _ := listEvents(t, s, scope, casapay.EventFilter{})
	if got, want := eventTypes(page), []string{casapay.EventCustomerCreated, casapay.EventCustomerCreated}; !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v: only the writes that committed", got, want)
	}
}

// cancelAfterPut is an executor that cancels the request's context once the write's last statement,
// the stored idempotent response, has run: the client goes away just as the commit begins.
type cancelAfterPut struct {
	storage.Executor
	cancel context.CancelFunc
}

func (c cancelAfterPut) IdempotencyPut(ctx context.Context, scope casapay.Scope, idem *casapay.Idempotency, r *casapay.Response) error {
	err := c.Executor.IdempotencyPut(ctx, scope, idem, r)
	c.cancel()
	return err
}

// testCommitOutlivesClient cancels a write's context after its last statement and before its commit:
// the commit goes ahead, and the write reports success, since it did succeed. Were the commit to follow
// the request's cancellation, a client that went away could be told "cancelled" for a write that
// committed, or the write could be lost after every statement of it ran.
func testCommitOutlivesClient(t *testing.T, open Opener) {
	s := open(t)
	scope := newAccount(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	st := storage.New(WrapDriver(driverOf(t, s), func(ex storage.Executor) storage.Executor { return cancelAfterPut{ex, cancel} }))
	c := newCustomer(t, scope, janeParams(), 0)
	idem := &casapay.Idempotency{Key: "k", Fingerprint: "fp", Created: at(0)}
	resp, err := st.CreateCustomer(ctx, scope, c, casapay.Request{Idempotency: idem})
	if err != nil || resp.Replayed {
		t.Fatalf("CreateCustomer cancelled before its commit = %+v, %v, want the fresh create it made", resp, err)
	}
	if ctx.Err() == nil {
		t.Fatal("the write never stored its response, so the test cancelled nothing")
	}
	findCustomer(t, s, scope, c.ID)
	replay, err := s.CreateCustomer(t.Context(), scope, newCustomer(t, scope, janeParams(), 1), casapay.Request{Idempotency: idem})
	if err != nil || !replay.Replayed || string(replay.Body) != string(resp.Body) {
		t.Errorf("retry = %+v, %v, want a replay of the committed create", replay, err)
	}
}
