package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casapay/casapay/storetest"
)

// card is a form body for POST /v1/payment_methods with a card that expires next year.
func card(number string, extra ...string) string {
	return strings.Join(append([]string{"type=card", "card[number]=" + url.QueryEscape(number), "card[exp_month]=12",
		fmt.Sprintf("card[exp_year]=%d", time.Now().Year()+1)}, extra...), "&")
}

// createPaymentMethod creates a payment method and returns its decoded object.
func (e *env) createPaymentMethod(t *testing.T, form string) map[string]any {
	t.Helper()
	r := e.post(t, "/v1/payment_methods", form)
	mustStatus(t, r, http.StatusOK)
	return r.JSON(t)
}

// countPaymentMethods returns how many payment methods account A's test mode has.
func (e *env) countPaymentMethods(t *testing.T) int {
	t.Helper()
	r := e.get(t, "/v1/payment_methods?limit=100")
	mustStatus(t, r, http.StatusOK)
	return len(r.JSON(t)["data"].([]any))
}

// hash returns the object's hash named key.
func hash(t *testing.T, obj map[string]any, key string) map[string]any {
	t.Helper()
	h, ok := obj[key].(map[string]any)
	if !ok {
		t.Fatalf("%s is %v, not an object, in %v", key, obj[key], obj)
	}
	return h
}

func TestCreatePaymentMethod(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		pm := e.createPaymentMethod(t, card("4242 4242 4242 4242", "card[cvc]=123", "billing_details[name]=Jane Doe",
			"billing_details[address][country]=gb", "metadata[unit]=4B"))
		c := hash(t, pm, "card")
		if pm["object"] != "payment_method" || pm["type"] != "card" || !strings.HasPrefix(pm["id"].(string), "pm_") ||
			pm["customer"] != nil || pm["livemode"] != false || hash(t, pm, "metadata")["unit"] != "4B" {
			t.Errorf("created %v", pm)
		}
		if c["brand"] != "visa" || c["last4"] != "4242" || c["funding"] != "credit" || c["country"] != "US" ||
			c["exp_month"] != 12.0 || c["exp_year"] != float64(time.Now().Year()+1) || len(c["fingerprint"].(string)) != 16 {
			t.Errorf("card %v", c)
		}
		bd := hash(t, pm, "billing_details")
		if bd["name"] != "Jane Doe" || bd["email"] != nil || bd["phone"] != nil || hash(t, bd, "address")["country"] != "GB" {
			t.Errorf("billing_details %v", bd)
		}
		for _, other := range []string{"sepa_debit", "bacs_debit", "us_bank_account"} {
			if _, ok := pm[other]; ok {
				t.Errorf("a card payment method has %s", other)
			}
		}
		if got := e.get(t, "/v1/payment_methods/"+pm["id"].(string)).JSON(t); got["id"] != pm["id"] || hash(t, got, "card")["last4"] != "4242" {
			t.Errorf("retrieve answered %v", got)
		}

		// The same number gives the same fingerprint in one account, and another in another account.
		again := e.createPaymentMethod(t, card("4242424242424242"))
		if hash(t, again, "card")["fingerprint"] != c["fingerprint"] {
			t.Errorf("same card, fingerprints %v and %v", hash(t, again, "card")["fingerprint"], c["fingerprint"])
		}
		r := e.do(t, request{Method: "POST", Path: "/v1/payment_methods", Key: e.OtherKey, Body: card("4242424242424242")})
		mustStatus(t, r, http.StatusOK)
		if fp := hash(t, r.JSON(t), "card")["fingerprint"]; fp == c["fingerprint"] {
			t.Errorf("two accounts share the fingerprint %v", fp)
		}
		if mc := e.createPaymentMethod(t, card("5555555555554444")); hash(t, mc, "card")["fingerprint"] == c["fingerprint"] {
			t.Errorf("two cards share a fingerprint")
		}

		tests := []struct {
			form, hash string
			want       map[string]any
		}{
			{"type=card&card[number]=378282246310005&card[exp_month]=1&card[exp_year]=2070&card[cvc]=1234", "card",
				map[string]any{"brand": "amex", "last4": "0005", "exp_year": 2070.0}},
			{"type=card&card[number]=5105105105105100&card[exp_month]=1&card[exp_year]=30", "card",
				map[string]any{"brand": "mastercard", "funding": "prepaid", "exp_year": 2030.0}},
			{"type=card&card[number]=6011981111111113&card[exp_month]=1&card[exp_year]=2070", "card",
				map[string]any{"brand": "discover", "funding": "debit"}},
			{"type=card&card[number]=36227206271667&card[exp_month]=1&card[exp_year]=2070", "card", map[string]any{"brand": "diners"}},
			{"type=card&card[number]=3566002020360505&card[exp_month]=1&card[exp_year]=2070", "card", map[string]any{"brand": "jcb"}},
			{"type=card&card[number]=6205500000000000004&card[exp_month]=1&card[exp_year]=2070", "card", map[string]any{"brand": "unionpay"}},
			{"type=sepa_debit&sepa_debit[iban]=DE89 3704 0044 0532 0130 00", "sepa_debit",
				map[string]any{"bank_code": "37040044", "country": "DE", "last4": "3000"}},
			{"type=sepa_debit&sepa_debit[iban]=fr1420041010050500013m02606", "sepa_debit",
				map[string]any{"bank_code": "20041", "country": "FR", "last4": "2606"}},
			{"type=bacs_debit&bacs_debit[sort_code]=10-88-00&bacs_debit[account_number]=00012345", "bacs_debit",
				map[string]any{"sort_code": "108800", "last4": "2345"}},
			{"type=us_bank_account&us_bank_account[routing_number]=110000000&us_bank_account[account_number]=000123456789", "us_bank_account",
				map[string]any{"routing_number": "110000000", "last4": "6789", "bank_name": "STRIPE TEST BANK",
					"account_type": "checking", "account_holder_type": "individual"}},
			{"type=us_bank_account&us_bank_account[routing_number]=021000021&us_bank_account[account_number]=1234567" +
				"&us_bank_account[account_type]=savings&us_bank_account[account_holder_type]=company", "us_bank_account",
				map[string]any{"bank_name": nil, "account_type": "savings", "account_holder_type": "company", "last4": "4567"}},
		}
		for _, tt := range tests {
			pm := e.createPaymentMethod(t, tt.form)
			h := hash(t, pm, tt.hash)
			if pm["type"] != tt.hash {
				t.Errorf("%s: type %v", tt.form, pm["type"])
			}
			for k, v := range tt.want {
				if h[k] != v {
					t.Errorf("%s: %s[%s] = %v, want %v", tt.form, tt.hash, k, h[k], v)
				}
			}
			if fp, _ := h["fingerprint"].(string); len(fp) != 16 {
				t.Errorf("%s: fingerprint %q", tt.form, fp)
			}
		}

		// Idempotency: a retry answers the same payment method; the same key with another number (which
		// the request's fingerprint knows only by its fingerprint) is a mismatch.
		idem := func(form string) *response {
			return e.do(t, request{Method: "POST", Path: "/v1/payment_methods", Key: e.TestKey, Body: form,
				Header: map[string]string{"Idempotency-Key": "pm-create-1"}})
		}
		first := idem(card("4242424242424242"))
		mustStatus(t, first, http.StatusOK)
		retry := idem(card("4242424242424242"))
		if retry.Header.Get("Idempotent-Replayed") != "true" || retry.JSON(t)["id"] != first.JSON(t)["id"] {
			t.Errorf("retry answered %s", retry.Body)
		}
		other := idem(card("4000056655665556"))
		mustStatus(t, other, http.StatusBadRequest)
		if got := other.Error(t); got.Type != "idempotency_error" {
			t.Errorf("another number under the same key: %+v", got)
		}

		// Test and live mode fingerprint with different keys: what is tried in test mode matches nothing live.
		const realIBAN = "type=sepa_debit&sepa_debit[iban]=GB33BUKB20201555555555"
		testFP := hash(t, e.createPaymentMethod(t, realIBAN), "sepa_debit")["fingerprint"]
		r = e.do(t, request{Method: "POST", Path: "/v1/payment_methods", Key: e.LiveKey, Body: realIBAN})
		mustStatus(t, r, http.StatusOK)
		if liveFP := hash(t, r.JSON(t), "sepa_debit")["fingerprint"]; liveFP == testFP {
			t.Errorf("one IBAN has the fingerprint %v in both modes", liveFP)
		}

		// Creating records no event, as at Stripe.
		if n := len(e.listEvents(t, "")); n != 0 {
			t.Errorf("%d events after creating payment methods, want 0", n)
		}
	})
}

