package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

func handleCustomerCreate(logger *slog.Logger, customers casapay.CustomerStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		p, err := decodeCustomerCreate(r)
		if err != nil {
			return nil, err
		}
		return &write{params: p, expand: p.Expand, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			scope := scopeFrom(ctx)
			c, err := casapay.NewCustomer(scope, p, req.Time)
			if err != nil {
				return nil, err
			}
			return customers.CreateCustomer(ctx, scope, c, req)
		}}, nil
	})
}

func handleCustomerRetrieve(logger *slog.Logger, customers casapay.CustomerStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		expand, err := decodeCustomerRetrieve(r)
		if err != nil {
			return nil, err
		}
		id, err := pathID(r, "cus", "customer")
		if err != nil {
			return nil, err
		}
		c, err := customers.FindCustomer(r.Context(), scopeFrom(r.Context()), id, expand...)
		switch {
		case err != nil:
			return nil, err
		case c.Deleted:
			return c.Stub(), nil
		}
		return c, nil
	})
}

func handleCustomerUpdate(logger *slog.Logger, customers casapay.CustomerStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		p, err := decodeCustomerUpdate(r)
		if err != nil {
			return nil, err
		}
		id, err := pathID(r, "cus", "customer")
		if err != nil {
			return nil, err
		}
		return &write{params: p, expand: p.Expand, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			_, resp, err := customers.UpdateCustomer(ctx, scopeFrom(ctx), id, p, req)
			return resp, err
		}}, nil
	})
}

func handleCustomerDelete(logger *slog.Logger, customers casapay.CustomerStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		if err := decodeCustomerDelete(r); err != nil {
			return nil, err
		}
		id, err := pathID(r, "cus", "customer")
		if err != nil {
			return nil, err
		}
		return &write{keyless: true, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			return customers.DeleteCustomer(ctx, scopeFrom(ctx), id, req)
		}}, nil
	})
}

func handleCustomerList(logger *slog.Logger, customers casapay.CustomerStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		f, err := decodeCustomerList(r)
		if err != nil {
			return nil, err
		}
		page, hasMore, err := customers.ListCustomers(r.Context(), scopeFrom(r.Context()), *f)
		return list("/v1/customers", page, hasMore), err
	})
}
