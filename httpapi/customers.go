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
		idem, err := prepareWrite(r, p, now)
		if err != nil {
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
		id, err := customerID(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		c, err := store.FindCustomer(r.Context(), scopeFrom(r.Context()), id)
		switch {
		case err != nil:
			writeError(w, r, logger, err)
		case c.Deleted:
			encode(w, http.StatusOK, c.Stub())
		default:
			encode(w, http.StatusOK, c)
		}
	})
}

func handleCustomerUpdate(logger *slog.Logger, store casapay.Store, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := decodeCustomerUpdate(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		idem, err := prepareWrite(r, p, now)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := customerID(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		c, replay, err := store.UpdateCustomer(r.Context(), scopeFrom(r.Context()), id, p, idem)
		writeCustomer(w, r, logger, c, replay, err)
	})
}

func handleCustomerDelete(logger *slog.Logger, store casapay.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := decodeCustomerDelete(r); err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := customerID(r)
		if err != nil {
			writeError(w, r, logger, err)
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

// customerID returns the customer ID in the path. A malformed ID answers as a missing customer, with
// no query.
func customerID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !casapay.ValidID("cus", id) {
		return "", casapay.NotFound("customer", "id", id)
	}
	return id, nil
}

// prepareWrite does what a create and an update share once their parameters are decoded: it reads the
// request's idempotency key and checks the payment method the parameters name. CasaPay has no payment
// methods yet, so any ID names a missing one; "" (unset) is always fine. Each decoder accepts only one
// of the two payment method parameters, so the other is nil here.
func prepareWrite(r *http.Request, p *casapay.CustomerParams, now func() time.Time) (*casapay.Idempotency, error) {
	idem, err := idempotencyFrom(r, p, now)
	if err != nil {
		return nil, err
	}
	for _, pm := range []struct {
		param string
		id    *string
	}{{"payment_method", p.PaymentMethod}, {"default_payment_method", p.DefaultPaymentMethod}} {
		if pm.id != nil && *pm.id != "" {
			return nil, casapay.NotFound("PaymentMethod", pm.param, *pm.id)
		}
	}
	return idem, nil
}
