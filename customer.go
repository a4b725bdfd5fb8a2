package casapay

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Address is a postal address. Every field is always present on the wire, null where unset.
type Address struct {
	Line1      *string `json:"line1"`
	Line2      *string `json:"line2"`
	City       *string `json:"city"`
	State      *string `json:"state"`
	PostalCode *string `json:"postal_code"`
	Country    *string `json:"country"` // ISO 3166-1 alpha-2, upper case
}

func (a *Address) empty() bool {
	return a.Line1 == nil && a.Line2 == nil && a.City == nil && a.State == nil && a.PostalCode == nil && a.Country == nil
}

// Customer is a tenant of an account. Its JSON is the API's customer object: every field is present,
// null where unset, and metadata is {} when empty.
type Customer struct {
	ID                   string            `json:"id"`
	Object               string            `json:"object"`
	Name                 *string           `json:"name"`
	Email                *string           `json:"email"`
	Phone                *string           `json:"phone"`
	Address              *Address          `json:"address"`
	DefaultPaymentMethod *string           `json:"default_payment_method"`
	Balance              int64             `json:"balance"` // minor currency units; positive is owed by the customer
	Currency             *string           `json:"currency"`
	Metadata             map[string]string `json:"metadata"`
	Created              int64             `json:"created"` // Unix seconds
	Livemode             bool              `json:"livemode"`

	// Deleted is true once the customer was deleted. A deleted customer is still found by ID (it answers
	// as a DeletedCustomer) and still works as a list cursor, but it is never listed or changed.
	Deleted bool `json:"-"`

	// DefaultPaymentMethodObject, when set, is marshalled in place of DefaultPaymentMethod: the expanded
	// payment method, which only storage, which reads it, needs to know the type of.
	DefaultPaymentMethodObject json.Marshaler `json:"-"`
}

// customerWire is Customer without its methods, so marshalling it does not recurse.
type customerWire Customer

// wire returns c as the customer object holds it: object and an empty metadata filled in whatever the
// struct holds, so no code path can emit a customer that breaks the contract.
func (c Customer) wire() customerWire {
	w := customerWire(c)
	w.Object = "customer"
	if w.Metadata == nil {
		w.Metadata = map[string]string{}
	}
	return w
}

// MarshalJSON writes the customer object, its default payment method expanded when
// DefaultPaymentMethodObject is set.
func (c Customer) MarshalJSON() ([]byte, error) {
	if c.DefaultPaymentMethodObject != nil {
		return json.Marshal(struct {
			customerWire
			DefaultPaymentMethod json.Marshaler `json:"default_payment_method"`
		}{c.wire(), c.DefaultPaymentMethodObject})
	}
	return json.Marshal(c.wire())
}

// DeletedJSON returns the customer object of c with "deleted": true after its other fields: how the
// customer.deleted event shows the customer as it was when deleted.
func (c Customer) DeletedJSON() ([]byte, error) {
	return json.Marshal(struct {
		customerWire
		Deleted bool `json:"deleted"`
	}{c.wire(), true})
}

// DeletedCustomer is what delete answers, and what retrieve answers for a deleted customer.
type DeletedCustomer struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// Stub returns the deleted-customer object for c.
func (c *Customer) Stub() DeletedCustomer {
	return DeletedCustomer{ID: c.ID, Object: "customer", Deleted: true}
}

// AddressParams are the address fields a request gives. A nil field was not given; a pointer to ""
// unsets that field. Unset means the request sent address="" (or JSON null) to remove the whole address.
type AddressParams struct {
	Unset      bool    `json:"unset,omitempty"`
	Line1      *string `json:"line1,omitempty"`
	Line2      *string `json:"line2,omitempty"`
	City       *string `json:"city,omitempty"`
	State      *string `json:"state,omitempty"`
	PostalCode *string `json:"postal_code,omitempty"`
	Country    *string `json:"country,omitempty"`
}