// TestPaymentMethodValidation holds every rule on raw details: each bad request answers its error, with
// its type, code and param, and writes nothing.
func TestPaymentMethodValidation(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		year := time.Now().Year()
		month := int(time.Now().Month())
		exp := fmt.Sprintf("&card[exp_month]=12&card[exp_year]=%d", year+1)
		tests := []struct {
			name, form     string
			live           bool
			status         int
			errType, code  string
			param, decline string
		}{
			{"no type", "card[number]=4242424242424242", false, 400, "invalid_request_error", "parameter_missing", "type", ""},
			{"unknown type", "type=paypal", false, 400, "invalid_request_error", "parameter_invalid_string", "type", ""},
			{"type without its hash", "type=card", false, 400, "invalid_request_error", "parameter_missing", "card", ""},
			{"another type's hash", card("4242424242424242") + "&sepa_debit[iban]=DE89370400440532013000", false, 400, "invalid_request_error", "parameter_unknown", "sepa_debit", ""},
			{"unknown card field", card("4242424242424242", "card[pin]=1234"), false, 400, "invalid_request_error", "parameter_unknown", "card[pin]", ""},
			{"no number", "type=card" + exp, false, 400, "invalid_request_error", "parameter_missing", "card[number]", ""},
			{"letters in the number", card("4242x42424242424"), false, 402, "card_error", "invalid_number", "card[number]", ""},
			{"dashes in the number", card("4242-4242-4242-4242"), false, 402, "card_error", "invalid_number", "card[number]", ""},
			{"too short for visa", card("42424242424242"), false, 402, "card_error", "invalid_number", "card[number]", ""},
			{"too long for amex", card("3782822463100050"), false, 402, "card_error", "invalid_number", "card[number]", ""},
			{"fails Luhn", card("4242424242424241"), false, 402, "card_error", "incorrect_number", "card[number]", ""},
			{"no exp_month", "type=card&card[number]=4242424242424242&card[exp_year]=2070", false, 400, "invalid_request_error", "parameter_missing", "card[exp_month]", ""},
			{"no exp_year", "type=card&card[number]=4242424242424242&card[exp_month]=1", false, 400, "invalid_request_error", "parameter_missing", "card[exp_year]", ""},
			{"month 13", "type=card&card[number]=4242424242424242&card[exp_month]=13&card[exp_year]=2070", false, 402, "card_error", "invalid_expiry_month", "card[exp_month]", ""},
			{"month 0", "type=card&card[number]=4242424242424242&card[exp_month]=0&card[exp_year]=2070", false, 402, "card_error", "invalid_expiry_month", "card[exp_month]", ""},
			{"year past", fmt.Sprintf("type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=%d", year-1), false, 402, "card_error", "invalid_expiry_year", "card[exp_year]", ""},
			{"year far ahead", "type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2999", false, 402, "card_error", "invalid_expiry_year", "card[exp_year]", ""},
			{"cvc of 2 digits", card("4242424242424242", "card[cvc]=12"), false, 402, "card_error", "invalid_cvc", "card[cvc]", ""},
			{"cvc of letters", card("4242424242424242", "card[cvc]=abc"), false, 402, "card_error", "invalid_cvc", "card[cvc]", ""},
			{"amex cvc of 3 digits", card("378282246310005", "card[cvc]=123"), false, 402, "card_error", "invalid_cvc", "card[cvc]", ""},
			{"visa cvc of 4 digits", card("4242424242424242", "card[cvc]=1234"), false, 402, "card_error", "invalid_cvc", "card[cvc]", ""},
			{"exp_month not an integer", "type=card&card[number]=4242424242424242&card[exp_month]=may&card[exp_year]=2070", false, 400, "invalid_request_error", "parameter_invalid_integer", "card[exp_month]", ""},
			{"real card in test mode", card("4111111111111111"), false, 402, "card_error", "card_declined", "card[number]", "test_mode_live_card"},
			{"test card in live mode", card("4242424242424242"), true, 402, "card_error", "card_declined", "", "live_mode_test_card"},
			{"IBAN missing", "type=sepa_debit&sepa_debit[iban]=", false, 400, "invalid_request_error", "parameter_missing", "sepa_debit[iban]", ""},
			{"IBAN of no SEPA country", "type=sepa_debit&sepa_debit[iban]=US89370400440532013000", false, 400, "invalid_request_error", "invalid_bank_account_iban", "sepa_debit[iban]", ""},
			{"IBAN of the wrong length", "type=sepa_debit&sepa_debit[iban]=DE8937040044053201300", false, 400, "invalid_request_error", "invalid_bank_account_iban", "sepa_debit[iban]", ""},
			{"IBAN failing mod-97", "type=sepa_debit&sepa_debit[iban]=DE89370400440532013001", false, 400, "invalid_request_error", "invalid_bank_account_iban", "sepa_debit[iban]", ""},
			{"IBAN with letters for check digits", "type=sepa_debit&sepa_debit[iban]=DEA5370400440532013000", false, 400, "invalid_request_error", "invalid_bank_account_iban", "sepa_debit[iban]", ""},
			{"IBAN with check digits 00", "type=sepa_debit&sepa_debit[iban]=DE00370400440532013000", false, 400, "invalid_request_error", "invalid_bank_account_iban", "sepa_debit[iban]", ""},
			{"German IBAN with a letter", "type=sepa_debit&sepa_debit[iban]=DE8937040044053201300A", false, 400, "invalid_request_error", "invalid_bank_account_iban", "sepa_debit[iban]", ""},
			{"all zeros", card("000000000000"), false, 402, "card_error", "incorrect_number", "card[number]", ""},
			{"unknown network in live mode", card("9000000000000001"), true, 402, "card_error", "invalid_number", "card[number]", ""},
			{"routing of zeros", "type=us_bank_account&us_bank_account[routing_number]=000000000&us_bank_account[account_number]=000123456789", false, 400, "invalid_request_error", "routing_number_invalid", "us_bank_account[routing_number]", ""},
			{"IBAN with punctuation", "type=sepa_debit&sepa_debit[iban]=DE89-3704-0044-0532-0130", false, 400, "invalid_request_error", "invalid_bank_account_iban", "sepa_debit[iban]", ""},
			{"test IBAN in live mode", "type=sepa_debit&sepa_debit[iban]=DE89370400440532013000", true, 400, "invalid_request_error", "live_mode_test_bank_account", "sepa_debit[iban]", ""},
			{"sort code of 5 digits", "type=bacs_debit&bacs_debit[sort_code]=10880&bacs_debit[account_number]=00012345", false, 400, "invalid_request_error", "invalid_sort_code", "bacs_debit[sort_code]", ""},
			{"no sort code", "type=bacs_debit&bacs_debit[account_number]=00012345", false, 400, "invalid_request_error", "parameter_missing", "bacs_debit[sort_code]", ""},
			{"bacs account of 7 digits", "type=bacs_debit&bacs_debit[sort_code]=108800&bacs_debit[account_number]=0012345", false, 400, "invalid_request_error", "invalid_bank_account_number", "bacs_debit[account_number]", ""},
			{"routing checksum", "type=us_bank_account&us_bank_account[routing_number]=110000001&us_bank_account[account_number]=000123456789", false, 400, "invalid_request_error", "routing_number_invalid", "us_bank_account[routing_number]", ""},
			{"routing of 8 digits", "type=us_bank_account&us_bank_account[routing_number]=11000000&us_bank_account[account_number]=000123456789", false, 400, "invalid_request_error", "routing_number_invalid", "us_bank_account[routing_number]", ""},
			{"US account of 3 digits", "type=us_bank_account&us_bank_account[routing_number]=110000000&us_bank_account[account_number]=123", false, 400, "invalid_request_error", "account_number_invalid", "us_bank_account[account_number]", ""},
			{"account_type", "type=us_bank_account&us_bank_account[routing_number]=110000000&us_bank_account[account_number]=000123456789&us_bank_account[account_type]=loan", false, 400, "invalid_request_error", "parameter_invalid_string", "us_bank_account[account_type]", ""},
			{"account_holder_type", "type=us_bank_account&us_bank_account[routing_number]=110000000&us_bank_account[account_number]=000123456789&us_bank_account[account_holder_type]=trust", false, 400, "invalid_request_error", "parameter_invalid_string", "us_bank_account[account_holder_type]", ""},
			{"billing email", card("4242424242424242", "billing_details[email]=nope"), false, 400, "invalid_request_error", "email_invalid", "billing_details[email]", ""},
			{"billing country", card("4242424242424242", "billing_details[address][country]=XX"), false, 400, "invalid_request_error", "parameter_invalid_string", "billing_details[address][country]", ""},
			{"billing unknown field", card("4242424242424242", "billing_details[fax]=1"), false, 400, "invalid_request_error", "parameter_unknown", "billing_details[fax]", ""},
		}
		if month > 1 {
			tests = append(tests, struct {
				name, form     string
				live           bool
				status         int
				errType, code  string
				param, decline string
			}{"expired this year", fmt.Sprintf("type=card&card[number]=4242424242424242&card[exp_month]=%d&card[exp_year]=%d", month-1, year),
				false, 402, "card_error", "invalid_expiry_month", "card[exp_month]", ""})
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				key := e.TestKey
				if tt.live {
					key = e.LiveKey
				}
				r := e.do(t, request{Method: "POST", Path: "/v1/payment_methods", Key: key, Body: tt.form})
				mustStatus(t, r, tt.status)
				got := r.Error(t)
				if got.Type != tt.errType || got.Code != tt.code || got.Param != tt.param || got.DeclineCode != tt.decline {
					t.Errorf("error = %+v, want type %s code %s param %q decline_code %q", got, tt.errType, tt.code, tt.param, tt.decline)
				}
			})
		}
		if n := e.countPaymentMethods(t); n != 0 {
			t.Errorf("%d payment methods after rejected creates, want 0", n)
		}
		r := e.do(t, request{Method: "GET", Path: "/v1/payment_methods", Key: e.LiveKey})
		if n := len(r.JSON(t)["data"].([]any)); n != 0 {
			t.Errorf("%d live payment methods after rejected creates, want 0", n)
		}
	})
}

