package httpapi_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stripe/stripe-go/v82"

	"github.com/casapay/casapay/httpapi"
	"github.com/casapay/casapay/storetest"
)

// newStripeClient serves CasaPay over real HTTP and returns the official Go SDK pointed at it, holding
// a test-mode key, and a second client holding another account's key.
func newStripeClient(t *testing.T, open storetest.Opener) (client, other *stripe.Client) {
	t.Helper()
	store := open(t)
	srv := httptest.NewServer(httpapi.NewServer(slog.New(slog.NewTextHandler(t.Output(), nil)), store, time.Now, nil))
	t.Cleanup(srv.Close)
	backends := stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL:               stripe.String(srv.URL),
		MaxNetworkRetries: stripe.Int64(0), // a 500 must fail the test, not be retried after a backoff
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	key, _ := createAccount(t, store, "SDK account")
	otherKey, _ := createAccount(t, store, "Other account")
	return stripe.NewClient(key, stripe.WithBackends(backends)), stripe.NewClient(otherKey, stripe.WithBackends(backends))
}

func TestStripeGoClient(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		sc, other := newStripeClient(t, open)
		ctx := t.Context()

		created, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{
			Name:     stripe.String("Jane Doe"),
			Email:    stripe.String("jane.doe@example.com"),
			Phone:    stripe.String("+44 7700 900123"),
			Address:  &stripe.AddressParams{Line1: stripe.String("123 High Street"), City: stripe.String("London"), PostalCode: stripe.String("SW1A 1AA"), Country: stripe.String("GB")},
			Metadata: map[string]string{"property_id": "prop_456", "unit": "4B"},
		})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if created.Name != "Jane Doe" || created.Email != "jane.doe@example.com" || created.Address.City != "London" ||
			created.Metadata["unit"] != "4B" || created.Livemode || created.Created == 0 {
			t.Errorf("Create answered %+v", created)
		}

		got, err := sc.V1Customers.Retrieve(ctx, created.ID, nil)
		if err != nil {
			t.Fatalf("Retrieve: %v", err)
		}
		if diff := cmp.Diff(created.Metadata, got.Metadata); diff != "" || got.ID != created.ID || got.Phone != created.Phone {
			t.Errorf("Retrieve answered %+v, want %+v (metadata diff %s)", got, created, diff)
		}

		upd := &stripe.CustomerUpdateParams{Email: stripe.String("jane.new@example.com")}
		upd.AddMetadata("unit", "") // SDKs send metadata[unit]= to delete a key
		upd.AddExpand("default_payment_method")
		updated, err := sc.V1Customers.Update(ctx, created.ID, upd)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if updated.Email != "jane.new@example.com" || updated.Name != "Jane Doe" {
			t.Errorf("Update answered email %q name %q", updated.Email, updated.Name)
		}
		if diff := cmp.Diff(map[string]string{"property_id": "prop_456"}, updated.Metadata); diff != "" {
			t.Errorf("metadata after deleting unit (-want +got):\n%s", diff)
		}

		for i := range 3 {
			if _, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Name: stripe.String("Tenant"), Email: stripe.String("t@example.com"),
				Metadata: map[string]string{"i": string(rune('a' + i))}}); err != nil {
				t.Fatalf("Create %d: %v", i, err)
			}
		}
		// The SDK pages through the list itself with starting_after.
		params := &stripe.CustomerListParams{Email: stripe.String("T@example.com")}
		params.Limit = stripe.Int64(2)
		var listed int
		for c, err := range sc.V1Customers.List(ctx, params) {
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if c.Email != "t@example.com" {
				t.Errorf("List gave %q, want only t@example.com", c.Email)
			}
			listed++
		}
		if listed != 3 {
			t.Errorf("List gave %d customers over its pages, want 3", listed)
		}

		// Unsetting, as SDK users do it: an empty string for a field, and address= and metadata= through
		// the SDK's escape hatch for parameters its structs cannot express.
		clear := &stripe.CustomerUpdateParams{Phone: stripe.String("")}
		clear.AddExtra("address", "")
		clear.AddExtra("metadata", "")
		cleared, err := sc.V1Customers.Update(ctx, created.ID, clear)
		if err != nil {
			t.Fatalf("Update clearing fields: %v", err)
		}
		if cleared.Phone != "" || cleared.Email != "jane.new@example.com" || cleared.Address != nil || len(cleared.Metadata) != 0 {
			t.Errorf("after clearing: phone %q email %q address %+v metadata %v, want phone, address and metadata unset and email kept",
				cleared.Phone, cleared.Email, cleared.Address, cleared.Metadata)
		}

		// ending_before and created filters, as the SDK encodes them.
		all := sc.V1Customers.List(ctx, &stripe.CustomerListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(100)}})
		var ids []string
		var oldestCreated int64
		for c, err := range all {
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			ids = append(ids, c.ID)
			oldestCreated = c.Created
		}
		if len(ids) != 4 {
			t.Fatalf("List gave %d customers, want 4", len(ids))
		}
		before := &stripe.CustomerListParams{ListParams: stripe.ListParams{EndingBefore: stripe.String(ids[2]), Limit: stripe.Int64(1), Single: true}}
		var page []string
		for c, err := range sc.V1Customers.List(ctx, before) {
			if err != nil {
				t.Fatalf("List ending_before: %v", err)
			}
			page = append(page, c.ID)
		}
		if diff := cmp.Diff([]string{ids[1]}, page); diff != "" {
			t.Errorf("ending_before page (-want +got):\n%s", diff)
		}
		ranged := &stripe.CustomerListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: oldestCreated}}
		var n int
		for _, err := range sc.V1Customers.List(ctx, ranged) {
			if err != nil {
				t.Fatalf("List created[gte]: %v", err)
			}
			n++
		}
		if n != 4 {
			t.Errorf("created[gte]=%d listed %d customers, want 4", oldestCreated, n)
		}

		if _, err := other.V1Customers.Retrieve(ctx, created.ID, nil); !isStripeError(err, http.StatusNotFound, stripe.ErrorCodeResourceMissing) {
			t.Errorf("another account's Retrieve: err = %v, want 404 resource_missing", err)
		}

		deleted, err := sc.V1Customers.Delete(ctx, created.ID, nil)
		if err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if !deleted.Deleted || deleted.ID != created.ID {
			t.Errorf("Delete answered %+v, want deleted %s", deleted, created.ID)
		}
		if _, err := sc.V1Customers.Delete(ctx, created.ID, nil); !isStripeError(err, http.StatusNotFound, stripe.ErrorCodeResourceMissing) {
			t.Errorf("second Delete: err = %v, want 404 resource_missing", err)
		}
		if _, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String("nope")}); !isStripeError(err, http.StatusBadRequest, stripe.ErrorCodeEmailInvalid) {
			t.Errorf("Create with a bad email: err = %v, want 400 email_invalid", err)
		}
	})
}

func isStripeError(err error, status int, code stripe.ErrorCode) bool {
	var se *stripe.Error
	return errors.As(err, &se) && se.HTTPStatusCode == status && se.Code == code
}
