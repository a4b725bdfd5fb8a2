package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

func handlePaymentMethodCreate(logger *slog.Logger, accounts casapay.AccountStore, pms casapay.PaymentMethodStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		scope := scopeFrom(r.Context())
		p, err := decodePaymentMethodCreate(r, now())
		if err != nil {
			return nil, err
		}
		key, err := accounts.FingerprintKey(r.Context(), scope)
		if err != nil {
			return nil, err
		}
		// The request's idempotency fingerprint hashes the parameters with each number replaced by its
		// fingerprint: no number, nor an unkeyed hash of one, is stored with the response.
		return &write{params: p.Redacted(key), expand: p.Expand, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			pm, err := casapay.NewPaymentMethod(scope, p, key, req.Time)
			if err != nil {
				return nil, err
			}
			return pms.CreatePaymentMethod(ctx, scope, pm, req)
		}}, nil
	})
}

func handlePaymentMethodRetrieve(logger *slog.Logger, pms casapay.PaymentMethodStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		expand, err := decodeExpand(r, "customer")
		if err != nil {
			return nil, err
		}
		id, err := pathPaymentMethodID(r, "id")
		if err != nil {
			return nil, err
		}
		return pms.FindPaymentMethod(r.Context(), scopeFrom(r.Context()), id, expand...)
	})
}

func handlePaymentMethodUpdate(logger *slog.Logger, pms casapay.PaymentMethodStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		p, err := decodePaymentMethodUpdate(r, now())
		if err != nil {
			return nil, err
		}
		id, err := pathPaymentMethodID(r, "id")
		if err != nil {
			return nil, err
		}
		return &write{params: p, expand: p.Expand, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			return pms.UpdatePaymentMethod(ctx, scopeFrom(ctx), id, p, req)
		}}, nil
	})
}

func handlePaymentMethodAttach(logger *slog.Logger, pms casapay.PaymentMethodStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		p, err := decodePaymentMethodAttach(r)
		if err != nil {
			return nil, err
		}
		id, err := pathPaymentMethodID(r, "id")
		if err != nil {
			return nil, err
		}
		return &write{params: p, expand: p.Expand, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			return pms.AttachPaymentMethod(ctx, scopeFrom(ctx), id, p.Customer, req)
		}}, nil
	})
}

func handlePaymentMethodDetach(logger *slog.Logger, pms casapay.PaymentMethodStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		expand, err := decodeExpand(r, "customer")
		if err != nil {
			return nil, err
		}
		id, err := pathPaymentMethodID(r, "id")
		if err != nil {
			return nil, err
		}
		return &write{params: expand, expand: expand, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			return pms.DetachPaymentMethod(ctx, scopeFrom(ctx), id, req)
		}}, nil
	})
}

// handlePaymentMethodList answers GET /v1/payment_methods and, with ofCustomer, GET
// /v1/customers/{id}/payment_methods.
func handlePaymentMethodList(logger *slog.Logger, pms casapay.PaymentMethodStore, ofCustomer bool) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		var customer *string
		url := "/v1/payment_methods"
		if ofCustomer {
			id, err := pathID(r, "cus", "customer")
			if err != nil {
				return nil, err
			}
			customer, url = &id, "/v1/customers/"+id+"/payment_methods"
		}
		f, err := decodePaymentMethodList(r, customer)
		if err != nil {
			return nil, err
		}
		page, hasMore, err := pms.ListPaymentMethods(r.Context(), scopeFrom(r.Context()), *f)
		return list(url, page, hasMore), err
	})
}

// handleCustomerPaymentMethodRetrieve answers GET /v1/customers/{id}/payment_methods/{pm}: a payment
// method attached to that customer, and no other.
func handleCustomerPaymentMethodRetrieve(logger *slog.Logger, pms casapay.PaymentMethodStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		expand, err := decodeExpand(r, "customer")
		if err != nil {
			return nil, err
		}
		customer, err := pathID(r, "cus", "customer")
		if err != nil {
			return nil, err
		}
		id, err := pathPaymentMethodID(r, "pm")
		if err != nil {
			return nil, err
		}
		pm, err := pms.FindPaymentMethod(r.Context(), scopeFrom(r.Context()), id, expand...)
		if err == nil && (pm.Customer == nil || *pm.Customer != customer) {
			err = casapay.NotFound("PaymentMethod", "payment_method", id)
		}
		return pm, err
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
