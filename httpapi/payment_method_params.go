package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/casapay/casapay"
)

// This file binds the parameters of the payment method endpoints.

// decodePaymentMethodCreate returns the parameters of POST /v1/payment_methods, validated as of now.
func decodePaymentMethodCreate(r *http.Request, now time.Time) (*casapay.PaymentMethodParams, error) {
	return decodePaymentMethodParams(r, true, now)
}

// decodePaymentMethodUpdate returns the parameters of POST /v1/payment_methods/{id}, validated as of now:
// billing_details, metadata, card[exp_month] and card[exp_year].
func decodePaymentMethodUpdate(r *http.Request, now time.Time) (*casapay.PaymentMethodParams, error) {
	return decodePaymentMethodParams(r, false, now)
}

func decodePaymentMethodParams(r *http.Request, create bool, now time.Time) (*casapay.PaymentMethodParams, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	p := &casapay.PaymentMethodParams{}
	for _, key := range root.keys {
		n := root.hash[key]
		switch {
		case key == "type" && create:
			var t *string
			if t, err = bindString(n, key); err == nil {
				p.Type = *t
			}
		case key == "card":
			p.Card, err = bindCard(n, key, create)
		case key == "sepa_debit" && create:
			p.SepaDebit = &casapay.SepaDebitParams{}
			err = bindFields(n, key, map[string]*string{"iban": &p.SepaDebit.IBAN})
		case key == "bacs_debit" && create:
			b := &casapay.BacsDebitParams{}
			p.BacsDebit = b
			err = bindFields(n, key, map[string]*string{"sort_code": &b.SortCode, "account_number": &b.AccountNumber})
		case key == "us_bank_account" && create:
			u := &casapay.USBankAccountParams{}
			p.USBankAccount = u
			err = bindFields(n, key, map[string]*string{"routing_number": &u.RoutingNumber, "account_number": &u.AccountNumber,
				"account_type": &u.AccountType, "account_holder_type": &u.AccountHolderType})
		case key == "billing_details":
			p.BillingDetails, err = bindBillingDetails(n, key)
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
	if err := p.Validate(create, now); err != nil {
		return nil, err
	}
	return p, nil
}

// bindFields reads a hash of string fields into the places fields names. A field not given is left "".
func bindFields(n *paramNode, param string, fields map[string]*string) error {
	if n.kind != paramHash {
		return casapay.InvalidParam("", param, "Invalid object: %s must be an object.", param)
	}
	for _, key := range n.keys {
		dst, ok := fields[key]
		if !ok {
			return unknownParam(paramPath(param, key))
		}
		s, err := bindString(n.hash[key], paramPath(param, key))
		if err != nil {
			return err
		}
		*dst = *s
	}
	return nil
}

// bindCard reads card[…]: a create's number, exp_month, exp_year and cvc, or an update's expiry only.
func bindCard(n *paramNode, param string, create bool) (*casapay.CardParams, error) {
	if n.kind != paramHash {
		return nil, casapay.InvalidParam("", param, "Invalid object: %s must be an object.", param)
	}
	c := &casapay.CardParams{}
	for _, key := range n.keys {
		child, p := n.hash[key], paramPath(param, key)
		var err error
		switch {
		case key == "exp_month":
			c.ExpMonth, err = bindInt64(child, p)
		case key == "exp_year":
			c.ExpYear, err = bindInt64(child, p)
		case key == "number" && create:
			err = bindInto(child, p, &c.Number)
		case key == "cvc" && create:
			err = bindInto(child, p, &c.CVC)
		default:
			err = unknownParam(p)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

// bindInto reads a string parameter into dst.
func bindInto(n *paramNode, param string, dst *string) error {
	s, err := bindString(n, param)
	if err == nil {
		*dst = *s
	}
	return err
}

// bindBillingDetails reads billing_details[…]: address, email, name and phone, as a customer's.
func bindBillingDetails(n *paramNode, param string) (*casapay.BillingDetailsParams, error) {
	if n.kind != paramHash {
		return nil, casapay.InvalidParam("", param, "Invalid object: %s must be an object.", param)
	}
	b := &casapay.BillingDetailsParams{}
	for _, key := range n.keys {
		child, p := n.hash[key], paramPath(param, key)
		var err error
		switch key {
		case "address":
			b.Address, err = bindAddress(child, p)
		case "email":
			b.Email, err = bindString(child, p)
		case "name":
			b.Name, err = bindString(child, p)
		case "phone":
			b.Phone, err = bindString(child, p)
		default:
			err = unknownParam(p)
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// attachParams are the parameters of POST /v1/payment_methods/{id}/attach.
type attachParams struct {
	Customer string   `json:"customer"`
	Expand   []string `json:"expand,omitempty"`
}

// decodePaymentMethodAttach returns the parameters of an attach: customer, required, and expand.
func decodePaymentMethodAttach(r *http.Request) (*attachParams, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	p := &attachParams{}
	for _, key := range root.keys {
		n := root.hash[key]
		switch key {
		case "customer":
			err = bindInto(n, key, &p.Customer)
		case "expand":
			p.Expand, err = bindExpand(n, key, "customer")
		default:
			err = unknownParam(key)
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case p.Customer == "":
		return nil, casapay.InvalidParam(casapay.CodeParameterMissing, "customer", "Missing required param: customer.")
	case !casapay.ValidID("cus", p.Customer):
		return nil, invalidCustomerID("customer")
	}
	return p, nil
}

// decodeExpand returns the expand parameter of a request that takes no other, with these values.
func decodeExpand(r *http.Request, expandable ...string) ([]string, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	var expand []string
	for _, key := range root.keys {
		if key != "expand" {
			return nil, unknownParam(key)
		}
		if expand, err = bindExpand(root.hash[key], key, expandable...); err != nil {
			return nil, err
		}
	}
	return expand, nil
}

// decodePaymentMethodList returns the filter of GET /v1/payment_methods (customer and type), or of GET
// /v1/customers/{id}/payment_methods when customer is set (type only).
func decodePaymentMethodList(r *http.Request, customer *string) (*casapay.PaymentMethodFilter, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	f := &casapay.PaymentMethodFilter{Limit: casapay.DefaultListLimit, Customer: customer}
	pg := page{prefix: "pm", noun: "payment method", limit: &f.Limit, startingAfter: &f.StartingAfter, endingBefore: &f.EndingBefore}
	for _, key := range root.keys {
		n := root.hash[key]
		if ok, err := pg.bind(n, key); ok || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		var s *string
		switch {
		case key == "customer" && customer == nil:
			if s, err = bindString(n, key); err == nil && *s != "" {
				if !casapay.ValidID("cus", *s) {
					return nil, invalidCustomerID(key)
				}
				f.Customer = s
			}
		case key == "type":
			if s, err = bindString(n, key); err == nil && *s != "" {
				if !slices.Contains(casapay.PaymentMethodTypes, *s) {
					return nil, casapay.InvalidParam(casapay.CodeParameterInvalidString, key,
						"Invalid type: must be one of card, sepa_debit, bacs_debit or us_bank_account.")
				}
				f.Type = s
			}
		case key == "expand":
			f.Expand, err = bindListExpand(n, key, "customer")
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

// invalidCustomerID is the error of a parameter that should name a customer and cannot. The value is not
// echoed: it may be anything.
func invalidCustomerID(param string) *casapay.Error {
	return casapay.InvalidParam(casapay.CodeParameterInvalidString, param,
		"Invalid %s: it must be a customer ID, such as cus_123.", param)
}