// TestTestTokens attaches every test token that attaches, and checks that each decline token answers
// its decline and writes nothing, wherever a payment method ID is accepted.
func TestTestTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		cus := e.createCustomer(t, "name=Jane")["id"].(string)
		for token, want := range map[string][2]string{
			"pm_card_visa": {"visa", "credit"}, "pm_card_visa_debit": {"visa", "debit"},
			"pm_card_mastercard": {"mastercard", "credit"}, "pm_card_mastercard_debit": {"mastercard", "debit"},
			"pm_card_mastercard_prepaid": {"mastercard", "prepaid"}, "pm_card_amex": {"amex", "credit"},
			"pm_card_discover": {"discover", "credit"}, "pm_card_diners": {"diners", "credit"},
			"pm_card_jcb": {"jcb", "credit"}, "pm_card_unionpay": {"unionpay", "credit"},
			"pm_card_chargeCustomerFail": {"visa", "credit"},
		} {
			r := e.post(t, "/v1/payment_methods/"+token+"/attach", "customer="+cus)
			mustStatus(t, r, http.StatusOK)
			pm := r.JSON(t)
			c := hash(t, pm, "card")
			if id := pm["id"].(string); id == token || !strings.HasPrefix(id, "pm_") || pm["customer"] != cus {
				t.Errorf("%s attached as %v", token, pm)
			}
			if c["brand"] != want[0] || c["funding"] != want[1] {
				t.Errorf("%s: brand %v funding %v, want %v", token, c["brand"], c["funding"], want)
			}
		}
		// Each use of a token makes a new payment method.
		first := e.post(t, "/v1/payment_methods/pm_card_visa/attach", "customer="+cus).JSON(t)["id"]
		second := e.post(t, "/v1/payment_methods/pm_card_visa/attach", "customer="+cus).JSON(t)["id"]
		if first == second {
			t.Errorf("two uses of pm_card_visa gave one payment method %v", first)
		}
		attached := len(e.get(t, "/v1/customers/"+cus+"/payment_methods?limit=100").JSON(t)["data"].([]any))
		if attached != 13 {
			t.Errorf("customer has %d payment methods, want 13", attached)
		}
		events := len(e.listEvents(t, "limit=100"))
		allPMs := func() int { return len(e.get(t, "/v1/payment_methods?limit=100").JSON(t)["data"].([]any)) }
		all := allPMs()

		declines := []struct{ token, code, decline string }{
			{"pm_card_visa_chargeDeclined", "card_declined", "generic_decline"},
			{"pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"},
			{"pm_card_visa_chargeDeclinedLostCard", "card_declined", "lost_card"},
			{"pm_card_visa_chargeDeclinedStolenCard", "card_declined", "stolen_card"},
			{"pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"},
			{"pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"},
			{"pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"},
		}
		for _, d := range declines {
			for _, req := range []struct{ path, form string }{
				{"/v1/payment_methods/" + d.token + "/attach", "customer=" + cus},
				{"/v1/customers", "name=New&payment_method=" + d.token},
				{"/v1/customers/" + cus, "name=Changed&default_payment_method=" + d.token},
			} {
				r := e.post(t, req.path, req.form)
				mustStatus(t, r, http.StatusPaymentRequired)
				if got := r.Error(t); got.Type != "card_error" || got.Code != d.code || got.DeclineCode != d.decline {
					t.Errorf("%s %s: error %+v, want card_error %s/%s", req.path, req.form, got, d.code, d.decline)
				}
			}
		}
		if n := allPMs(); n != all {
			t.Errorf("declined tokens left payment methods behind: %d in the account, want %d", n, all)
		}
		// The raw decline numbers create a payment method, which then cannot be attached.
		pm := e.createPaymentMethod(t, card("4000000000009995"))["id"].(string)
		r := e.post(t, "/v1/payment_methods/"+pm+"/attach", "customer="+cus)
		mustStatus(t, r, http.StatusPaymentRequired)
		if got := r.Error(t); got.DeclineCode != "insufficient_funds" {
			t.Errorf("attach of a declining card: %+v", got)
		}
		if n := len(e.get(t, "/v1/customers/"+cus+"/payment_methods?limit=100").JSON(t)["data"].([]any)); n != attached {
			t.Errorf("declines changed the customer's payment methods: %d, want %d", n, attached)
		}
		if n := e.countCustomers(t); n != 1 {
			t.Errorf("%d customers after declined creates, want 1", n)
		}
		if got := e.get(t, "/v1/customers/"+cus).JSON(t); got["name"] != "Jane" {
			t.Errorf("declined updates changed the customer: %v", got)
		}
		if n := len(e.listEvents(t, "limit=100")); n != events {
			t.Errorf("%d events after declines, want %d", n, events)
		}

		// In live mode no token works.
		r = e.do(t, request{Method: "POST", Path: "/v1/customers", Key: e.LiveKey, Body: "payment_method=pm_card_visa"})
		mustStatus(t, r, http.StatusPaymentRequired)
		if got := r.Error(t); got.Code != "card_declined" || got.DeclineCode != "live_mode_test_card" || got.Param != "payment_method" {
			t.Errorf("live token: %+v", got)
		}
		// A real number is accepted in live mode, and reduced.
		r = e.do(t, request{Method: "POST", Path: "/v1/payment_methods", Key: e.LiveKey, Body: card("4111 1111 1111 1111")})
		mustStatus(t, r, http.StatusOK)
		if c := hash(t, r.JSON(t), "card"); c["brand"] != "visa" || c["last4"] != "1111" || c["funding"] != "unknown" || c["country"] != nil {
			t.Errorf("live card %v", c)
		}
	})
}

