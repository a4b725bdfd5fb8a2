package casapay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strings"
	"time"
)

// This file holds the hash of each payment method type and the parameters that make it, and checks raw
// card and bank details and reduces them to what a payment method keeps: the last four digits, what
// derives from the number, and a fingerprint. The raw numbers go no further.

// Payment method types.
const (
	PaymentMethodCard          = "card"
	PaymentMethodSepaDebit     = "sepa_debit"
	PaymentMethodBacsDebit     = "bacs_debit"
	PaymentMethodUSBankAccount = "us_bank_account"
)

// PaymentMethodTypes lists every payment method type.
var PaymentMethodTypes = []string{PaymentMethodCard, PaymentMethodSepaDebit, PaymentMethodBacsDebit, PaymentMethodUSBankAccount}

// Card is the card hash of a card payment method.
type Card struct {
	Brand       string  `json:"brand"`
	Country     *string `json:"country"`
	ExpMonth    int64   `json:"exp_month"`
	ExpYear     int64   `json:"exp_year"`
	Fingerprint string  `json:"fingerprint"`
	Funding     string  `json:"funding"`
	Last4       string  `json:"last4"`
}

// SepaDebit is the sepa_debit hash: a bank account in the Single Euro Payments Area, by IBAN.
type SepaDebit struct {
	BankCode    *string `json:"bank_code"`
	Country     string  `json:"country"`
	Fingerprint string  `json:"fingerprint"`
	Last4       string  `json:"last4"`
}

// BacsDebit is the bacs_debit hash: a UK bank account, by sort code and account number.
type BacsDebit struct {
	Fingerprint string `json:"fingerprint"`
	Last4       string `json:"last4"`
	SortCode    string `json:"sort_code"`
}

// USBankAccount is the us_bank_account hash: a US bank account, by ABA routing and account number.
type USBankAccount struct {
	AccountHolderType string  `json:"account_holder_type"`
	AccountType       string  `json:"account_type"`
	BankName          *string `json:"bank_name"`
	Fingerprint       string  `json:"fingerprint"`
	Last4             string  `json:"last4"`
	RoutingNumber     string  `json:"routing_number"`
}

// CardParams are card[…]. Number and CVC are never marshalled.
type CardParams struct {
	Number   string `json:"-"`
	CVC      string `json:"-"`
	ExpMonth *int64 `json:"exp_month,omitempty"`
	ExpYear  *int64 `json:"exp_year,omitempty"`
	// NumberFingerprint stands for Number in the JSON form (see Redacted).
	NumberFingerprint string `json:"number_fingerprint,omitempty"`
}

// SepaDebitParams are sepa_debit[…].
type SepaDebitParams struct {
	IBAN            string `json:"-"`
	IBANFingerprint string `json:"iban_fingerprint,omitempty"`
}

// BacsDebitParams are bacs_debit[…].
type BacsDebitParams struct {
	SortCode                 string `json:"sort_code,omitempty"`
	AccountNumber            string `json:"-"`
	AccountNumberFingerprint string `json:"account_number_fingerprint,omitempty"`
}

// USBankAccountParams are us_bank_account[…].
type USBankAccountParams struct {
	RoutingNumber            string `json:"routing_number,omitempty"`
	AccountNumber            string `json:"-"`
	AccountType              string `json:"account_type,omitempty"`
	AccountHolderType        string `json:"account_holder_type,omitempty"`
	AccountNumberFingerprint string `json:"account_number_fingerprint,omitempty"`
}

// Fingerprint returns the fingerprint of a card or account number of the given kind under key, an
// account's fingerprint key: the same number always gives the same fingerprint in one account, and
// without the key (which never leaves the database) nothing links it to the number or to another
// account's fingerprint of it.
func Fingerprint(key []byte, kind, number string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(kind + ":" + number))
	return hex.EncodeToString(mac.Sum(nil))[:16]
}

// digitsOnly returns s without spaces. Whether what remains is all digits is the caller's check.
func digitsOnly(s string) string { return strings.ReplaceAll(s, " ", "") }

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// luhn reports whether a string of digits passes the Luhn check.
func luhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// cardBrand returns the brand of a card number from its issuer identification number, and the lengths
// a number of that brand may have.
func cardBrand(n string) (brand string, lengths []int) {
	prefix := func(digits int) int {
		v := 0
		for i := range min(digits, len(n)) {
			v = v*10 + int(n[i]-'0')
		}
		return v
	}
	p2, p3, p4 := prefix(2), prefix(3), prefix(4)
	switch {
	case n[0] == '4':
		return "visa", []int{13, 16, 19}
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return "mastercard", []int{16}
	case p2 == 34, p2 == 37:
		return "amex", []int{15}
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65:
		return "discover", []int{16, 17, 18, 19}
	case p3 >= 300 && p3 <= 305, p4 == 3095, p2 == 36, p2 == 38, p2 == 39:
		return "diners", []int{14, 15, 16, 17, 18, 19}
	case p4 >= 3528 && p4 <= 3589:
		return "jcb", []int{16, 17, 18, 19}
	case p2 == 62, p2 == 81:
		return "unionpay", []int{16, 17, 18, 19}
	}
	return "unknown", []int{12, 13, 14, 15, 16, 17, 18, 19}
}

