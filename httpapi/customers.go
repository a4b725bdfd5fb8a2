package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

func handleCustomerCreate(logger *slog.Logger, customers casapay.CustomerStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := scopeFrom(r.Context())
		p, err := decodeCustomerCreate(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req, err := writeRequest(r, p, now)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req.Expand = p.Expand
		c, err := casapay.NewCustomer(scope, p, req.Time)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp, err := customers.CreateCustomer(r.Context(), scope, c, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handleCustomerRetrieve(logger *slog.Logger, customers casapay.CustomerStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expand, err := decodeCustomerRetrieve(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := pathID(r, "cus", "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		c, err := customers.FindCustomer(r.Context(), scopeFrom(r.Context()), id, expand...)
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

func handleCustomerUpdate(logger *slog.Logger, customers casapay.CustomerStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := decodeCustomerUpdate(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req, err := writeRequest(r, p, now)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req.Expand = p.Expand
		id, err := pathID(r, "cus", "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		_, resp, err := customers.UpdateCustomer(r.Context(), scopeFrom(r.Context()), id, p, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handleCustomerDelete(logger *slog.Logger, customers casapay.CustomerStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := decodeCustomerDelete(r); err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := pathID(r, "cus", "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		// Deletes take no idempotency key: deleting twice answers 404 the second time, and stripe-go sends
		// a key on DELETE that must not make the 404 a replay of the first answer.
		req := casapay.Request{ID: requestIDFrom(r.Context()), Time: now()}
		resp, err := customers.DeleteCustomer(r.Context(), scopeFrom(r.Context()), id, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handleCustomerList(logger *slog.Logger, customers casapay.CustomerStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := decodeCustomerList(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		page, hasMore, err := customers.ListCustomers(r.Context(), scopeFrom(r.Context()), *f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, listResponse[*casapay.Customer]{Object: "list", URL: "/v1/customers", HasMore: hasMore, Data: page})
	})
}
