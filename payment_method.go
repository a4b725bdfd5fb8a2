package casapay

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// MaxCustomerPaymentMethods is how many payment methods one customer may have attached at once.
const MaxCustomerPaymentMethods = 500

// PaymentMethod is a way for a customer to pay: a card or a bank account for direct debits. Its JSON is
// the API's payment_method object, with exactly one of the type hashes, the one named by Type. It holds
// no card or account number: only the last four digits, what derives from the number (brand, bank
// code) and a fingerprint (see Fingerprint).
type PaymentMethod struct {
	ID             string
	Type           string
	BillingDetails BillingDetails
	Card           *Card
	SepaDebit      *SepaDebit
	BacsDebit      *BacsDebit
	USBankAccount  *USBankAccount
	Customer       *string // the customer it is attached to
	Metadata       map[string]string
	Created        int64 // Unix seconds
	Livemode       bool

	// Detached is true once the payment method was detached from a customer: it can never be
	// attached again, as at Stripe.
	Detached bool
	// Decline is, for a test card that declines, the decline_code an attach answers with ("" for one
	// that does not).
	Decline string

	// CustomerObject, when set, is marshalled in place of Customer: the expanded customer.
	CustomerObject *Customer
}

// BillingDetails are the payment method owner's details. Every field is null when unset.
type BillingDetails struct {
	Address *Address `json:"address"`
	Email   *string  `json:"email"`
	Name    *string  `json:"name"`
	Phone   *string  `json:"phone"`
}

// paymentMethodWire is the payment_method object on the wire.
type paymentMethodWire struct {
	ID             string            `json:"id"`
	Object         string            `json:"object"`
	BacsDebit      *BacsDebit        `json:"bacs_debit,omitempty"`
	BillingDetails BillingDetails    `json:"billing_details"`
	Card           *Card             `json:"card,omitempty"`
	Created        int64             `json:"created"`
	Customer       any               `json:"customer"`
	Livemode       bool              `json:"livemode"`
	Metadata       map[string]string `json:"metadata"`
	SepaDebit      *SepaDebit        `json:"sepa_debit,omitempty"`
	Type           string            `json:"type"`
	USBankAccount  *USBankAccount    `json:"us_bank_account,omitempty"`
}

