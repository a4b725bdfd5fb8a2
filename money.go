package casapay

import (
	"strings"

	"golang.org/x/text/currency"
)

// This file holds what every amount of money obeys, whatever holds it: its bounds and its currency.

// MaxBalance bounds every balance transaction's amount and every customer's balance, either way, in
// minor units: ±10^12 (ten billion pounds), far beyond any tenancy, and far inside int64.
const MaxBalance = 1_000_000_000_000

// CheckCurrency checks that code, given in param, is a lower-case ISO 4217 currency code.
func CheckCurrency(param, code string) error {
	if u, err := currency.ParseISO(code); err != nil || code != strings.ToLower(u.String()) {
		return InvalidParam(CodeParameterInvalidString, param,
			"Invalid currency: it must be a lower-case ISO 4217 code, such as gbp or usd.")
	}
	return nil
}