// checkCard checks card[…] of a create and returns the number, spaces removed.
func checkCard(c *CardParams, now time.Time) (string, error) {
	n := digitsOnly(c.Number)
	switch {
	case c.Number == "":
		return "", InvalidParam(CodeParameterMissing, "card[number]", "Missing required param: card[number].")
	case !allDigits(n):
		return "", CardError(CodeInvalidNumber, "card[number]", "Your card number is invalid: it can hold only digits and spaces.")
	}
	brand, lengths := cardBrand(n)
	okLength := false
	for _, l := range lengths {
		okLength = okLength || len(n) == l
	}
	switch {
	case !okLength:
		return "", CardError(CodeInvalidNumber, "card[number]", "Your card number is invalid: it has the wrong number of digits for its brand.")
	case !luhn(n) || strings.Trim(n, "0") == "":
		return "", CardError(CodeIncorrectNumber, "card[number]", "Your card number is incorrect.")
	case c.ExpMonth == nil:
		return "", InvalidParam(CodeParameterMissing, "card[exp_month]", "Missing required param: card[exp_month].")
	case c.ExpYear == nil:
		return "", InvalidParam(CodeParameterMissing, "card[exp_year]", "Missing required param: card[exp_year].")
	}
	if err := checkExpiry(c.ExpMonth, c.ExpYear, now); err != nil {
		return "", err
	}
	if c.CVC != "" {
		want := 3
		if brand == "amex" {
			want = 4
		}
		if len(c.CVC) != want || !allDigits(c.CVC) {
			return "", CardError(CodeInvalidCVC, "card[cvc]", "Your card's security code is invalid.")
		}
	}
	return n, nil
}

// fullYear reads a two-digit expiry year as this century's, as card forms print it.
func fullYear(y int64) int64 {
	if y >= 0 && y < 100 {
		return 2000 + y
	}
	return y
}

// checkExpiry checks an expiry month and year, either of which may be missing (an update gives one):
// the month is 1 to 12, the year at most 50 years ahead, and the expiry not before now's month.
func checkExpiry(month, year *int64, now time.Time) error {
	if month != nil && (*month < 1 || *month > 12) {
		return CardError(CodeInvalidExpiryMonth, "card[exp_month]", "Your card's expiration month is invalid.")
	}
	if year == nil {
		return nil
	}
	y := fullYear(*year)
	switch {
	case y < int64(now.Year()):
		return CardError(CodeInvalidExpiryYear, "card[exp_year]", "Your card's expiration year is in the past.")
	case y > int64(now.Year())+50:
		return CardError(CodeInvalidExpiryYear, "card[exp_year]", "Your card's expiration year is invalid.")
	case month != nil && y == int64(now.Year()) && *month < int64(now.Month()):
		return CardError(CodeInvalidExpiryMonth, "card[exp_month]", "Your card's expiration date is in the past.")
	}
	return nil
}

// newCard reduces a checked card to its hash. In test mode the number must be a test card's; in
// live mode it must not be.
func newCard(scope Scope, c *CardParams, key []byte, now time.Time) (*Card, string, error) {
	n, err := checkCard(c, now)
	if err != nil {
		return nil, "", err
	}
	test, isTest := testCards[n]
	brand, _ := cardBrand(n)
	switch {
	case scope.Livemode && brand == "unknown":
		return nil, "", CardError(CodeInvalidNumber, "card[number]", "Your card number is invalid: it belongs to no card network CasaPay accepts.")
	case scope.Livemode && isTest:
		return nil, "", liveModeTestCard()
	case !scope.Livemode && !isTest:
		e := CardError(CodeCardDeclined, "card[number]",
			"Your card was declined. Your request was in test mode, but used a non test card. For a list of valid test cards, see the README.")
		e.DeclineCode = "test_mode_live_card"
		return nil, "", e
	}
	card := &Card{Brand: brand, ExpMonth: *c.ExpMonth, ExpYear: fullYear(*c.ExpYear), Funding: "unknown",
		Fingerprint: Fingerprint(key, PaymentMethodCard, n), Last4: n[len(n)-4:]}
	if isTest {
		card.Funding, card.Country = test.funding, &test.country
	}
	return card, test.decline, nil
}

