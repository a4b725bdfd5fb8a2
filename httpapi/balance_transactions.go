package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

func handleBalanceTransactionCreate(logger *slog.Logger, ledger casapay.BalanceTransactionStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		p, err := decodeBalanceTransactionCreate(r)
		if err != nil {
			return nil, err
		}
		customer, err := pathID(r, "cus", "customer")
		if err != nil {
			return nil, err
		}
		return &write{params: p, expand: p.Expand, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			return ledger.CreateBalanceTransaction(ctx, scopeFrom(ctx), customer, p, req)
		}}, nil
	})
}

func handleBalanceTransactionRetrieve(logger *slog.Logger, ledger casapay.BalanceTransactionStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		expand, err := decodeExpand(r, "customer")
		if err != nil {
			return nil, err
		}
		customer, id, err := balanceTransactionPath(r)
		if err != nil {
			return nil, err
		}
		return ledger.FindBalanceTransaction(r.Context(), scopeFrom(r.Context()), customer, id, expand...)
	})
}

func handleBalanceTransactionUpdate(logger *slog.Logger, ledger casapay.BalanceTransactionStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		p, err := decodeBalanceTransactionUpdate(r)
		if err != nil {
			return nil, err
		}
		customer, id, err := balanceTransactionPath(r)
		if err != nil {
			return nil, err
		}
		return &write{params: p, expand: p.Expand, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			return ledger.UpdateBalanceTransaction(ctx, scopeFrom(ctx), customer, id, p, req)
		}}, nil
	})
}

func handleBalanceTransactionList(logger *slog.Logger, ledger casapay.BalanceTransactionStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		customer, err := pathID(r, "cus", "customer")
		if err != nil {
			return nil, err
		}
		f, err := decodeBalanceTransactionList(r, customer)
		if err != nil {
			return nil, err
		}
		page, hasMore, err := ledger.ListBalanceTransactions(r.Context(), scopeFrom(r.Context()), *f)
		return list("/v1/customers/"+customer+"/balance_transactions", page, hasMore), err
	})
}

// balanceTransactionPath returns the customer and the transaction the path names.
func balanceTransactionPath(r *http.Request) (customer, id string, err error) {
	if customer, err = pathID(r, "cus", "customer"); err != nil {
		return "", "", err
	}
	id = r.PathValue("txn")
	if !casapay.ValidID("cbtxn", id) {
		return "", "", casapay.NotFound("customer_balance_transaction", "id", id)
	}
	return customer, id, nil
}
