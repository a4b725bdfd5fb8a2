package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stripe/stripe-go/v82"

	"github.com/casapay/casapay/storetest"
)

// TestStripeGoEvents reads events with the official Go SDK: event.Get and event.List decode them, the
// SDK pages through the list itself, and its type filters reach the server as it encodes them.
func TestStripeGoEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		sc, other := newStripeClient(t, open)
		ctx := t.Context()

		c, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Name: stripe.String("Jane Doe"), Email: stripe.String("jane.doe@example.com")})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if _, err := sc.V1Customers.Update(ctx, c.ID, &stripe.CustomerUpdateParams{Email: stripe.String("jane.new@example.com")}); err != nil {
			t.Fatalf("Update: %v", err)
		}
		for range 2 {
			if _, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Name: stripe.String("Tenant")}); err != nil {
				t.Fatalf("Create: %v", err)
			}
		}

		params := &stripe.EventListParams{}
		params.Limit = stripe.Int64(1) // one event per page: the SDK follows starting_after
		var events []*stripe.Event
		for ev, err := range sc.V1Events.List(ctx, params) {
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			events = append(events, ev)
		}
		if len(events) != 4 {
			t.Fatalf("List gave %d events over its pages, want 4", len(events))
		}
		updated := events[2]
		if updated.Type != stripe.EventTypeCustomerUpdated || updated.Data == nil || updated.Data.Object["id"] != c.ID ||
			updated.GetObjectValue("email") != "jane.new@example.com" || updated.GetPreviousValue("email") != "jane.doe@example.com" {
			t.Errorf("customer.updated event = %+v, data %+v", updated, updated.Data)
		}
		if updated.Request == nil || updated.Request.ID == "" || updated.APIVersion != stripe.APIVersion || updated.Livemode {
			t.Errorf("customer.updated request %+v, api_version %q, livemode %t", updated.Request, updated.APIVersion, updated.Livemode)
		}

		got, err := sc.V1Events.Retrieve(ctx, updated.ID, nil)
		if err != nil {
			t.Fatalf("Retrieve: %v", err)
		}
		if got.ID != updated.ID || got.Type != updated.Type || got.Created != updated.Created || got.GetObjectValue("email") != "jane.new@example.com" {
			t.Errorf("Retrieve = %+v, want the listed %+v", got, updated)
		}
		if _, err := other.V1Events.Retrieve(ctx, updated.ID, nil); !isStripeError(err, http.StatusNotFound, stripe.ErrorCodeResourceMissing) {
			t.Errorf("another account's Retrieve: err = %v, want 404 resource_missing", err)
		}

		for _, tt := range []struct {
			name   string
			params *stripe.EventListParams
			want   int
		}{
			{"type", &stripe.EventListParams{Type: stripe.String("customer.created")}, 3},
			{"wildcard", &stripe.EventListParams{Type: stripe.String("customer.*")}, 4},
			{"types", &stripe.EventListParams{Types: []*string{stripe.String("customer.updated")}}, 1},
			{"created", &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: events[3].Created}}, 4},
		} {
			t.Run(tt.name, func(t *testing.T) {
				n := 0
				for _, err := range sc.V1Events.List(ctx, tt.params) {
					if err != nil {
						t.Fatalf("List: %v", err)
					}
					n++
				}
				if n != tt.want {
					t.Errorf("List gave %d events, want %d", n, tt.want)
				}
			})
		}
	})
}
