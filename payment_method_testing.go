package casapay

// This file holds Stripe's test cards, test bank details and test tokens, so that the test suites
// integrators already run against Stripe run unchanged against CasaPay's test mode.

// testCard is what a test card number stands for.
type testCard struct {
	funding, country string
	decline          string // the decline_code attaching it answers with; "" attaches
}

// testCards are the card numbers of Stripe's testing page, by number.
var testCards = map[string]testCard{
	"4242424242424242":    {"credit", "US", ""},
	"4000056655665556":    {"debit", "US", ""},
	"5555555555554444":    {"credit", "US", ""},
	"2223003122003222":    {"credit", "US", ""},
	"5200828282828210":    {"debit", "US", ""},
	"5105105105105100":    {"prepaid", "US", ""},
	"378282246310005":     {"credit", "US", ""},
	"371449635398431":     {"credit", "US", ""},
	"6011111111111117":    {"credit", "US", ""},
	"6011000990139424":    {"credit", "US", ""},
	"6011981111111113":    {"debit", "US", ""},
	"3056930009020004":    {"credit", "US", ""},
	"36227206271667":      {"credit", "US", ""},
	"3566002020360505":    {"credit", "US", ""},
	"6200000000000005":    {"credit", "US", ""},
	"6200000000000047":    {"debit", "US", ""},
	"6205500000000000004": {"credit", "US", ""},
	"4000008260000000":    {"credit", "GB", ""},
	"4000002760000016":    {"credit", "DE", ""},
	"4000002500000003":    {"credit", "FR", ""},
	"4000000400000008":    {"credit", "AT", ""},
	"4000000000000341":    {"credit", "US", ""}, // attaches; a charge on it fails
	"4000000000000002":    {"credit", "US", "generic_decline"},
	"4000000000009995":    {"credit", "US", "insufficient_funds"},
	"4000000000009987":    {"credit", "US", "lost_card"},
	"4000000000009979":    {"credit", "US", "stolen_card"},
	"4000000000000069":    {"credit", "US", "expired_card"},
	"4000000000000127":    {"credit", "US", "incorrect_cvc"},
	"4000000000000119":    {"credit", "US", "processing_error"},
}

// testTokens are Stripe's payment method test tokens, with the test card each stands for.
var testTokens = map[string]string{
	"pm_card_visa":                                 "4242424242424242",
	"pm_card_visa_debit":                           "4000056655665556",
	"pm_card_mastercard":                           "5555555555554444",
	"pm_card_mastercard_debit":                     "5200828282828210",
	"pm_card_mastercard_prepaid":                   "5105105105105100",
	"pm_card_amex":                                 "378282246310005",
	"pm_card_discover":                             "6011111111111117",
	"pm_card_diners":                               "3056930009020004",
	"pm_card_jcb":                                  "3566002020360505",
	"pm_card_unionpay":                             "6200000000000005",
	"pm_card_chargeCustomerFail":                   "4000000000000341",
	"pm_card_visa_chargeDeclined":                  "4000000000000002",
	"pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
	"pm_card_visa_chargeDeclinedLostCard":          "4000000000009987",
	"pm_card_visa_chargeDeclinedStolenCard":        "4000000000009979",
	"pm_card_chargeDeclinedExpiredCard":            "4000000000000069",
	"pm_card_chargeDeclinedIncorrectCvc":           "4000000000000127",
	"pm_card_chargeDeclinedProcessingError":        "4000000000000119",
}

// testIBANs, testBacs (sort code and account number) and testUSBankAccounts (routing and account
// number) are the test bank details of Stripe's testing page.
var (
	testIBANs = map[string]bool{
		"DE89370400440532013000": true, "DE62370400440532013001": true, "AT611904300234573201": true,
		"FR1420041010050500013M02606": true, "NL39RABO0300065264": true, "ES0700120345030000067890": true,
		"IT40S0542811101000000123456": true, "BE62510007547061": true,
	}
	testBacs           = map[string]bool{"10880000012345": true, "10880090012345": true}
	testUSBankAccounts = map[string]bool{"110000000000123456789": true, "110000000000111111113": true}
	testBankNames      = map[string]string{"110000000": "STRIPE TEST BANK"}
)

// TestToken reports whether id is one of Stripe's payment method test tokens, such as pm_card_visa.
func TestToken(id string) bool {
	_, ok := testTokens[id]
	return ok
}

// testTokenNumber returns the test card number a test token stands for.
func testTokenNumber(token string) (string, bool) {
	n, ok := testTokens[token]
	return n, ok
}

// liveModeTestCard is the decline of a test card or token used in live mode.
func liveModeTestCard() *Error {
	e := CardError(CodeCardDeclined, "",
		"Your card was declined. Your request was in live mode, but used a known test card.")
	e.DeclineCode = "live_mode_test_card"
	return e
}

// declines are the card_error of each decline_code: its code and message, as Stripe answers them.
var declines = map[string]struct{ code, message string }{
	"generic_decline":    {CodeCardDeclined, "Your card was declined."},
	"insufficient_funds": {CodeCardDeclined, "Your card has insufficient funds."},
	"lost_card":          {CodeCardDeclined, "Your card was declined."},
	"stolen_card":        {CodeCardDeclined, "Your card was declined."},
	"expired_card":       {CodeExpiredCard, "Your card has expired."},
	"incorrect_cvc":      {CodeIncorrectCVC, "Your card's security code is incorrect."},
	"processing_error":   {CodeProcessingError, "An error occurred while processing your card. Try again in a little bit."},
}

// DeclineError returns the 402 card_error of a decline, by its decline_code.
func DeclineError(declineCode string) *Error {
	d, ok := declines[declineCode]
	if !ok {
		d = declines["generic_decline"]
	}
	param := ""
	if d.code == CodeIncorrectCVC {
		param = "cvc"
	}
	e := CardError(d.code, param, d.message)
	e.DeclineCode = declineCode
	return e
}

// ValidPaymentMethodID reports whether id can name a payment method: an ID or a test token, the forms
// a payment method parameter or path takes.
func ValidPaymentMethodID(id string) bool { return ValidID("pm", id) || TestToken(id) }