// CustomerParams are the parameters of a create or an update. A nil field was not given and leaves the
// customer as it is; a pointer to "" unsets the field. Metadata merges key by key, and an empty value
// removes its key; ClearMetadata (metadata="" or JSON null) removes every key first.
// Its JSON form is canonical (fixed field order, sorted keys), so it serves as an idempotency fingerprint.
type CustomerParams struct {
	Name                 *string        `json:"name,omitempty"`
	Email                *string        `json:"email,omitempty"`
	Phone                *string        `json:"phone,omitempty"`
	Address              *AddressParams `json:"address,omitempty"`
	PaymentMethodID      *string        `json:"payment_method,omitempty"`         // create only
	DefaultPaymentMethod *string        `json:"default_payment_method,omitempty"` // update only
	// Balance sets the balance, through a balance transaction of the difference; Currency is its
	// currency, needed while the customer has none, and may be given only with Balance.
	Balance       *int64            `json:"balance,omitempty"`
	Currency      *string           `json:"currency,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	ClearMetadata bool              `json:"clear_metadata,omitempty"`
	Expand        []string          `json:"expand,omitempty"`
}

// Limits on customer fields, in characters.
const (
	MaxNameLength          = 256
	MaxEmailLength         = 512
	MaxPhoneLength         = 20
	MaxAddressFieldLength  = 200
	MaxMetadataKeys        = 50
	MaxMetadataKeyLength   = 40
	MaxMetadataValueLength = 500
)

// Validate checks every parameter and returns the first problem as an invalid_request_error naming its
// parameter. It needs no store: a request that fails it is rejected before anything is written.
func (p *CustomerParams) Validate() error {
	if err := checkLength("name", p.Name, MaxNameLength); err != nil {
		return err
	}
	if err := checkLength("email", p.Email, MaxEmailLength); err != nil {
		return err
	}
	if p.Email != nil && *p.Email != "" && !validEmail(*p.Email) {
		return InvalidParam(CodeEmailInvalid, "email", "Invalid email address: %s", *p.Email)
	}
	if err := checkLength("phone", p.Phone, MaxPhoneLength); err != nil {
		return err
	}
	if a := p.Address; a != nil {
		for _, f := range []struct {
			param string
			v     *string
		}{
			{"address[line1]", a.Line1}, {"address[line2]", a.Line2}, {"address[city]", a.City},
			{"address[state]", a.State}, {"address[postal_code]", a.PostalCode}, {"address[country]", a.Country},
		} {
			if err := checkLength(f.param, f.v, MaxAddressFieldLength); err != nil {
				return err
			}
		}
		if a.Country != nil && *a.Country != "" && !ValidCountry(*a.Country) {
			return InvalidParam(CodeParameterInvalidString, "address[country]",
				"Invalid country: %s. It must be an ISO 3166-1 alpha-2 code such as GB or US.", *a.Country)
		}
	}
	if p.Balance != nil && (*p.Balance > MaxBalance || *p.Balance < -MaxBalance) {
		return InvalidParam(CodeParameterInvalidInteger, "balance",
			"Invalid balance: it must be between -%d and %d.", int64(MaxBalance), int64(MaxBalance))
	}
	if p.Currency != nil {
		if p.Balance == nil {
			return InvalidParam(CodeParameterInvalidString, "currency",
				"Invalid currency: it can be given only with balance, whose currency it is.")
		}
		if err := CheckCurrency("currency", *p.Currency); err != nil {
			return err
		}
	}
	if len(p.Metadata) > MaxMetadataKeys {
		return InvalidParam(CodeParameterInvalidString, "metadata",
			"Invalid metadata: metadata can have at most %d keys.", MaxMetadataKeys)
	}
	for k, v := range p.Metadata {
		switch {
		case k == "":
			return InvalidParam(CodeParameterInvalidEmpty, "metadata", "Invalid metadata: keys must not be empty.")
		case utf8.RuneCountInString(k) > MaxMetadataKeyLength:
			return InvalidParam(CodeParameterInvalidString, "metadata",
				"Invalid metadata: keys can be at most %d characters long.", MaxMetadataKeyLength)
		case strings.ContainsAny(k, "[]"):
			return InvalidParam(CodeParameterInvalidString, "metadata",
				"Invalid metadata: keys cannot contain '[' or ']'.")
		case utf8.RuneCountInString(v) > MaxMetadataValueLength:
			return InvalidParam(CodeParameterInvalidString, "metadata["+k+"]",
				"Invalid metadata: values can be at most %d characters long.", MaxMetadataValueLength)
		}
	}
	return nil
}

func checkLength(param string, v *string, max int) error {
	if v != nil && utf8.RuneCountInString(*v) > max {
		return InvalidParam(CodeParameterInvalidString, param,
			"Invalid string: %s must be at most %d characters long.", param, max)
	}
	return nil
}

// validEmail accepts a bare address (no display name, no angle brackets) whose domain has a dot.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// NewCustomer returns a customer built from create parameters, with a new ID that sorts by now, in
// scope's mode.
// p must have passed Validate.
func NewCustomer(scope Scope, p *CustomerParams, now time.Time) (*Customer, error) {
	c := &Customer{
		ID:       NewTimeID("cus", now),
		Object:   "customer",
		Metadata: map[string]string{},
		Created:  now.Unix(),
		Livemode: scope.Livemode,
	}
	if err := c.Apply(p); err != nil {
		return nil, err
	}
	// The opening balance: the store records it as the customer's initial balance transaction.
	if p.Balance != nil && *p.Balance != 0 {
		if p.Currency == nil {
			return nil, InvalidParam(CodeParameterMissing, "currency",
				"Missing required param: currency, the currency of balance.")
		}
		c.Balance, c.Currency = *p.Balance, p.Currency
	}
	return c, nil
}

// Apply changes c as an update with p would: only the given fields, "" unsets, metadata merges.
// It fails, leaving c unchanged, if the merged metadata would exceed MaxMetadataKeys.
func (c *Customer) Apply(p *CustomerParams) error {
	metadata, err := mergeMetadata(c.Metadata, p.Metadata, p.ClearMetadata)
	if err != nil {
		return err
	}
	c.Metadata = metadata
	setOptional(&c.Name, p.Name)
	setOptional(&c.Email, p.Email)
	setOptional(&c.Phone, p.Phone)
	setOptional(&c.DefaultPaymentMethod, p.DefaultPaymentMethod)
	if c.DefaultPaymentMethod == nil {
		setOptional(&c.DefaultPaymentMethod, p.PaymentMethodID)
	}
	c.Address = applyAddress(c.Address, p.Address)
	return nil
}

// applyAddress returns an address as an update with a leaves it: nil a leaves it as it is, a.Unset
// removes it, and each given field is set ("" unsets it). An address left with no field is nil.
func applyAddress(current *Address, a *AddressParams) *Address {
	if a == nil {
		return current
	}
	var addr Address
	if current != nil && !a.Unset {
		addr = *current
	}
	setOptional(&addr.Line1, a.Line1)
	setOptional(&addr.Line2, a.Line2)
	setOptional(&addr.City, a.City)
	setOptional(&addr.State, a.State)
	setOptional(&addr.PostalCode, a.PostalCode)
	setOptional(&addr.Country, a.Country)
	if addr.Country != nil {
		country := strings.ToUpper(*addr.Country)
		addr.Country = &country
	}
	if addr.empty() {
		return nil
	}
	return &addr
}

// mergeMetadata returns an object's metadata as an update leaves it, for every object that has
// metadata: clear removes every key first, then set merges key by key, an empty value removing its key.
// current is not changed. It fails if the result would have more than MaxMetadataKeys keys.
func mergeMetadata(current, set map[string]string, clear bool) (map[string]string, error) {
	if !clear && len(set) == 0 {
		return current, nil
	}
	merged := map[string]string{}
	if !clear {
		maps.Copy(merged, current)
	}
	for k, v := range set {
		if v == "" {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	if len(merged) > MaxMetadataKeys {
		return nil, InvalidParam(CodeParameterInvalidString, "metadata",
			"Invalid metadata: an object can have at most %d metadata keys.", MaxMetadataKeys)
	}
	return merged, nil
}

// setOptional applies one optional parameter: nil leaves *field alone, "" unsets it.
func setOptional(field **string, v *string) {
	switch {
	case v == nil:
	case *v == "":
		*field = nil
	default:
		s := *v
		*field = &s
	}
}

// CustomerFilter selects a page of customers, newest first. At most one of StartingAfter and
// EndingBefore is set; both are customer IDs in the same scope.
type CustomerFilter struct {
	Limit         int // 1 to 100
	StartingAfter string
	EndingBefore  string
	Email         *string // exact address, compared case-insensitively
	Created       TimeRange
	Expand        []string // "default_payment_method" expands each one's default payment method
}

// TimeRange bounds a Unix-seconds timestamp. Nil bounds are open.
type TimeRange struct {
	Gt, Gte, Lt, Lte *int64
}

// List limits.
const (
	DefaultListLimit = 10
	MaxListLimit     = 100
)

// PageSize returns how many customers a page of f holds: Limit, or DefaultListLimit when Limit is zero.
// It fails for a limit outside 1 to MaxListLimit, or for both cursors at once: the HTTP layer rejects
// those with a parameter error before a store sees them, so here they are a caller's bug.
func (f CustomerFilter) PageSize() (int, error) {
	return pageSize(f.Limit, f.StartingAfter, f.EndingBefore)
}

// pageSize is PageSize for any list: limit, or DefaultListLimit when limit is zero.
func pageSize(limit int, startingAfter, endingBefore string) (int, error) {
	n := cmp.Or(limit, DefaultListLimit)
	if n < 1 || n > MaxListLimit {
		return 0, fmt.Errorf("list limit %d outside 1 to %d", limit, MaxListLimit)
	}
	if startingAfter != "" && endingBefore != "" {
		return 0, errors.New("list with both starting_after and ending_before")
	}
	return n, nil
}

// Inclusive returns r's bounds as an inclusive range, Gt and Lt folded into Gte and Lte (created > t is
// created >= t+1 on whole seconds): nil where r is open. empty is true when no time can match.
func (r TimeRange) Inclusive() (gte, lte *int64, empty bool) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if r.Gte != nil {
		lo = max(lo, *r.Gte)
	}
	if r.Gt != nil {
		if *r.Gt == math.MaxInt64 {
			return nil, nil, true
		}
		lo = max(lo, *r.Gt+1)
	}
	if r.Lte != nil {
		hi = min(hi, *r.Lte)
	}
	if r.Lt != nil {
		if *r.Lt == math.MinInt64 {
			return nil, nil, true
		}
		hi = min(hi, *r.Lt-1)
	}
	if lo > hi {
		return nil, nil, true
	}
	if r.Gte != nil || r.Gt != nil {
		gte = &lo
	}
	if r.Lte != nil || r.Lt != nil {
		lte = &hi
	}
	return gte, lte, false
}