// ibanLengths is the length of an IBAN in each country of the Single Euro Payments Area.
var ibanLengths = map[string]int{
	"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
	"ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
	"IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
	"PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
}

// ibanBankCodes is where the national bank code sits in an IBAN's BBAN (the part after the check
// digits), for the countries whose layout is recorded here: its offset and length.
var ibanBankCodes = map[string][2]int{
	"AT": {0, 5}, "BE": {0, 3}, "CH": {0, 5}, "CY": {0, 3}, "CZ": {0, 4}, "DE": {0, 8}, "DK": {0, 4},
	"EE": {0, 2}, "ES": {0, 4}, "FI": {0, 3}, "FR": {0, 5}, "GB": {0, 4}, "GR": {0, 3}, "HR": {0, 7},
	"HU": {0, 3}, "IE": {0, 4}, "IS": {0, 4}, "IT": {1, 5}, "LI": {0, 5}, "LT": {0, 5}, "LU": {0, 3},
	"LV": {0, 4}, "MC": {0, 5}, "MT": {0, 4}, "NL": {0, 4}, "NO": {0, 4}, "PL": {0, 8}, "PT": {0, 4},
	"RO": {0, 4}, "SE": {0, 3}, "SI": {0, 5}, "SK": {0, 4}, "SM": {1, 5},
}

// numericBBAN holds the countries whose account part of an IBAN is digits only.
var numericBBAN = map[string]bool{
	"AT": true, "BE": true, "CZ": true, "DE": true, "DK": true, "EE": true, "ES": true, "FI": true, "HR": true,
	"HU": true, "IS": true, "LT": true, "NO": true, "PL": true, "PT": true, "SE": true, "SI": true, "SK": true,
}

// normalIBAN returns an IBAN without spaces, in upper case.
func normalIBAN(s string) string { return strings.ToUpper(strings.ReplaceAll(s, " ", "")) }