// MarshalJSON writes the payment_method object, the customer expanded when CustomerObject is set.
func (pm PaymentMethod) MarshalJSON() ([]byte, error) {
	w := paymentMethodWire{
		ID: pm.ID, Object: "payment_method", BacsDebit: pm.BacsDebit, BillingDetails: pm.BillingDetails,
		Card: pm.Card, Created: pm.Created, Customer: pm.Customer, Livemode: pm.Livemode, Metadata: pm.Metadata,
		SepaDebit: pm.SepaDebit, Type: pm.Type, USBankAccount: pm.USBankAccount,
	}
	if pm.CustomerObject != nil {
		w.Customer = pm.CustomerObject
	}
	if w.Metadata == nil {
		w.Metadata = map[string]string{}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the object MarshalJSON writes, with the customer unexpanded.
func (pm *PaymentMethod) UnmarshalJSON(b []byte) error {
	var w struct {
		paymentMethodWire
		Customer json.RawMessage `json:"customer"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*pm = PaymentMethod{
		ID: w.ID, Type: w.Type, BillingDetails: w.BillingDetails, Card: w.Card, SepaDebit: w.SepaDebit,
		BacsDebit: w.BacsDebit, USBankAccount: w.USBankAccount, Metadata: w.Metadata, Created: w.Created,
		Livemode: w.Livemode,
	}
	var id *string
	if err := json.Unmarshal(w.Customer, &id); err != nil {
		var c Customer
		if err := json.Unmarshal(w.Customer, &c); err != nil {
			return err
		}
		id = &c.ID
	}
	pm.Customer = id
	return nil
}

// PaymentMethodParams are the parameters of a payment method create or update. The raw card and account
// numbers in them are never marshalled: their JSON form, the request's idempotency fingerprint, carries
// their fingerprints instead (see Redacted).
type PaymentMethodParams struct {
	Type           string                `json:"type,omitempty"` // create only
	Card           *CardParams           `json:"card,omitempty"`
	SepaDebit      *SepaDebitParams      `json:"sepa_debit,omitempty"`
	BacsDebit      *BacsDebitParams      `json:"bacs_debit,omitempty"`
	USBankAccount  *USBankAccountParams  `json:"us_bank_account,omitempty"`
	BillingDetails *BillingDetailsParams `json:"billing_details,omitempty"`
	Metadata       map[string]string     `json:"metadata,omitempty"`
	ClearMetadata  bool                  `json:"clear_metadata,omitempty"`
	Expand         []string              `json:"expand,omitempty"`
}

// BillingDetailsParams are billing_details[…]: as a customer's fields, nil leaves a field alone and ""
// unsets it.
type BillingDetailsParams struct {
	Address *AddressParams `json:"address,omitempty"`
	Email   *string        `json:"email,omitempty"`
	Name    *string        `json:"name,omitempty"`
	Phone   *string        `json:"phone,omitempty"`
}

// PaymentMethodFilter selects a page of payment methods, newest first: of one customer when Customer
// is set, of one type when Type is set.
type PaymentMethodFilter struct {
	Limit         int // 1 to 100
	StartingAfter string
	EndingBefore  string
	Customer      *string
	Type          *string
	Expand        []string // "customer" expands each one's customer
}

// PageSize returns how many payment methods a page of f holds, as CustomerFilter.PageSize does.
func (f PaymentMethodFilter) PageSize() (int, error) {
	return pageSize(f.Limit, f.StartingAfter, f.EndingBefore)
}

// Validate checks a create's parameters (create true) or an update's, and returns the first problem:
// an invalid_request_error naming its parameter, or for card details a card_error (402). now is the
// time an expiry may not be before. A create must give a type and exactly its hash; an update may give
// card[exp_month] and card[exp_year] only. Validate needs no store: a request that fails it is
// rejected before anything is written.
func (p *PaymentMethodParams) Validate(create bool, now time.Time) error {
	if create {
		if err := p.validateDetails(now); err != nil {
			return err
		}
	} else if p.Card != nil {
		if p.Card.ExpMonth == nil && p.Card.ExpYear == nil {
			return InvalidParam(CodeParameterMissing, "card", "Missing required param: card[exp_month] or card[exp_year].")
		}
		if err := checkExpiry(p.Card.ExpMonth, p.Card.ExpYear, now); err != nil {
			return err
		}
	}
	if b := p.BillingDetails; b != nil {
		if err := (&CustomerParams{Name: b.Name, Email: b.Email, Phone: b.Phone, Address: b.Address}).Validate(); err != nil {
			e := *err.(*Error)
			e.Param = "billing_details[" + bracketHead(e.Param) + "]" + bracketTail(e.Param)
			return &e
		}
	}
	return (&CustomerParams{Metadata: p.Metadata}).Validate()
}

// validateDetails checks a create's type and the hash that goes with it.
func (p *PaymentMethodParams) validateDetails(now time.Time) error {
	given := map[string]bool{
		PaymentMethodCard: p.Card != nil, PaymentMethodSepaDebit: p.SepaDebit != nil,
		PaymentMethodBacsDebit: p.BacsDebit != nil, PaymentMethodUSBankAccount: p.USBankAccount != nil,
	}
	switch {
	case p.Type == "":
		return InvalidParam(CodeParameterMissing, "type", "Missing required param: type.")
	case !slices.Contains(PaymentMethodTypes, p.Type):
		return InvalidParam(CodeParameterInvalidString, "type",
			"Invalid type: must be one of card, sepa_debit, bacs_debit or us_bank_account.")
	case !given[p.Type]:
		return InvalidParam(CodeParameterMissing, p.Type, "Missing required param: %s.", p.Type)
	}
	for _, t := range slices.Sorted(maps.Keys(given)) {
		if given[t] && t != p.Type {
			return InvalidParam(CodeParameterUnknown, t,
				"Received parameter %s, but the payment method's type is %s.", t, p.Type)
		}
	}
	switch p.Type {
	case PaymentMethodCard:
		_, err := checkCard(p.Card, now)
		return err
	case PaymentMethodSepaDebit:
		_, err := checkIBAN(p.SepaDebit.IBAN)
		return err
	case PaymentMethodBacsDebit:
		return checkBacs(p.BacsDebit)
	default:
		return checkUSBankAccount(p.USBankAccount)
	}
}

// Redacted returns p with every raw number replaced by its fingerprint under key: the form in which a
// request's parameters are hashed for its idempotency fingerprint, so that two requests with different
// numbers differ while no number, nor an unkeyed hash of one, is ever stored.
func (p *PaymentMethodParams) Redacted(key []byte) *PaymentMethodParams {
	r := *p
	if c := p.Card; c != nil {
		cc := *c
		if c.Number != "" {
			cc.NumberFingerprint = Fingerprint(key, PaymentMethodCard, digitsOnly(c.Number))
		}
		r.Card = &cc
	}
	if s := p.SepaDebit; s != nil {
		r.SepaDebit = &SepaDebitParams{IBANFingerprint: Fingerprint(key, PaymentMethodSepaDebit, normalIBAN(s.IBAN))}
	}
	if b := p.BacsDebit; b != nil {
		bb := *b
		bb.AccountNumber, bb.AccountNumberFingerprint = "", Fingerprint(key, PaymentMethodBacsDebit, b.SortCode+b.AccountNumber)
		r.BacsDebit = &bb
	}
	if u := p.USBankAccount; u != nil {
		uu := *u
		uu.AccountNumber, uu.AccountNumberFingerprint = "", Fingerprint(key, PaymentMethodUSBankAccount, u.RoutingNumber+u.AccountNumber)
		r.USBankAccount = &uu
	}
	return &r
}

// NewPaymentMethod returns the payment method a create's parameters describe, in scope's mode, with a
// new ID that sorts by now: the raw numbers reduced to their last four digits, what derives from them,
// and fingerprints under key, the account's fingerprint key. p must have passed Validate. In test mode
// only test card numbers are accepted, and in live mode none is (a 402 card_declined either way).
func NewPaymentMethod(scope Scope, p *PaymentMethodParams, key []byte, now time.Time) (*PaymentMethod, error) {
	pm := &PaymentMethod{
		ID:       NewTimeID("pm", now),
		Type:     p.Type,
		Metadata: map[string]string{},
		Created:  now.Unix(),
		Livemode: scope.Livemode,
	}
	var err error
	switch p.Type {
	case PaymentMethodCard:
		pm.Card, pm.Decline, err = newCard(scope, p.Card, key, now)
	case PaymentMethodSepaDebit:
		pm.SepaDebit, err = newSepaDebit(scope, p.SepaDebit, key)
	case PaymentMethodBacsDebit:
		pm.BacsDebit, err = newBacsDebit(scope, p.BacsDebit, key)
	case PaymentMethodUSBankAccount:
		pm.USBankAccount, err = newUSBankAccount(scope, p.USBankAccount, key)
	}
	if err != nil {
		return nil, err
	}
	if err := pm.Apply(&PaymentMethodParams{BillingDetails: p.BillingDetails, Metadata: p.Metadata, ClearMetadata: p.ClearMetadata}, now); err != nil {
		return nil, err
	}
	return pm, nil
}

// PaymentMethodFromToken returns the new payment method a test token stands for, in scope, with a new
// ID that sorts by now: each use of a token makes a new one, as at Stripe. In live mode every token
// answers 402 card_declined (live_mode_test_card). param is the parameter that named the token, for
// the error. The card expires in December of next year.
func PaymentMethodFromToken(scope Scope, token, param string, key []byte, now time.Time) (*PaymentMethod, error) {
	number, ok := testTokenNumber(token)
	if !ok {
		return nil, MissingParam("PaymentMethod", param, token)
	}
	if scope.Livemode {
		e := liveModeTestCard()
		e.Param = param
		return nil, e
	}
	month, year := int64(12), int64(now.Year()+1)
	return NewPaymentMethod(scope, &PaymentMethodParams{
		Type: PaymentMethodCard,
		Card: &CardParams{Number: number, ExpMonth: &month, ExpYear: &year},
	}, key, now)
}

// Apply changes pm as an update with p would: billing details field by field (the address merges as a
// customer's does), metadata key by key, and a card's expiry. It fails, leaving pm unchanged, if the
// merged metadata would be too large, if p changes a card's expiry on a payment method that is not a
// card, or if the expiry, month and year merged, is before now's month.
func (pm *PaymentMethod) Apply(p *PaymentMethodParams, now time.Time) error {
	if p.Card != nil && pm.Card == nil {
		return InvalidParam(CodeParameterUnknown, "card",
			"Received parameter card, but payment method %s is of type %s.", pm.ID, pm.Type)
	}
	newCard := pm.Card
	if p.Card != nil && (p.Card.ExpMonth != nil || p.Card.ExpYear != nil) {
		card := *pm.Card
		if p.Card.ExpMonth != nil {
			card.ExpMonth = *p.Card.ExpMonth
		}
		if p.Card.ExpYear != nil {
			card.ExpYear = fullYear(*p.Card.ExpYear)
		}
		if err := checkExpiry(&card.ExpMonth, &card.ExpYear, now); err != nil {
			return err
		}
		newCard = &card
	}
	metadata, err := mergeMetadata(pm.Metadata, p.Metadata, p.ClearMetadata)
	if err != nil {
		return err
	}
	billing := pm.BillingDetails
	if b := p.BillingDetails; b != nil {
		setOptional(&billing.Name, b.Name)
		setOptional(&billing.Email, b.Email)
		setOptional(&billing.Phone, b.Phone)
		billing.Address = applyAddress(billing.Address, b.Address)
	}
	pm.Card, pm.BillingDetails, pm.Metadata = newCard, billing, metadata
	return nil
}

// Attachable returns nil if pm may be attached to the customer customerID, and otherwise the error the
// attach answers with: a test card's decline (402), or 400 payment_method_unexpected_state for a payment
// method attached to another customer or detached before. Attaching to the customer it is attached to
// already is allowed, and changes nothing.
func (pm *PaymentMethod) Attachable(customerID string) error {
	switch {
	case pm.Decline != "":
		return DeclineError(pm.Decline)
	case pm.Detached:
		return InvalidParam(CodePaymentMethodUnexpectedState, "",
			"This PaymentMethod was previously detached from a Customer and may not be used again.")
	case pm.Customer != nil && *pm.Customer != customerID:
		return InvalidParam(CodePaymentMethodUnexpectedState, "",
			"The payment method you provided has already been attached to a customer.")
	}
	return nil
}

// ErrNotAttached is the error of an update or a detach of a payment method attached to no customer.
func ErrNotAttached(pm *PaymentMethod, action string) *Error {
	return InvalidParam(CodePaymentMethodUnexpectedState, "",
		"The payment method %s is not attached to a customer, so it cannot be %s.", pm.ID, action)
}

// ErrTooManyPaymentMethods is the error of an attach to a customer that has MaxCustomerPaymentMethods.
func ErrTooManyPaymentMethods(customerID string) *Error {
	return InvalidParam(CodeCustomerMaxPaymentMethods, "customer",
		"Customer %s already has the maximum of %d payment methods attached.", customerID, MaxCustomerPaymentMethods)
}

// bracketHead and bracketTail split a bracket-notation parameter name at its first bracket:
// "address[city]" is "address" and "[city]".
func bracketHead(param string) string {
	for i := range len(param) {
		if param[i] == '[' {
			return param[:i]
		}
	}
	return param
}

func bracketTail(param string) string { return param[len(bracketHead(param)):] }
