package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

func handlePaymentMethodCreate(logger *slog.Logger, accounts casapay.AccountStore, pms casapay.PaymentMethodStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := scopeFrom(r.Context())
		p, err := decodePaymentMethodCreate(r, now())
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		key, err := accounts.FingerprintKey(r.Context(), scope)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		// The request's idempotency fingerprint hashes the parameters with each number replaced by its
		// fingerprint: no number, nor an unkeyed hash of one, is stored with the response.
		req, err := writeRequest(r, p.Redacted(key), now)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req.Expand = p.Expand
		pm, err := casapay.NewPaymentMethod(scope, p, key, req.Time)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp, err := pms.CreatePaymentMethod(r.Context(), scope, pm, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handlePaymentMethodRetrieve(logger *slog.Logger, pms casapay.PaymentMethodStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expand, err := decodeExpand(r, "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := pathPaymentMethodID(r, "id")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		pm, err := pms.FindPaymentMethod(r.Context(), scopeFrom(r.Context()), id, expand...)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, pm)
	})
}

func handlePaymentMethodUpdate(logger *slog.Logger, pms casapay.PaymentMethodStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := decodePaymentMethodUpdate(r, now())
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
		id, err := pathPaymentMethodID(r, "id")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp, err := pms.UpdatePaymentMethod(r.Context(), scopeFrom(r.Context()), id, p, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handlePaymentMethodAttach(logger *slog.Logger, pms casapay.PaymentMethodStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := decodePaymentMethodAttach(r)
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
		id, err := pathPaymentMethodID(r, "id")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp, err := pms.AttachPaymentMethod(r.Context(), scopeFrom(r.Context()), id, p.Customer, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handlePaymentMethodDetach(logger *slog.Logger, pms casapay.PaymentMethodStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expand, err := decodeExpand(r, "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req, err := writeRequest(r, expand, now)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req.Expand = expand
		id, err := pathPaymentMethodID(r, "id")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp, err := pms.DetachPaymentMethod(r.Context(), scopeFrom(r.Context()), id, req)
		writeResponse(w, r, logger, resp, err)
	})
}

// handlePaymentMethodList answers GET /v1/payment_methods and, with ofCustomer, GET
// /v1/customers/{id}/payment_methods.
func handlePaymentMethodList(logger *slog.Logger, pms casapay.PaymentMethodStore, ofCustomer bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var customer *string
		url := "/v1/payment_methods"
		if ofCustomer {
			id, err := pathID(r, "cus", "customer")
			if err != nil {
				writeError(w, r, logger, err)
				return
			}
			customer, url = &id, "/v1/customers/"+id+"/payment_methods"
		}
		f, err := decodePaymentMethodList(r, customer)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		page, hasMore, err := pms.ListPaymentMethods(r.Context(), scopeFrom(r.Context()), *f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, listResponse[*casapay.PaymentMethod]{Object: "list", URL: url, HasMore: hasMore, Data: page})
	})
}

// handleCustomerPaymentMethodRetrieve answers GET /v1/customers/{id}/payment_methods/{pm}: a payment
// method attached to that customer, and no other.
func handleCustomerPaymentMethodRetrieve(logger *slog.Logger, pms casapay.PaymentMethodStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expand, err := decodeExpand(r, "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		customer, err := pathID(r, "cus", "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := pathPaymentMethodID(r, "pm")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		pm, err := pms.FindPaymentMethod(r.Context(), scopeFrom(r.Context()), id, expand...)
		if err == nil && (pm.Customer == nil || *pm.Customer != customer) {
			err = casapay.NotFound("PaymentMethod", "payment_method", id)
		}
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, pm)
	})
}

// pathPaymentMethodID returns the payment method ID in the path's segment name: an ID, or a test token
// (which only an attach turns into a payment method). Anything else answers as a missing payment
// method, with no query.
func pathPaymentMethodID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !casapay.ValidPaymentMethodID(id) {
		// Not echoed: it may be anything, a card number included.
		e := casapay.NotFound("PaymentMethod", "id", "")
		e.Message = "No such PaymentMethod: the path does not name a payment method ID such as pm_123."
		return "", e
	}
	return id, nil
}
