package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

func handleBalanceTransactionCreate(logger *slog.Logger, ledger casapay.BalanceTransactionStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := decodeBalanceTransactionCreate(r)
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
		customer, err := pathID(r, "cus", "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp, err := ledger.CreateBalanceTransaction(r.Context(), scopeFrom(r.Context()), customer, p, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handleBalanceTransactionRetrieve(logger *slog.Logger, ledger casapay.BalanceTransactionStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expand, err := decodeExpand(r, "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		customer, id, err := balanceTransactionPath(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		b, err := ledger.FindBalanceTransaction(r.Context(), scopeFrom(r.Context()), customer, id, expand...)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, b)
	})
}

func handleBalanceTransactionUpdate(logger *slog.Logger, ledger casapay.BalanceTransactionStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := decodeBalanceTransactionUpdate(r)
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
		customer, id, err := balanceTransactionPath(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp, err := ledger.UpdateBalanceTransaction(r.Context(), scopeFrom(r.Context()), customer, id, p, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handleBalanceTransactionList(logger *slog.Logger, ledger casapay.BalanceTransactionStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		customer, err := pathID(r, "cus", "customer")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		f, err := decodeBalanceTransactionList(r, customer)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		page, hasMore, err := ledger.ListBalanceTransactions(r.Context(), scopeFrom(r.Context()), *f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, listResponse[*casapay.BalanceTransaction]{Object: "list",
			URL: "/v1/customers/" + customer + "/balance_transactions", HasMore: hasMore, Data: page})
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
