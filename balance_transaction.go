package casapay

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// MaxBalanceDescriptionLength is the longest description of a balance transaction, in characters.
const MaxBalanceDescriptionLength = 350

// Balance transaction types.
const (
	BalanceInitial    = "initial"    // the first setting of a balance through the customer's create
	BalanceAdjustment = "adjustment" // any other change
)

// BalanceTransaction is one line of a customer's balance ledger. A positive amount is a debit (the
// customer owes more), a negative one a credit. The customer's balance is always the sum of its
// transactions, and EndingBalance is the balance just after this one. Its JSON is the API's
// customer_balance_transaction object.
type BalanceTransaction struct {
	ID            string
	Amount        int64
	Currency      string
	Customer      string
	Description   *string
	EndingBalance int64
	Metadata      map[string]string
	Type          string
	Created       int64 // Unix seconds
	Livemode      bool

	// CustomerObject, when set, is marshalled in place of Customer: the expanded customer, or its
	// deleted stub.
	CustomerObject json.Marshaler
}

type balanceTransactionWire struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	Amount        int64             `json:"amount"`
	Created       int64             `json:"created"`
	Currency      string            `json:"currency"`
	Customer      any               `json:"customer"`
	Description   *string           `json:"description"`
	EndingBalance int64             `json:"ending_balance"`
	Livemode      bool              `json:"livemode"`
	Metadata      map[string]string `json:"metadata"`
	Type          string            `json:"type"`
}

// MarshalJSON writes the customer_balance_transaction object.
func (b BalanceTransaction) MarshalJSON() ([]byte, error) {
	w := balanceTransactionWire{ID: b.ID, Object: "customer_balance_transaction", Amount: b.Amount, Created: b.Created,
		Currency: b.Currency, Customer: b.Customer, Description: b.Description, EndingBalance: b.EndingBalance,
		Livemode: b.Livemode, Metadata: b.Metadata, Type: b.Type}
	if b.CustomerObject != nil {
		w.Customer = b.CustomerObject
	}
	if w.Metadata == nil {
		w.Metadata = map[string]string{}
	}
	return json.Marshal(w)
}

// BalanceTransactionParams are the parameters of a balance transaction's create (amount and currency
// required) or update (description and metadata only).
type BalanceTransactionParams struct {
	Amount        *int64            `json:"amount,omitempty"`
	Currency      *string           `json:"currency,omitempty"`
	Description   *string           `json:"description,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	ClearMetadata bool              `json:"clear_metadata,omitempty"`
	Expand        []string          `json:"expand,omitempty"`
}

// Validate checks a create's parameters (create true) or an update's.
func (p *BalanceTransactionParams) Validate(create bool) error {
	if create {
		switch {
		case p.Amount == nil:
			return InvalidParam(CodeParameterMissing, "amount", "Missing required param: amount.")
		case *p.Amount == 0:
			return InvalidParam(CodeParameterInvalidInteger, "amount", "Invalid amount: it must not be zero.")
		case *p.Amount > MaxBalance || *p.Amount < -MaxBalance:
			return InvalidParam(CodeParameterInvalidInteger, "amount",
				"Invalid amount: it must be between -%d and %d.", int64(MaxBalance), int64(MaxBalance))
		case p.Currency == nil:
			return InvalidParam(CodeParameterMissing, "currency", "Missing required param: currency.")
		}
		if err := CheckCurrency("currency", *p.Currency); err != nil {
			return err
		}
	}
	if p.Description != nil && utf8.RuneCountInString(*p.Description) > MaxBalanceDescriptionLength {
		return InvalidParam(CodeParameterInvalidString, "description",
			"Invalid string: description must be at most %d characters long.", MaxBalanceDescriptionLength)
	}
	return (&CustomerParams{Metadata: p.Metadata}).Validate()
}

// ErrCurrencyMismatch is the error of a transaction in another currency than its customer's.
func ErrCurrencyMismatch(customerCurrency string) *Error {
	return InvalidParam(CodeParameterInvalidString, "currency",
		"The customer's balance is in %s: a balance transaction must be in %s too.", customerCurrency, customerCurrency)
}

// ErrBalanceBounds is the error of a transaction that would take a balance beyond ±MaxBalance.
func ErrBalanceBounds(param string) *Error {
	return InvalidParam(CodeParameterInvalidInteger, param,
		"This would take the customer's balance beyond %d either way.", int64(MaxBalance))
}

// NewBalanceTransaction returns a transaction of amount in cur on c, which the caller holds, and
// applies it to c: c's balance becomes the ending balance, and c's currency cur if it had none. It
// returns the errors of a currency other than c's and of a balance out of bounds, changing nothing.
// The transaction's ID and created time come from now, the time it is applied, so the ledger's order,
// by created and ID, is the order transactions were applied in.
func NewBalanceTransaction(scope Scope, c *Customer, typ string, amount int64, cur string, now time.Time) (*BalanceTransaction, error) {
	if c.Currency != nil && *c.Currency != cur {
		return nil, ErrCurrencyMismatch(*c.Currency)
	}
	ending := c.Balance + amount
	if ending > MaxBalance || ending < -MaxBalance {
		return nil, ErrBalanceBounds("amount")
	}
	c.Balance = ending
	if c.Currency == nil {
		c.Currency = &cur
	}
	return &BalanceTransaction{
		ID: NewTimeID("cbtxn", now), Amount: amount, Currency: cur, Customer: c.ID, EndingBalance: ending,
		Metadata: map[string]string{}, Type: typ, Created: now.Unix(), Livemode: scope.Livemode,
	}, nil
}

// ExpandedCustomer returns what an expanded customer field shows of c: c, or its deleted stub.
func ExpandedCustomer(c *Customer) json.Marshaler {
	if c.Deleted {
		return stubJSON(c.Stub())
	}
	return c
}

// stubJSON marshals a deleted customer's stub.
type stubJSON DeletedCustomer

func (s stubJSON) MarshalJSON() ([]byte, error) { return json.Marshal(DeletedCustomer(s)) }

// InitialBalanceTransaction returns the transaction of a new customer's opening balance, which
// NewCustomer set, or nil when it opens at 0. It takes the customer's created time.
func InitialBalanceTransaction(scope Scope, c *Customer) *BalanceTransaction {
	if c.Balance == 0 || c.Currency == nil {
		return nil
	}
	return &BalanceTransaction{
		ID: NewTimeID("cbtxn", time.Unix(c.Created, 0)), Amount: c.Balance, Currency: *c.Currency, Customer: c.ID,
		EndingBalance: c.Balance, Metadata: map[string]string{}, Type: BalanceInitial, Created: c.Created, Livemode: scope.Livemode,
	}
}

// Apply changes b's description and metadata as an update with p would.
func (b *BalanceTransaction) Apply(p *BalanceTransactionParams) error {
	metadata, err := mergeMetadata(b.Metadata, p.Metadata, p.ClearMetadata)
	if err != nil {
		return err
	}
	b.Metadata = metadata
	setOptional(&b.Description, p.Description)
	return nil
}

// BalanceTransactionFilter selects a page of one customer's balance transactions, newest first.
type BalanceTransactionFilter struct {
	Customer      string
	Limit         int
	StartingAfter string
	EndingBefore  string
	Expand        []string // "customer"
}

// PageSize returns how many transactions a page of f holds, as CustomerFilter.PageSize does.
func (f BalanceTransactionFilter) PageSize() (int, error) {
	return pageSize(f.Limit, f.StartingAfter, f.EndingBefore)
}