// TestReferenceCustomerWithPaymentMethod is the reference's example: a customer created with
// payment_method=pm_card_visa has a real default payment method, a visa ending 4242.
func TestReferenceCustomerWithPaymentMethod(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		c := e.createCustomer(t, "name=Jane Doe&email=jane.doe@example.com&payment_method=pm_card_visa")
		pmID, _ := c["default_payment_method"].(string)
		if !strings.HasPrefix(pmID, "pm_") || pmID == "pm_card_visa" {
			t.Fatalf("default_payment_method = %v, want a new pm_ ID", c["default_payment_method"])
		}
		pm := e.get(t, "/v1/payment_methods/"+pmID).JSON(t)
		if cd := hash(t, pm, "card"); cd["brand"] != "visa" || cd["last4"] != "4242" || pm["customer"] != c["id"] {
			t.Errorf("default payment method %v", pm)
		}
		types := fieldOf(e.listEvents(t, ""), "type")
		if len(types) != 2 || types[0] != "payment_method.attached" || types[1] != "customer.created" {
			t.Errorf("events newest first = %v, want payment_method.attached, customer.created", types)
		}

		// expand[] returns the object on create, retrieve, update and list.
		id := c["id"].(string)
		checkExpanded := func(name string, obj map[string]any) {
			t.Helper()
			if pm, ok := obj["default_payment_method"].(map[string]any); !ok || pm["id"] != pmID || pm["object"] != "payment_method" {
				t.Errorf("%s: default_payment_method = %v, want the expanded %s", name, obj["default_payment_method"], pmID)
			}
		}
		checkExpanded("retrieve", e.get(t, "/v1/customers/"+id+"?expand[]=default_payment_method").JSON(t))
		checkExpanded("update", e.post(t, "/v1/customers/"+id, "phone=1&expand[0]=default_payment_method").JSON(t))
		amex := e.createCustomer(t, "payment_method=pm_card_amex&expand[]=default_payment_method")
		if pm := hash(t, amex, "default_payment_method"); hash(t, pm, "card")["brand"] != "amex" || pm["customer"] != amex["id"] {
			t.Errorf("create: default_payment_method = %v, want the expanded amex", pm)
		}
		list := e.get(t, "/v1/customers?expand[]=data.default_payment_method").JSON(t)["data"].([]any)
		checkExpanded("list", list[len(list)-1].(map[string]any))
		// The update's event shows the customer unexpanded.
		if ev := e.listEvents(t, "type=customer.updated")[0]; hash(t, hash(t, ev, "data"), "object")["default_payment_method"] != pmID {
			t.Errorf("customer.updated shows %v", ev)
		}
		if got := e.get(t, "/v1/payment_methods/"+pmID+"?expand[]=customer").JSON(t); hash(t, got, "customer")["id"] != id {
			t.Errorf("expand customer: %v", got["customer"])
		}
	})
}

