package httpapi

import (
	"net/http"

	"github.com/casapay/casapay"
)

// This file binds the parameters of the customer endpoints, with the binders of bind.go, from the
// tree that params.go decodes.

// decodeCustomerCreate returns the parameters of POST /v1/customers, validated.
func decodeCustomerCreate(r *http.Request) (*casapay.CustomerParams, error) {
	return decodeCustomerParams(r, true)
}

// decodeCustomerUpdate returns the parameters of POST /v1/customers/{id}, validated. They are
// create's, with default_payment_method in place of payment_method.
func decodeCustomerUpdate(r *http.Request) (*casapay.CustomerParams, error) {
	return decodeCustomerParams(r, false)
}

// decodeCustomerParams binds create or update parameters, which differ in one parameter only:
// create takes payment_method, update default_payment_method.
func decodeCustomerParams(r *http.Request, create bool) (*casapay.CustomerParams, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	p := &casapay.CustomerParams{}
	paymentMethodKey, paymentMethod := "default_payment_method", &p.DefaultPaymentMethod
	if create {
		paymentMethodKey, paymentMethod = "payment_method", &p.PaymentMethodID
	}
	for _, key := range root.keys {
		n := root.hash[key]
		switch key {
		case "name":
			p.Name, err = bindString(n, key)
		case "email":
			p.Email, err = bindString(n, key)
		case "phone":
			p.Phone, err = bindString(n, key)
		case "address":
			p.Address, err = bindAddress(n, key)
		case "metadata":
			p.Metadata, p.ClearMetadata, err = bindMetadata(n, key)
		case "balance":
			p.Balance, err = bindInt64(n, key)
		case "currency":
			p.Currency, err = bindString(n, key)
		case "expand":
			p.Expand, err = bindExpand(n, key, "default_payment_method")
		case paymentMethodKey:
			if *paymentMethod, err = bindString(n, key); err == nil && **paymentMethod != "" && !casapay.ValidPaymentMethodID(**paymentMethod) {
				// Not echoed: a client that pastes a card number here must not see it logged or answered.
				err = casapay.InvalidParam(casapay.CodeParameterInvalidString, key,
					"Invalid %s: it must be a payment method ID such as pm_123, or a test token such as pm_card_visa.", key)
			}
		default:
			err = unknownParam(key)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeCustomerRetrieve returns the expand parameter of GET /v1/customers/{id}, the only one it takes.
func decodeCustomerRetrieve(r *http.Request) ([]string, error) {
	return decodeExpand(r, "default_payment_method")
}

// decodeCustomerDelete checks that DELETE /v1/customers/{id} has no parameters.
func decodeCustomerDelete(r *http.Request) error { return decodeNoParams(r) }

// decodeCustomerList returns the filter and the expand parameter of GET /v1/customers. The filter's
// Limit is casapay.DefaultListLimit unless limit is given, and at most one cursor is set; cursors
// are only checked for shape, not looked up. An empty value (limit=, email=) counts as absent.
func decodeCustomerList(r *http.Request) (*casapay.CustomerFilter, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	f := &casapay.CustomerFilter{Limit: casapay.DefaultListLimit}
	pg := page{prefix: "cus", noun: "customer", limit: &f.Limit, startingAfter: &f.StartingAfter, endingBefore: &f.EndingBefore}
	for _, key := range root.keys {
		n := root.hash[key]
		if ok, err := pg.bind(n, key); ok || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		switch key {
		case "email":
			var email *string
			if email, err = bindString(n, key); err == nil && *email != "" {
				f.Email = email
			}
		case "created":
			f.Created, err = bindTimeRange(n, key)
		case "expand":
			f.Expand, err = bindListExpand(n, key, "default_payment_method")
		default:
			err = unknownParam(key)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := pg.check(); err != nil {
		return nil, err
	}
	return f, nil
}
