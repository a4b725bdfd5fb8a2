package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

func handleCustomerCreate(logger *slog.Logger, store casapay.Store, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := scopeFrom(r.Context())
		p, err := decodeCustomerCreate(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		idem, err := idempotencyFrom(r, p, now)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if err := checkPaymentMethod("payment_method", p.PaymentMethod); err != nil {
			writeError(w, r, logger, err)
			return
		}
		c, err := casapay.NewCustomer(scope, p, now())
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		replay, err := store.CreateCustomer(r.Context(), scope, c, idem)
		writeCustomer(w, r, logger, c, replay, err)
	})
}

func handleCustomerRetrieve(logger *slog.Logger, store casapay.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := decodeCustomerRetrieve(r); err != nil {
			writeError(w, r, logger, err)
			return
		}
		c, err := findCustomer(r, store)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if c.Deleted {
			encode(w, http.StatusOK, c.Stub())
			return
		}
		encode(w, http.StatusOK, c)
	})
}

func handleCustomerUpdate(logger *slog.Logger, store casapay.Store, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		p, err := decodeCustomerUpdate(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		idem, err := idempotencyFrom(r, p, now)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if !casapay.ValidID("cus", id) {
			writeError(w, r, logger, casapay.NotFound("customer", "id", id))
			return
		}
		if err := checkPaymentMethod("default_payment_method", p.DefaultPaymentMethod); err != nil {
			writeError(w, r, logger, err)
			return
		}
		c, replay, err := store.UpdateCustomer(r.Context(), scopeFrom(r.Context()), id, p, idem)
		writeCustomer(w, r, logger, c, replay, err)
	})
}

func handleCustomerDelete(logger *slog.Logger, store casapay.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := decodeCustomerDelete(r); err != nil {
			writeError(w, r, logger, err)
			return
		}
		if !casapay.ValidID("cus", id) {
			writeError(w, r, logger, casapay.NotFound("customer", "id", id))
			return
		}
		if err := store.DeleteCustomer(r.Context(), scopeFrom(r.Context()), id); err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, casapay.DeletedCustomer{ID: id, Object: "customer", Deleted: true})
	})
}

func handleCustomerList(logger *slog.Logger, store casapay.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _, err := decodeCustomerList(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		page, hasMore, err := store.ListCustomers(r.Context(), scopeFrom(r.Context()), *f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if page == nil {
			page = []*casapay.Customer{} // an empty page is [], never null
		}
		encode(w, http.StatusOK, listResponse[*casapay.Customer]{Object: "list", URL: "/v1/customers", HasMore: hasMore, Data: page})
	})
}

// writeCustomer answers a create or an update: the error, the stored response of a replay, or c.
func writeCustomer(w http.ResponseWriter, r *http.Request, logger *slog.Logger, c *casapay.Customer, replay *casapay.Replay, err error) {
	switch {
	case err != nil:
		writeError(w, r, logger, err)
	case replay != nil:
		writeReplay(w, replay)
	default:
		encode(w, http.StatusOK, c)
	}
}

// findCustomer finds the customer named by the path. A malformed ID answers as a missing customer
// without a query.
func findCustomer(r *http.Request, store casapay.Store) (*casapay.Customer, error) {
	id := r.PathValue("id")
	if !casapay.ValidID("cus", id) {
		return nil, casapay.NotFound("customer", "id", id)
	}
	return store.FindCustomer(r.Context(), scopeFrom(r.Context()), id)
}

// checkPaymentMethod answers for a payment method parameter. CasaPay has no payment methods yet, so any
// ID names a missing one; "" (unset) is always fine.
func checkPaymentMethod(param string, id *string) error {
	if id == nil || *id == "" {
		return nil
	}
	return casapay.NotFound("PaymentMethod", param, *id)
}