func TestAttachDetach(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		jane := e.createCustomer(t, "name=Jane")["id"].(string)
		john := e.createCustomer(t, "name=John")["id"].(string)
		pm := e.createPaymentMethod(t, card("4242424242424242"))["id"].(string)

		// An unattached payment method cannot be updated or detached.
		for _, path := range []string{"/v1/payment_methods/" + pm, "/v1/payment_methods/" + pm + "/detach"} {
			r := e.post(t, path, "")
			mustStatus(t, r, http.StatusBadRequest)
			if got := r.Error(t); got.Code != "payment_method_unexpected_state" {
				t.Errorf("%s unattached: %+v", path, got)
			}
		}
		r := e.post(t, "/v1/payment_methods/"+pm+"/attach", "customer="+jane)
		mustStatus(t, r, http.StatusOK)
		if r.JSON(t)["customer"] != jane {
			t.Errorf("attach answered %s", r.Body)
		}
		events := len(e.listEvents(t, "limit=100"))
		// Attaching to the same customer again changes nothing.
		mustStatus(t, e.post(t, "/v1/payment_methods/"+pm+"/attach", "customer="+jane), http.StatusOK)
		if n := len(e.listEvents(t, "limit=100")); n != events {
			t.Errorf("attaching again recorded %d events", n-events)
		}
		// Another customer cannot take it.
		r = e.post(t, "/v1/payment_methods/"+pm+"/attach", "customer="+john)
		mustStatus(t, r, http.StatusBadRequest)
		if got := r.Error(t); got.Code != "payment_method_unexpected_state" {
			t.Errorf("attach elsewhere: %+v", got)
		}
		// Attach errors: missing customer, missing payment method, no customer given.
		for _, tt := range []struct {
			path, form  string
			status      int
			code, param string
		}{
			{"/v1/payment_methods/" + pm + "/attach", "customer=cus_0000000000000000000000000", 400, "resource_missing", "customer"},
			{"/v1/payment_methods/" + pm + "/attach", "", 400, "parameter_missing", "customer"},
			{"/v1/payment_methods/" + pm + "/attach", "customer=nope", 400, "parameter_invalid_string", "customer"},
			{"/v1/payment_methods/pm_0000000000000000000000000/attach", "customer=" + jane, 404, "resource_missing", "id"},
			{"/v1/payment_methods/pm_card_nonsense/attach", "customer=" + jane, 404, "resource_missing", "id"},
		} {
			r := e.post(t, tt.path, tt.form)
			mustStatus(t, r, tt.status)
			if got := r.Error(t); got.Code != tt.code || got.Param != tt.param {
				t.Errorf("%s %s: %+v, want %s on %s", tt.path, tt.form, got, tt.code, tt.param)
			}
		}

		// The default must be attached to that customer; "" unsets it.
		r = e.post(t, "/v1/customers/"+john, "default_payment_method="+pm)
		mustStatus(t, r, http.StatusBadRequest)
		if got := r.Error(t); got.Code != "resource_missing" || got.Param != "default_payment_method" {
			t.Errorf("default of another customer's: %+v", got)
		}
		if got := e.post(t, "/v1/customers/"+jane, "default_payment_method="+pm).JSON(t); got["default_payment_method"] != pm {
			t.Errorf("default not set: %v", got)
		}
		ev := e.listEvents(t, "type=customer.updated")[0]
		if prev := hash(t, hash(t, ev, "data"), "previous_attributes"); len(prev) != 1 || prev["default_payment_method"] != nil {
			t.Errorf("previous_attributes %v", prev)
		}
		// A test token as the default is attached first.
		withToken := e.post(t, "/v1/customers/"+john, "default_payment_method=pm_card_mastercard").JSON(t)
		johnPM, _ := withToken["default_payment_method"].(string)
		if got := e.get(t, "/v1/payment_methods/"+johnPM).JSON(t); got["customer"] != john {
			t.Errorf("token default not attached: %v", got)
		}
		if got := e.post(t, "/v1/customers/"+john, "default_payment_method=").JSON(t); got["default_payment_method"] != nil {
			t.Errorf("default not unset: %v", got)
		}

		// Updates change billing details, metadata and expiry, and record payment_method.updated.
		r = e.post(t, "/v1/payment_methods/"+pm, "billing_details[name]=Jane Doe&metadata[k]=v&card[exp_month]=6&card[exp_year]=2031")
		mustStatus(t, r, http.StatusOK)
		got := r.JSON(t)
		if hash(t, got, "billing_details")["name"] != "Jane Doe" || hash(t, got, "card")["exp_month"] != 6.0 || hash(t, got, "card")["exp_year"] != 2031.0 {
			t.Errorf("update answered %v", got)
		}
		ev = e.listEvents(t, "type=payment_method.updated")[0]
		if prev := hash(t, hash(t, ev, "data"), "previous_attributes"); hash(t, prev, "card")["exp_month"] != 12.0 || hash(t, prev, "billing_details")["name"] != nil {
			t.Errorf("payment_method.updated previous_attributes %v", prev)
		}
		r = e.post(t, "/v1/payment_methods/"+pm, "card[exp_month]=13")
		mustStatus(t, r, http.StatusPaymentRequired)
		if now := time.Now(); now.Month() > 1 {
			// Each half of an expiry is checked with the other half as stored.
			mustStatus(t, e.post(t, "/v1/payment_methods/"+pm, fmt.Sprintf("card[exp_year]=%d&card[exp_month]=12", now.Year())), http.StatusOK)
			r = e.post(t, "/v1/payment_methods/"+pm, "card[exp_month]=1")
			mustStatus(t, r, http.StatusPaymentRequired)
			if got := r.Error(t); got.Code != "invalid_expiry_month" {
				t.Errorf("month in the past: %+v", got)
			}
			if got := hash(t, e.get(t, "/v1/payment_methods/"+pm).JSON(t), "card"); got["exp_month"] != 12.0 {
				t.Errorf("rejected update changed the card: %v", got)
			}
		}
		r = e.post(t, "/v1/payment_methods/"+pm, "card[number]=4242424242424242")
		mustStatus(t, r, http.StatusBadRequest)
		sepa := e.createPaymentMethod(t, "type=sepa_debit&sepa_debit[iban]=DE89370400440532013000")["id"].(string)
		mustStatus(t, e.post(t, "/v1/payment_methods/"+sepa+"/attach", "customer="+jane), http.StatusOK)
		r = e.post(t, "/v1/payment_methods/"+sepa, "card[exp_month]=1")
		mustStatus(t, r, http.StatusBadRequest)

		// Detaching the default unsets it in the same write, with both events.
		r = e.post(t, "/v1/payment_methods/"+pm+"/detach", "")
		mustStatus(t, r, http.StatusOK)
		if r.JSON(t)["customer"] != nil {
			t.Errorf("detach answered %s", r.Body)
		}
		if got := e.get(t, "/v1/customers/"+jane).JSON(t); got["default_payment_method"] != nil {
			t.Errorf("default after detaching it: %v", got["default_payment_method"])
		}
		types := fieldOf(e.listEvents(t, "limit=2"), "type")
		if len(types) != 2 || types[0] != "customer.updated" || types[1] != "payment_method.detached" {
			t.Errorf("events after detach = %v", types)
		}
		// A detached payment method can never be attached again, nor detached twice.
		r = e.post(t, "/v1/payment_methods/"+pm+"/attach", "customer="+jane)
		mustStatus(t, r, http.StatusBadRequest)
		mustStatus(t, e.post(t, "/v1/payment_methods/"+pm+"/detach", ""), http.StatusBadRequest)

		// Deleting a customer detaches its payment methods.
		mustStatus(t, e.del(t, "/v1/customers/"+jane), http.StatusOK)
		if got := e.get(t, "/v1/payment_methods/"+sepa).JSON(t); got["customer"] != nil {
			t.Errorf("payment method of a deleted customer: %v", got)
		}
		if got := fieldOf(e.listEvents(t, "limit=2"), "type"); got[0] != "payment_method.detached" || got[1] != "customer.deleted" {
			t.Errorf("events after delete = %v", got)
		}
		mustStatus(t, e.get(t, "/v1/customers/"+jane+"/payment_methods"), http.StatusNotFound)
	})
}

