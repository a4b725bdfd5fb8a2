package httpapi

import (
	"net/http"

	"github.com/casapay/casapay"
)

// This file binds the parameters of the balance transaction endpoints.

// decodeBalanceTransactionCreate returns the parameters of POST /v1/customers/{id}/balance_transactions.
func decodeBalanceTransactionCreate(r *http.Request) (*casapay.BalanceTransactionParams, error) {
	return decodeBalanceTransactionParams(r, true)
}

// decodeBalanceTransactionUpdate returns the parameters of POST /v1/customers/{id}/balance_transactions/{txn}.
func decodeBalanceTransactionUpdate(r *http.Request) (*casapay.BalanceTransactionParams, error) {
	return decodeBalanceTransactionParams(r, false)
}

func decodeBalanceTransactionParams(r *http.Request, create bool) (*casapay.BalanceTransactionParams, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	p := &casapay.BalanceTransactionParams{}
	for _, key := range root.keys {
		n := root.hash[key]
		switch {
		case key == "amount" && create:
			p.Amount, err = bindInt64(n, key)
		case key == "currency" && create:
			p.Currency, err = bindString(n, key)
		case key == "description":
			p.Description, err = bindString(n, key)
		case key == "metadata":
			p.Metadata, p.ClearMetadata, err = bindMetadata(n, key)
		case key == "expand":
			p.Expand, err = bindExpand(n, key, "customer")
		default:
			err = unknownParam(key)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := p.Validate(create); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeBalanceTransactionList returns the filter of GET /v1/customers/{id}/balance_transactions.
func decodeBalanceTransactionList(r *http.Request, customer string) (*casapay.BalanceTransactionFilter, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	f := &casapay.BalanceTransactionFilter{Customer: customer, Limit: casapay.DefaultListLimit}
	pg := page{prefix: "cbtxn", noun: "balance transaction", limit: &f.Limit, startingAfter: &f.StartingAfter, endingBefore: &f.EndingBefore}
	for _, key := range root.keys {
		n := root.hash[key]
		if ok, err := pg.bind(n, key); ok || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		if key != "expand" {
			return nil, unknownParam(key)
		}
		if f.Expand, err = bindListExpand(n, key, "customer"); err != nil {
			return nil, err
		}
	}
	if err := pg.check(); err != nil {
		return nil, err
	}
	return f, nil
}