// checkIBAN checks sepa_debit[iban]: a SEPA country's length, letters and digits only, and the
// ISO 13616 mod-97 check. It returns the IBAN normalised.
func checkIBAN(raw string) (string, error) {
	const param = "sepa_debit[iban]"
	iban := normalIBAN(raw)
	if raw == "" {
		return "", InvalidParam(CodeParameterMissing, param, "Missing required param: %s.", param)
	}
	bad := func(why string) error {
		return InvalidParam("invalid_bank_account_iban", param, "The IBAN you provided is invalid: %s.", why)
	}
	if len(iban) < 4 {
		return "", bad("it is too short")
	}
	want, ok := ibanLengths[iban[:2]]
	switch {
	case !ok:
		return "", bad("it does not start with the code of a SEPA country")
	case len(iban) != want:
		return "", bad("it has the wrong length for its country")
	}
	if check := iban[2:4]; !allDigits(check) || check < "02" || check > "98" {
		return "", bad("its check digits must be two digits from 02 to 98")
	}
	if numericBBAN[iban[:2]] && !allDigits(iban[4:]) {
		return "", bad("after its check digits it can hold only digits in this country")
	}
	// Move the first four characters to the end, turn letters into 10 to 35, and take the remainder.
	var digits strings.Builder
	for _, r := range iban[4:] + iban[:4] {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			digits.WriteString(big.NewInt(int64(r - 'A' + 10)).String())
		default:
			return "", bad("it can hold only letters and digits")
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	if new(big.Int).Mod(n, big.NewInt(97)).Int64() != 1 {
		return "", bad("its check digits do not match")
	}
	return iban, nil
}

func newSepaDebit(scope Scope, p *SepaDebitParams, key []byte) (*SepaDebit, error) {
	iban, err := checkIBAN(p.IBAN)
	if err != nil {
		return nil, err
	}
	if err := checkTestBank(scope, testIBANs[iban], "sepa_debit[iban]"); err != nil {
		return nil, err
	}
	s := &SepaDebit{Country: iban[:2], Fingerprint: Fingerprint(key, PaymentMethodSepaDebit, iban), Last4: iban[len(iban)-4:]}
	if at, ok := ibanBankCodes[s.Country]; ok {
		code := iban[4+at[0] : 4+at[0]+at[1]]
		s.BankCode = &code
	}
	return s, nil
}

// checkBacs checks bacs_debit[…]: a sort code of 6 digits (dashes allowed) and an account number of 8.
func checkBacs(p *BacsDebitParams) error {
	sort := strings.ReplaceAll(p.SortCode, "-", "")
	switch {
	case p.SortCode == "":
		return InvalidParam(CodeParameterMissing, "bacs_debit[sort_code]", "Missing required param: bacs_debit[sort_code].")
	case len(sort) != 6 || !allDigits(sort):
		return InvalidParam("invalid_sort_code", "bacs_debit[sort_code]", "The sort code must be 6 digits.")
	case p.AccountNumber == "":
		return InvalidParam(CodeParameterMissing, "bacs_debit[account_number]", "Missing required param: bacs_debit[account_number].")
	case len(digitsOnly(p.AccountNumber)) != 8 || !allDigits(digitsOnly(p.AccountNumber)):
		return InvalidParam("invalid_bank_account_number", "bacs_debit[account_number]", "The account number must be 8 digits.")
	}
	return nil
}

func newBacsDebit(scope Scope, p *BacsDebitParams, key []byte) (*BacsDebit, error) {
	if err := checkBacs(p); err != nil {
		return nil, err
	}
	sort, account := strings.ReplaceAll(p.SortCode, "-", ""), digitsOnly(p.AccountNumber)
	if err := checkTestBank(scope, testBacs[sort+account], "bacs_debit[account_number]"); err != nil {
		return nil, err
	}
	return &BacsDebit{Fingerprint: Fingerprint(key, PaymentMethodBacsDebit, sort+account), Last4: account[4:], SortCode: sort}, nil
}

// abaChecksum reports whether a 9-digit ABA routing number passes its checksum: weights 3, 7, 1.
func abaChecksum(r string) bool {
	sum := 0
	for i := range 9 {
		sum += int(r[i]-'0') * [3]int{3, 7, 1}[i%3]
	}
	return sum%10 == 0
}

// abaPrefix reports whether a routing number's first two digits are a Federal Reserve district's
// (01–12), a thrift's (21–32), an electronic one's (61–72) or traveler's cheques' (80).
func abaPrefix(r string) bool {
	p := int(r[0]-'0')*10 + int(r[1]-'0')
	return (p >= 1 && p <= 12) || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p == 80
}

// checkUSBankAccount checks us_bank_account[…]: an ABA routing number, an account number of 4 to 17
// digits, and the account and holder types when given.
func checkUSBankAccount(p *USBankAccountParams) error {
	const pre = "us_bank_account"
	account := digitsOnly(p.AccountNumber)
	switch {
	case p.RoutingNumber == "":
		return InvalidParam(CodeParameterMissing, pre+"[routing_number]", "Missing required param: %s[routing_number].", pre)
	case len(p.RoutingNumber) != 9 || !allDigits(p.RoutingNumber) || !abaChecksum(p.RoutingNumber) || !abaPrefix(p.RoutingNumber):
		return InvalidParam("routing_number_invalid", pre+"[routing_number]", "The routing number you provided is invalid.")
	case p.AccountNumber == "":
		return InvalidParam(CodeParameterMissing, pre+"[account_number]", "Missing required param: %s[account_number].", pre)
	case len(account) < 4 || len(account) > 17 || !allDigits(account):
		return InvalidParam("account_number_invalid", pre+"[account_number]", "The account number must be 4 to 17 digits.")
	case p.AccountType != "" && p.AccountType != "checking" && p.AccountType != "savings":
		return InvalidParam(CodeParameterInvalidString, pre+"[account_type]", "Invalid account_type: must be checking or savings.")
	case p.AccountHolderType != "" && p.AccountHolderType != "individual" && p.AccountHolderType != "company":
		return InvalidParam(CodeParameterInvalidString, pre+"[account_holder_type]", "Invalid account_holder_type: must be individual or company.")
	}
	return nil
}

func newUSBankAccount(scope Scope, p *USBankAccountParams, key []byte) (*USBankAccount, error) {
	if err := checkUSBankAccount(p); err != nil {
		return nil, err
	}
	account := digitsOnly(p.AccountNumber)
	if err := checkTestBank(scope, testUSBankAccounts[p.RoutingNumber+account], "us_bank_account[account_number]"); err != nil {
		return nil, err
	}
	u := &USBankAccount{AccountHolderType: p.AccountHolderType, AccountType: p.AccountType,
		Fingerprint: Fingerprint(key, PaymentMethodUSBankAccount, p.RoutingNumber+account), Last4: account[len(account)-4:],
		RoutingNumber: p.RoutingNumber}
	if u.AccountHolderType == "" {
		u.AccountHolderType = "individual"
	}
	if u.AccountType == "" {
		u.AccountType = "checking"
	}
	if name, ok := testBankNames[p.RoutingNumber]; ok {
		u.BankName = &name
	}
	return u, nil
}

// checkTestBank refuses test bank details in live mode. Test mode takes any valid bank details: unlike
// a card, a bank account cannot be charged by knowing its number alone.
func checkTestBank(scope Scope, isTest bool, param string) error {
	if scope.Livemode && isTest {
		return InvalidParam("live_mode_test_bank_account", param,
			"Your request was in live mode, but used known test bank details.")
	}
	return nil
}