func TestPaymentMethodLists(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		jane := e.createCustomer(t, "name=Jane")["id"].(string)
		var cards, all []string
		for i := range 5 {
			form := card("4242424242424242")
			if i%2 == 1 {
				form = "type=sepa_debit&sepa_debit[iban]=DE89370400440532013000"
			}
			id := e.createPaymentMethod(t, form)["id"].(string)
			if i < 4 {
				mustStatus(t, e.post(t, "/v1/payment_methods/"+id+"/attach", "customer="+jane), http.StatusOK)
				all = append([]string{id}, all...)
				if i%2 == 0 {
					cards = append([]string{id}, cards...)
				}
			}
		}
		base := "/v1/customers/" + jane + "/payment_methods"
		if got := ids(t, e.get(t, base)); fmt.Sprint(got) != fmt.Sprint(all) {
			t.Errorf("customer's list = %v, want %v newest first", got, all)
		}
		if got := ids(t, e.get(t, base+"?type=card")); fmt.Sprint(got) != fmt.Sprint(cards) {
			t.Errorf("cards = %v, want %v", got, cards)
		}
		if got := ids(t, e.get(t, "/v1/payment_methods?customer="+jane+"&type=card")); fmt.Sprint(got) != fmt.Sprint(cards) {
			t.Errorf("cards by query = %v, want %v", got, cards)
		}
		page := e.get(t, base+"?limit=2&starting_after="+all[0])
		if got := ids(t, page); fmt.Sprint(got) != fmt.Sprint(all[1:3]) || !hasMore(t, page) {
			t.Errorf("page after %s = %v (has_more %v), want %v", all[0], got, hasMore(t, page), all[1:3])
		}
		if got := ids(t, e.get(t, base+"?ending_before="+all[3])); fmt.Sprint(got) != fmt.Sprint(all[:3]) {
			t.Errorf("page before %s = %v", all[3], got)
		}
		if n := len(ids(t, e.get(t, "/v1/payment_methods"))); n != 5 {
			t.Errorf("all payment methods: %d, want 5", n)
		}
		r := e.get(t, base+"/"+all[0]+"?expand[]=customer")
		mustStatus(t, r, http.StatusOK)
		if hash(t, r.JSON(t), "customer")["id"] != jane {
			t.Errorf("customer's payment method %s", r.Body)
		}
		if list := e.get(t, base+"?expand[]=data.customer").JSON(t)["data"].([]any); hash(t, list[0].(map[string]any), "customer")["id"] != jane {
			t.Errorf("expanded list %v", list[0])
		}
		john := e.createCustomer(t, "name=John")["id"].(string)
		mustStatus(t, e.get(t, "/v1/customers/"+john+"/payment_methods/"+all[0]), http.StatusNotFound)
		for _, bad := range []struct{ path, param string }{
			{base + "?type=paypal", "type"}, {base + "?customer=" + jane, "customer"}, {base + "?starting_after=cus_1", "starting_after"},
			{"/v1/payment_methods?customer=x", "customer"}, {base + "?limit=0", "limit"}, {base + "?expand[]=customer", "expand[0]"},
		} {
			r := e.get(t, bad.path)
			mustStatus(t, r, http.StatusBadRequest)
			if got := r.Error(t); got.Param != bad.param {
				t.Errorf("%s: param %q, want %q", bad.path, got.Param, bad.param)
			}
		}
		mustStatus(t, e.get(t, "/v1/payment_methods?customer=cus_0000000000000000000000000"), http.StatusNotFound)
		mustStatus(t, e.get(t, base+"?starting_after=pm_0000000000000000000000000"), http.StatusNotFound)
	})
}

// TestPaymentMethodIsolation: another account, and the other mode, see no payment method of account
// A's test mode: each answers as if it did not exist.
func TestPaymentMethodIsolation(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		jane := e.createCustomer(t, "name=Jane")["id"].(string)
		pm := e.post(t, "/v1/payment_methods/pm_card_visa/attach", "customer="+jane).JSON(t)["id"].(string)
		for _, key := range []string{e.OtherKey, e.LiveKey} {
			for _, req := range []request{
				{Method: "GET", Path: "/v1/payment_methods/" + pm},
				{Method: "POST", Path: "/v1/payment_methods/" + pm, Body: "metadata[k]=v"},
				{Method: "POST", Path: "/v1/payment_methods/" + pm + "/detach"},
				{Method: "GET", Path: "/v1/customers/" + jane + "/payment_methods"},
				{Method: "GET", Path: "/v1/customers/" + jane + "/payment_methods/" + pm},
			} {
				req.Key = key
				mustStatus(t, e.do(t, req), http.StatusNotFound)
			}
			other := e.do(t, request{Method: "POST", Path: "/v1/customers", Key: key}).JSON(t)["id"].(string)
			mustStatus(t, e.do(t, request{Method: "POST", Path: "/v1/payment_methods/" + pm + "/attach", Key: key, Body: "customer=" + other}), http.StatusNotFound)
			r := e.do(t, request{Method: "GET", Path: "/v1/payment_methods", Key: key})
			if n := len(ids(t, r)); n != 0 {
				t.Errorf("another scope lists %d payment methods", n)
			}
		}
		if got := e.get(t, "/v1/payment_methods/"+pm).JSON(t); got["customer"] != jane || len(hash(t, got, "metadata")) != 0 {
			t.Errorf("payment method changed from another scope: %v", got)
		}
	})
}

// TestCustomerPaymentMethodLimit: a customer holds at most 500 payment methods.
func TestCustomerPaymentMethodLimit(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		jane := e.createCustomer(t, "name=Jane")["id"].(string)
		for range 500 {
			r := e.doUnchecked(t, request{Method: "POST", Path: "/v1/payment_methods/pm_card_visa/attach", Key: e.TestKey, Body: "customer=" + jane})
			mustStatus(t, r, http.StatusOK)
		}
		r := e.post(t, "/v1/payment_methods/pm_card_visa/attach", "customer="+jane)
		mustStatus(t, r, http.StatusBadRequest)
		if got := r.Error(t); got.Code != "customer_max_payment_methods" {
			t.Errorf("501st attach: %+v", got)
		}
		r = e.post(t, "/v1/customers/"+jane, "default_payment_method=pm_card_visa")
		mustStatus(t, r, http.StatusBadRequest)
		// Deleting the customer detaches all 500 in one write.
		mustStatus(t, e.del(t, "/v1/customers/"+jane), http.StatusOK)
		if n := len(e.listEvents(t, "type=payment_method.detached&limit=100")); n != 100 {
			t.Errorf("%d detached events on the first page, want 100", n)
		}
	})
}

// TestEveryTestCard: each test card the README lists creates a payment method in test mode, with its
// network, funding and country, and attaches, or (the decline cards) answers its decline on attach.
// The table is written out here from Stripe's testing page, apart from the one CasaPay keeps, so a typo
// in either shows.
func TestEveryTestCard(t *testing.T) {
	forEachStore(t, func(t *testing.T, open storetest.Opener) {
		e := newEnv(t, open)
		cus := e.createCustomer(t, "name=Jane")["id"].(string)
		for _, c := range []struct{ number, brand, funding, country, decline string }{
			{"4242424242424242", "visa", "credit", "US", ""},
			{"4000056655665556", "visa", "debit", "US", ""},
			{"5555555555554444", "mastercard", "credit", "US", ""},
			{"2223003122003222", "mastercard", "credit", "US", ""},
			{"5200828282828210", "mastercard", "debit", "US", ""},
			{"5105105105105100", "mastercard", "prepaid", "US", ""},
			{"378282246310005", "amex", "credit", "US", ""},
			{"371449635398431", "amex", "credit", "US", ""},
			{"6011111111111117", "discover", "credit", "US", ""},
			{"6011000990139424", "discover", "credit", "US", ""},
			{"6011981111111113", "discover", "debit", "US", ""},
			{"3056930009020004", "diners", "credit", "US", ""},
			{"36227206271667", "diners", "credit", "US", ""},
			{"3566002020360505", "jcb", "credit", "US", ""},
			{"6200000000000005", "unionpay", "credit", "US", ""},
			{"6200000000000047", "unionpay", "debit", "US", ""},
			{"6205500000000000004", "unionpay", "credit", "US", ""},
			{"4000008260000000", "visa", "credit", "GB", ""},
			{"4000002760000016", "visa", "credit", "DE", ""},
			{"4000002500000003", "visa", "credit", "FR", ""},
			{"4000000400000008", "visa", "credit", "AT", ""},
			{"4000000000000341", "visa", "credit", "US", ""},
			{"4000000000000002", "visa", "credit", "US", "generic_decline"},
			{"4000000000009995", "visa", "credit", "US", "insufficient_funds"},
			{"4000000000009987", "visa", "credit", "US", "lost_card"},
			{"4000000000009979", "visa", "credit", "US", "stolen_card"},
			{"4000000000000069", "visa", "credit", "US", "expired_card"},
			{"4000000000000127", "visa", "credit", "US", "incorrect_cvc"},
			{"4000000000000119", "visa", "credit", "US", "processing_error"},
		} {
			pm := e.createPaymentMethod(t, card(c.number))
			got, _ := pm["card"].(map[string]any)
			if got["brand"] != c.brand || got["funding"] != c.funding || got["country"] != c.country || got["last4"] != c.number[len(c.number)-4:] {
				t.Errorf("%s: card %v, want %s %s from %s", c.number, got, c.brand, c.funding, c.country)
			}
			r := e.post(t, "/v1/payment_methods/"+pm["id"].(string)+"/attach", "customer="+cus)
			switch {
			case c.decline == "":
				mustStatus(t, r, http.StatusOK)
			case r.Status != http.StatusPaymentRequired || r.Error(t).DeclineCode != c.decline:
				t.Errorf("%s: attach answered %d %s, want 402 %s", c.number, r.Status, r.Body, c.decline)
			}
		}
	})
}
