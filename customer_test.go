package casapay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// metadataOf returns n distinct metadata pairs, keys "k00", "k01", ….
func metadataOf(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("k%02d", i)] = "v"
	}
	return m
}

// invalid is the error Validate and Apply return for a bad parameter; its message is free text.
func invalid(code, param string) *Error {
	return &Error{Type: ErrorTypeInvalidRequest, Code: code, Param: param}
}

// checkError fails the test unless err is a *Error with want's Type, Code, Param and Status and a
// non-empty message, or both are nil.
func checkError(t *testing.T, call string, err error, want *Error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s = %v, want nil", call, err)
		}
		return
	}
	var got *Error
	if !errors.As(err, &got) {
		t.Fatalf("%s = %v (%T), want *Error %s/%s", call, err, err, want.Code, want.Param)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Error{}, "Message")); diff != "" {
		t.Errorf("%s error mismatch (-want +got):\n%s", call, diff)
	}
	if got.Message == "" {
		t.Errorf("%s message = \"\", want a description", call)
	}
}

func TestCustomerParamsValidate(t *testing.T) {
	const (
		eAcute = "é" // two bytes, one character
		emoji  = "😀" // four bytes, one character
		arabic = "٣" // two bytes, one character (ARABIC-INDIC DIGIT THREE)
	)
	type test struct {
		name string
		p    CustomerParams
		want *Error // nil: valid
	}
	tests := []test{
		{name: "empty", p: CustomerParams{}},
		{name: "every field unset", p: CustomerParams{
			Name: new(""), Email: new(""), Phone: new(""),
			Address:  &AddressParams{Line1: new(""), Line2: new(""), City: new(""), State: new(""), PostalCode: new(""), Country: new("")},
			Metadata: map[string]string{"k": ""}, ClearMetadata: true,
		}},
		{name: "typical", p: CustomerParams{
			Name: new("Jane Doe"), Email: new("jane@example.com"), Phone: new("+44 20 7946 0958"),
			Address:  &AddressParams{Line1: new("1 Main St"), City: new("London"), PostalCode: new("SW1A 1AA"), Country: new("gb")},
			Metadata: map[string]string{"unit": "4B"},
		}},

		{name: "name 256 ASCII", p: CustomerParams{Name: new(strings.Repeat("a", 256))}},
		{name: "name 257 ASCII", p: CustomerParams{Name: new(strings.Repeat("a", 257))},
			want: invalid(CodeParameterInvalidString, "name")},
		{name: "name 256 two-byte", p: CustomerParams{Name: new(strings.Repeat(eAcute, 256))}},
		{name: "name 257 two-byte", p: CustomerParams{Name: new(strings.Repeat(eAcute, 257))},
			want: invalid(CodeParameterInvalidString, "name")},
		{name: "name 256 four-byte", p: CustomerParams{Name: new(strings.Repeat(emoji, 256))}},
		{name: "name 257 four-byte", p: CustomerParams{Name: new(strings.Repeat(emoji, 257))},
			want: invalid(CodeParameterInvalidString, "name")},

		{name: "email 512 ASCII", p: CustomerParams{Email: new(strings.Repeat("a", 507) + "@x.io")}},
		{name: "email 513 ASCII", p: CustomerParams{Email: new(strings.Repeat("a", 508) + "@x.io")},
			want: invalid(CodeParameterInvalidString, "email")},
		{name: "email 512 two-byte", p: CustomerParams{Email: new(strings.Repeat(eAcute, 507) + "@x.io")}},
		{name: "email 513 two-byte", p: CustomerParams{Email: new(strings.Repeat(eAcute, 508) + "@x.io")},
			want: invalid(CodeParameterInvalidString, "email")},

		{name: "phone 20 ASCII", p: CustomerParams{Phone: new(strings.Repeat("1", 20))}},
		{name: "phone 21 ASCII", p: CustomerParams{Phone: new(strings.Repeat("1", 21))},
			want: invalid(CodeParameterInvalidString, "phone")},
		{name: "phone 20 two-byte", p: CustomerParams{Phone: new(strings.Repeat(arabic, 20))}},
		{name: "phone 21 two-byte", p: CustomerParams{Phone: new(strings.Repeat(arabic, 21))},
			want: invalid(CodeParameterInvalidString, "phone")},

		{name: "metadata 50 keys", p: CustomerParams{Metadata: metadataOf(50)}},
		{name: "metadata 51 keys", p: CustomerParams{Metadata: metadataOf(51)},
			want: invalid(CodeParameterInvalidString, "metadata")},
		{name: "metadata 51 keys all deletions", p: CustomerParams{Metadata: func() map[string]string {
			m := metadataOf(51)
			for k := range m {
				m[k] = ""
			}
			return m
		}()}, want: invalid(CodeParameterInvalidString, "metadata")},
		{name: "metadata key 40 ASCII", p: CustomerParams{Metadata: map[string]string{strings.Repeat("k", 40): "v"}}},
		{name: "metadata key 41 ASCII", p: CustomerParams{Metadata: map[string]string{strings.Repeat("k", 41): "v"}},
			want: invalid(CodeParameterInvalidString, "metadata")},
		{name: "metadata key 40 two-byte", p: CustomerParams{Metadata: map[string]string{strings.Repeat(eAcute, 40): "v"}}},
		{name: "metadata key 41 two-byte", p: CustomerParams{Metadata: map[string]string{strings.Repeat(eAcute, 41): "v"}},
			want: invalid(CodeParameterInvalidString, "metadata")},
		{name: "metadata value 500 ASCII", p: CustomerParams{Metadata: map[string]string{"k": strings.Repeat("v", 500)}}},
		{name: "metadata value 501 ASCII", p: CustomerParams{Metadata: map[string]string{"k": strings.Repeat("v", 501)}},
			want: invalid(CodeParameterInvalidString, "metadata[k]")},
		{name: "metadata value 500 four-byte", p: CustomerParams{Metadata: map[string]string{"k": strings.Repeat(emoji, 500)}}},
		{name: "metadata value 501 four-byte", p: CustomerParams{Metadata: map[string]string{"k": strings.Repeat(emoji, 501)}},
			want: invalid(CodeParameterInvalidString, "metadata[k]")},
		{name: "metadata empty value", p: CustomerParams{Metadata: map[string]string{"k": ""}}},
		{name: "metadata empty key", p: CustomerParams{Metadata: map[string]string{"": "v"}},
			want: invalid(CodeParameterInvalidEmpty, "metadata")},
		{name: "metadata key with [", p: CustomerParams{Metadata: map[string]string{"a[b": "v"}},
			want: invalid(CodeParameterInvalidString, "metadata")},
		{name: "metadata key with ]", p: CustomerParams{Metadata: map[string]string{"ab]": "v"}},
			want: invalid(CodeParameterInvalidString, "metadata")},
		{name: "metadata key nested", p: CustomerParams{Metadata: map[string]string{"a[b]": "v"}},
			want: invalid(CodeParameterInvalidString, "metadata")},
		{name: "metadata key with other punctuation", p: CustomerParams{Metadata: map[string]string{"a.b-c_d:e f": "v"}}},
	}

	addressFields := []struct {
		param string
		set   func(a *AddressParams, v string)
	}{
		{"line1", func(a *AddressParams, v string) { a.Line1 = &v }},
		{"line2", func(a *AddressParams, v string) { a.Line2 = &v }},
		{"city", func(a *AddressParams, v string) { a.City = &v }},
		{"state", func(a *AddressParams, v string) { a.State = &v }},
		{"postal_code", func(a *AddressParams, v string) { a.PostalCode = &v }},
	}
	for _, f := range addressFields {
		for _, r := range []string{"a", eAcute} {
			for _, n := range []int{200, 201} {
				var a AddressParams
				f.set(&a, strings.Repeat(r, n))
				tt := test{name: fmt.Sprintf("address %s %d×%q", f.param, n, r), p: CustomerParams{Address: &a}}
				if n > MaxAddressFieldLength {
					tt.want = invalid(CodeParameterInvalidString, "address["+f.param+"]")
				}
				tests = append(tests, tt)
			}
		}
	}
	// country has no valid value near 200 characters, so only the over-long case shows its limit.
	tests = append(tests, test{name: "address country 201", p: CustomerParams{Address: &AddressParams{Country: new(strings.Repeat("G", 201))}},
		want: invalid(CodeParameterInvalidString, "address[country]")})

	for _, email := range []string{
		"j@x.io",
		"J@X.IO",
		"jane.doe+rent@mail.example.co.uk",
		"o'brien@x.io",
		"é@x.io",
	} {
		tests = append(tests, test{name: "email " + email, p: CustomerParams{Email: new(email)}})
	}
	for _, email := range []string{
		"Jane <j@x.io>",
		"<j@x.io>",
		`"Jane" <j@x.io>`,
		"j@x.io (Jane)",
		"j@x",            // no dot in the domain
		"j@localhost",    // no dot in the domain
		"j@.x.io",        // domain starts with a dot
		"j@x.io.",        // domain ends with a dot
		"j@x..io",        // empty domain label
		".j@x.io",        // local part starts with a dot
		"j.@x.io",        // local part ends with a dot
		"jx.io",          // no @
		"@x.io",          // no local part
		"j@",             // no domain
		"j@@x.io",        // two @
		"j @x.io",        // space in the local part
		" j@x.io",        // surrounding space
		"j@x.io ",        // surrounding space
		"j@x.io, k@y.io", // two addresses
	} {
		tests = append(tests, test{name: "email " + email, p: CustomerParams{Email: new(email)},
			want: invalid(CodeEmailInvalid, "email")})
	}

	for _, country := range []string{"GB", "gb", "Gb", "gB", "US", "us", "FR", "AX", "ZW"} {
		tests = append(tests, test{name: "country " + country, p: CustomerParams{Address: &AddressParams{Country: new(country)}}})
	}
	for _, country := range []string{"XX", "xx", "GBR", "gbr", "G", "UK", "EU", "12", "G ", " G", "G\x00"} {
		tests = append(tests, test{name: fmt.Sprintf("country %q", country),
			p:    CustomerParams{Address: &AddressParams{Country: new(country)}},
			want: invalid(CodeParameterInvalidString, "address[country]")})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, "Validate()", tt.p.Validate(), tt.want)
		})
	}
}

// testCustomer returns a customer with every field set.
func testCustomer() *Customer {
	return &Customer{
		ID:    "cus_0123456789abcdefghijABCD",
		Name:  new("Jane Doe"),
		Email: new("jane@example.com"),
		Phone: new("+442079460958"),
		Address: &Address{
			Line1: new("1 Main St"), Line2: new("Flat 4"), City: new("London"),
			State: new("Greater London"), PostalCode: new("SW1A 1AA"), Country: new("GB"),
		},
		DefaultPaymentMethod: new("pm_old"),
		Balance:              -1500,
		Currency:             new("gbp"),
		Metadata:             map[string]string{"a": "1", "b": "2"},
		Created:              1700000000,
		Livemode:             true,
	}
}

func TestCustomerApply(t *testing.T) {
	tests := []struct {
		name   string
		before func(c *Customer) // changes testCustomer() into the starting customer; nil: none
		p      CustomerParams
		want   func(c *Customer) // changes the starting customer into the expected result
	}{
		{name: "nothing given", p: CustomerParams{}, want: func(c *Customer) {}},
		{name: "empty metadata given", p: CustomerParams{Metadata: map[string]string{}}, want: func(c *Customer) {}},
		{name: "expand only", p: CustomerParams{Expand: []string{"default_payment_method"}}, want: func(c *Customer) {}},
		{
			name: "set fields",
			p:    CustomerParams{Name: new("Janet"), Email: new("janet@example.com"), Phone: new("+15555550100")},
			want: func(c *Customer) {
				c.Name, c.Email, c.Phone = new("Janet"), new("janet@example.com"), new("+15555550100")
			},
		},
		{
			name: "empty string unsets",
			p:    CustomerParams{Name: new(""), Email: new(""), Phone: new(""), DefaultPaymentMethod: new("")},
			want: func(c *Customer) { c.Name, c.Email, c.Phone, c.DefaultPaymentMethod = nil, nil, nil, nil },
		},
		{
			name:   "set fields that were unset",
			before: func(c *Customer) { c.Name, c.Email = nil, nil },
			p:      CustomerParams{Name: new("Jane"), Email: new("j@x.io")},
			want:   func(c *Customer) { c.Name, c.Email = new("Jane"), new("j@x.io") },
		},
		{
			name: "metadata merge",
			p:    CustomerParams{Metadata: map[string]string{"b": "20", "c": "3"}},
			want: func(c *Customer) { c.Metadata = map[string]string{"a": "1", "b": "20", "c": "3"} },
		},
		{
			name: "metadata empty value deletes",
			p:    CustomerParams{Metadata: map[string]string{"a": "", "c": "3"}},
			want: func(c *Customer) { c.Metadata = map[string]string{"b": "2", "c": "3"} },
		},
		{
			name: "metadata delete missing key",
			p:    CustomerParams{Metadata: map[string]string{"zz": ""}},
			want: func(c *Customer) {},
		},
		{
			name: "metadata delete every key",
			p:    CustomerParams{Metadata: map[string]string{"a": "", "b": ""}},
			want: func(c *Customer) { c.Metadata = map[string]string{} },
		},
		{
			name:   "metadata merge into nil",
			before: func(c *Customer) { c.Metadata = nil },
			p:      CustomerParams{Metadata: map[string]string{"c": "3"}},
			want:   func(c *Customer) { c.Metadata = map[string]string{"c": "3"} },
		},
		{
			name: "clear metadata",
			p:    CustomerParams{ClearMetadata: true},
			want: func(c *Customer) { c.Metadata = map[string]string{} },
		},
		{
			name: "clear metadata then add",
			p:    CustomerParams{ClearMetadata: true, Metadata: map[string]string{"a": "10", "c": "3", "d": ""}},
			want: func(c *Customer) { c.Metadata = map[string]string{"a": "10", "c": "3"} },
		},
		{
			name:   "metadata reaching 50 after merge",
			before: func(c *Customer) { c.Metadata = metadataOf(49) },
			p:      CustomerParams{Metadata: map[string]string{"new": "v", "k00": "changed"}},
			want: func(c *Customer) {
				c.Metadata = metadataOf(49)
				c.Metadata["new"] = "v"
				c.Metadata["k00"] = "changed"
			},
		},
		{
			name:   "metadata at 50 with one added and one deleted",
			before: func(c *Customer) { c.Metadata = metadataOf(50) },
			p:      CustomerParams{Metadata: map[string]string{"new": "v", "k00": ""}},
			want: func(c *Customer) {
				c.Metadata = metadataOf(50)
				c.Metadata["new"] = "v"
				delete(c.Metadata, "k00")
			},
		},
		{
			name:   "clear metadata then add 50",
			before: func(c *Customer) { c.Metadata = map[string]string{"old": "v"} },
			p:      CustomerParams{ClearMetadata: true, Metadata: metadataOf(50)},
			want:   func(c *Customer) { c.Metadata = metadataOf(50) },
		},
		{
			name: "address merge",
			p:    CustomerParams{Address: &AddressParams{City: new("Leeds"), PostalCode: new("LS1 1UR")}},
			want: func(c *Customer) { c.Address.City, c.Address.PostalCode = new("Leeds"), new("LS1 1UR") },
		},
		{
			name: "address field unset",
			p:    CustomerParams{Address: &AddressParams{Line2: new(""), State: new("")}},
			want: func(c *Customer) { c.Address.Line2, c.Address.State = nil, nil },
		},
		{
			name: "address given with no fields",
			p:    CustomerParams{Address: &AddressParams{}},
			want: func(c *Customer) {},
		},
		{
			name: "address unset",
			p:    CustomerParams{Address: &AddressParams{Unset: true}},
			want: func(c *Customer) { c.Address = nil },
		},
		{
			name: "address unset then set",
			p:    CustomerParams{Address: &AddressParams{Unset: true, City: new("Paris"), Country: new("fr")}},
			want: func(c *Customer) { c.Address = &Address{City: new("Paris"), Country: new("FR")} },
		},
		{
			name: "address every field unset turns nil",
			p: CustomerParams{Address: &AddressParams{
				Line1: new(""), Line2: new(""), City: new(""), State: new(""), PostalCode: new(""), Country: new(""),
			}},
			want: func(c *Customer) { c.Address = nil },
		},
		{
			name:   "address last field unset turns nil",
			before: func(c *Customer) { c.Address = &Address{City: new("London")} },
			p:      CustomerParams{Address: &AddressParams{City: new("")}},
			want:   func(c *Customer) { c.Address = nil },
		},
		{
			name:   "address given with no fields on a customer without one",
			before: func(c *Customer) { c.Address = nil },
			p:      CustomerParams{Address: &AddressParams{}},
			want:   func(c *Customer) {},
		},
		{
			name:   "address set on a customer without one",
			before: func(c *Customer) { c.Address = nil },
			p:      CustomerParams{Address: &AddressParams{Line1: new("9 Rue X"), Country: new("fr")}},
			want:   func(c *Customer) { c.Address = &Address{Line1: new("9 Rue X"), Country: new("FR")} },
		},
		{
			name: "country upper-cased",
			p:    CustomerParams{Address: &AddressParams{Country: new("ie")}},
			want: func(c *Customer) { c.Address.Country = new("IE") },
		},
		{
			name: "country mixed case upper-cased",
			p:    CustomerParams{Address: &AddressParams{Country: new("dE")}},
			want: func(c *Customer) { c.Address.Country = new("DE") },
		},
		{
			name:   "payment_method sets default when none",
			before: func(c *Customer) { c.DefaultPaymentMethod = nil },
			p:      CustomerParams{PaymentMethodID: new("pm_new")},
			want:   func(c *Customer) { c.DefaultPaymentMethod = new("pm_new") },
		},
		{
			name: "payment_method keeps existing default",
			p:    CustomerParams{PaymentMethodID: new("pm_new")},
			want: func(c *Customer) {},
		},
		{
			name:   "empty payment_method sets nothing",
			before: func(c *Customer) { c.DefaultPaymentMethod = nil },
			p:      CustomerParams{PaymentMethodID: new("")},
			want:   func(c *Customer) {},
		},
		{
			name: "default_payment_method replaces",
			p:    CustomerParams{DefaultPaymentMethod: new("pm_new")},
			want: func(c *Customer) { c.DefaultPaymentMethod = new("pm_new") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, want := testCustomer(), testCustomer()
			if tt.before != nil {
				tt.before(c)
				tt.before(want)
			}
			tt.want(want)
			if err := c.Apply(&tt.p); err != nil {
				t.Fatalf("Apply() = %v, want nil", err)
			}
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("customer after Apply() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCustomerApplyDoesNotKeepParams checks that changing the params after Apply leaves the customer alone:
// stores may keep the customer while the decoder's params are reused.
func TestCustomerApplyDoesNotKeepParams(t *testing.T) {
	c := testCustomer()
	p := CustomerParams{
		Name:     new("Janet"),
		Address:  &AddressParams{City: new("Leeds")},
		Metadata: map[string]string{"c": "3"},
	}
	if err := c.Apply(&p); err != nil {
		t.Fatalf("Apply() = %v, want nil", err)
	}
	*p.Name = "changed"
	*p.Address.City = "changed"
	p.Metadata["c"] = "changed"
	p.Metadata["d"] = "added"

	want := testCustomer()
	want.Name = new("Janet")
	want.Address.City = new("Leeds")
	want.Metadata["c"] = "3"
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("customer after changing params mismatch (-want +got):\n%s", diff)
	}
}

func TestCustomerApplyMetadataLimit(t *testing.T) {
	tests := []struct {
		name     string
		metadata map[string]string
		p        CustomerParams
	}{
		{
			name:     "one over after merge",
			metadata: metadataOf(50),
			p:        CustomerParams{Metadata: map[string]string{"new": "v"}},
		},
		{
			name:     "two params merged past the limit",
			metadata: metadataOf(30),
			p: CustomerParams{Metadata: func() map[string]string {
				m := map[string]string{}
				for i := range 21 {
					m[fmt.Sprintf("new%02d", i)] = "v"
				}
				return m
			}()},
		},
		{
			name:     "over with other fields given",
			metadata: metadataOf(50),
			p: CustomerParams{
				Name: new("Changed"), Email: new(""), DefaultPaymentMethod: new("pm_new"),
				Address:  &AddressParams{Unset: true, City: new("Paris")},
				Metadata: map[string]string{"new": "v", "k00": "changed"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, want := testCustomer(), testCustomer()
			c.Metadata, want.Metadata = tt.metadata, metadataOf(len(tt.metadata))
			err := c.Apply(&tt.p)
			checkError(t, "Apply()", err, invalid(CodeParameterInvalidString, "metadata"))
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("customer after failed Apply() changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewCustomer(t *testing.T) {
	now := time.Date(2025, 3, 30, 1, 30, 15, 999_999_999, time.FixedZone("UTC+9", 9*3600))
	tests := []struct {
		name  string
		scope Scope
		p     CustomerParams
		want  *Customer // ID is checked apart
	}{
		{
			name:  "test mode without params",
			scope: Scope{AccountID: "acct_1", Livemode: false},
			want:  &Customer{Object: "customer", Metadata: map[string]string{}, Created: now.Unix()},
		},
		{
			name:  "live mode",
			scope: Scope{AccountID: "acct_1", Livemode: true},
			want:  &Customer{Object: "customer", Metadata: map[string]string{}, Created: now.Unix(), Livemode: true},
		},
		{
			name:  "with params",
			scope: Scope{AccountID: "acct_1"},
			p: CustomerParams{
				Name: new("Jane"), Email: new("j@x.io"), Phone: new(""),
				Address:         &AddressParams{Line1: new("1 Main St"), Country: new("gb")},
				PaymentMethodID: new("pm_1"),
				Metadata:        map[string]string{"unit": "4B", "gone": ""},
			},
			want: &Customer{
				Object: "customer", Name: new("Jane"), Email: new("j@x.io"),
				Address:              &Address{Line1: new("1 Main St"), Country: new("GB")},
				DefaultPaymentMethod: new("pm_1"),
				Metadata:             map[string]string{"unit": "4B"},
				Created:              now.Unix(),
			},
		},
		{
			name:  "cleared metadata stays empty",
			scope: Scope{AccountID: "acct_1"},
			p:     CustomerParams{ClearMetadata: true},
			want:  &Customer{Object: "customer", Metadata: map[string]string{}, Created: now.Unix()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCustomer(tt.scope, &tt.p, now)
			if err != nil {
				t.Fatalf("NewCustomer() = %v, want nil", err)
			}
			if !strings.HasPrefix(c.ID, "cus_") || len(c.ID) != len("cus_")+24 || !ValidID("cus", c.ID) {
				t.Errorf("NewCustomer().ID = %q, want cus_ and 24 base62 characters", c.ID)
			}
			if c.Metadata == nil {
				t.Errorf("NewCustomer().Metadata = nil, want an empty map")
			}
			if diff := cmp.Diff(tt.want, c, cmpopts.IgnoreFields(Customer{}, "ID")); diff != "" {
				t.Errorf("NewCustomer() mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("new ID each time", func(t *testing.T) {
		a, err := NewCustomer(Scope{}, &CustomerParams{}, now)
		if err != nil {
			t.Fatalf("NewCustomer() = %v, want nil", err)
		}
		b, err := NewCustomer(Scope{}, &CustomerParams{}, now)
		if err != nil {
			t.Fatalf("NewCustomer() = %v, want nil", err)
		}
		if a.ID == b.ID {
			t.Errorf("two NewCustomer() IDs = %q and %q, want different", a.ID, b.ID)
		}
	})

	t.Run("too much metadata", func(t *testing.T) {
		c, err := NewCustomer(Scope{}, &CustomerParams{Metadata: metadataOf(51)}, now)
		checkError(t, "NewCustomer()", err, invalid(CodeParameterInvalidString, "metadata"))
		if c != nil {
			t.Errorf("NewCustomer() customer = %+v, want nil", c)
		}
	})
}

// jsonKeys returns the top-level keys of a JSON object, in order.
func jsonKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("first token of %s = %v, %v; want {", data, tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("read key of %s: %v", data, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("read value of %s: %v", data, err)
		}
	}
	return keys
}

func TestCustomerJSON(t *testing.T) {
	tests := []struct {
		name string
		c    *Customer
		want string
	}{
		{
			name: "every field set",
			c:    func() *Customer { c := testCustomer(); c.Deleted = true; return c }(),
			want: `{"id":"cus_0123456789abcdefghijABCD","object":"customer","name":"Jane Doe","email":"jane@example.com",` +
				`"phone":"+442079460958","address":{"line1":"1 Main St","line2":"Flat 4","city":"London",` +
				`"state":"Greater London","postal_code":"SW1A 1AA","country":"GB"},"default_payment_method":"pm_old",` +
				`"balance":-1500,"currency":"gbp","metadata":{"a":"1","b":"2"},"created":1700000000,"livemode":true}`,
		},
		{
			name: "nothing set",
			c:    &Customer{ID: "cus_1"},
			want: `{"id":"cus_1","object":"customer","name":null,"email":null,"phone":null,"address":null,` +
				`"default_payment_method":null,"balance":0,"currency":null,"metadata":{},"created":0,"livemode":false}`,
		},
		{
			name: "empty metadata map",
			c:    &Customer{ID: "cus_1", Object: "customer", Metadata: map[string]string{}},
			want: `{"id":"cus_1","object":"customer","name":null,"email":null,"phone":null,"address":null,` +
				`"default_payment_method":null,"balance":0,"currency":null,"metadata":{},"created":0,"livemode":false}`,
		},
		{
			name: "wrong object overridden",
			c:    &Customer{ID: "cus_1", Object: "account"},
			want: `{"id":"cus_1","object":"customer","name":null,"email":null,"phone":null,"address":null,` +
				`"default_payment_method":null,"balance":0,"currency":null,"metadata":{},"created":0,"livemode":false}`,
		},
		{
			name: "partial address",
			c:    &Customer{ID: "cus_1", Address: &Address{City: new("Leeds")}, Metadata: map[string]string{"k": "v"}},
			want: `{"id":"cus_1","object":"customer","name":null,"email":null,"phone":null,"address":{"line1":null,` +
				`"line2":null,"city":"Leeds","state":null,"postal_code":null,"country":null},` +
				`"default_payment_method":null,"balance":0,"currency":null,"metadata":{"k":"v"},"created":0,"livemode":false}`,
		},
	}
	wantKeys := []string{
		"id", "object", "name", "email", "phone", "address", "default_payment_method",
		"balance", "currency", "metadata", "created", "livemode",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []struct {
				kind string
				v    any
			}{{"pointer", tt.c}, {"value", *tt.c}, {"slice element", []*Customer{tt.c}}} {
				got, err := json.Marshal(v.v)
				if err != nil {
					t.Fatalf("json.Marshal(%s) = %v", v.kind, err)
				}
				want := tt.want
				if v.kind == "slice element" {
					want = "[" + want + "]"
				}
				if string(got) != want {
					t.Errorf("json.Marshal(%s) = %s, want %s", v.kind, got, want)
				}
			}
			got, err := json.Marshal(tt.c)
			if err != nil {
				t.Fatalf("json.Marshal() = %v", err)
			}
			if diff := cmp.Diff(wantKeys, jsonKeys(t, got)); diff != "" {
				t.Errorf("customer JSON keys mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCustomerJSONRoundTrip(t *testing.T) {
	want := testCustomer()
	want.Object = "customer"
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("json.Marshal() = %v", err)
	}
	var got Customer
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v", data, err)
	}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("customer after JSON round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestDeletedCustomerJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{name: "stub", v: testCustomer().Stub(), want: `{"id":"cus_0123456789abcdefghijABCD","object":"customer","deleted":true}`},
		{name: "stub of bare customer", v: (&Customer{ID: "cus_1"}).Stub(), want: `{"id":"cus_1","object":"customer","deleted":true}`},
		{name: "pointer", v: &DeletedCustomer{ID: "cus_1", Object: "customer", Deleted: true}, want: `{"id":"cus_1","object":"customer","deleted":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatalf("json.Marshal() = %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("json.Marshal() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestIsNotFound(t *testing.T) {
	notFound := NotFound("customer", "id", "cus_1")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "NotFound", err: notFound, want: true},
		{name: "resource_missing literal", err: &Error{Type: ErrorTypeInvalidRequest, Code: CodeResourceMissing}, want: true},
		{name: "wrapped", err: fmt.Errorf("find customer cus_1: %w", notFound), want: true},
		{name: "joined", err: errors.Join(errors.New("rollback"), notFound), want: true},
		{name: "nil", err: nil, want: false},
		{name: "invalid param", err: InvalidParam(CodeParameterInvalidString, "id", "bad"), want: false},
		{name: "idempotency in flight", err: ErrIdempotencyInFlight("k"), want: false},
		{name: "other error type", err: errors.New("resource_missing"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsNotFound(tt.err); got != tt.want {
				t.Errorf("IsNotFound(%v) = %t, want %t", tt.err, got, tt.want)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	got := NotFound("customer", "starting_after", "cus_1")
	want := &Error{
		Type: ErrorTypeInvalidRequest, Code: CodeResourceMissing, Param: "starting_after",
		Message: "No such customer: 'cus_1'", Status: 404,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NotFound() mismatch (-want +got):\n%s", diff)
	}
}

// isoCodes is an independent copy of the officially assigned ISO 3166-1 alpha-2 codes, taken from
// tzdata's iso3166.tab, so that a typo in country.go does not also appear here.
const isoCodes = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK
FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO
MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`

func TestValidCountry(t *testing.T) {
	codes := strings.Fields(isoCodes)
	if len(codes) != 249 {
		t.Fatalf("test list has %d codes, want 249", len(codes))
	}
	want := make(map[string]bool, len(codes))
	for _, c := range codes {
		want[c] = true
	}

	t.Run("every assigned code in any case", func(t *testing.T) {
		for _, c := range codes {
			for _, v := range []string{c, strings.ToLower(c), c[:1] + strings.ToLower(c[1:]), strings.ToLower(c[:1]) + c[1:]} {
				if !ValidCountry(v) {
					t.Errorf("ValidCountry(%q) = false, want true", v)
				}
			}
		}
	})

	// Every two-byte string, valid UTF-8 or not, so that no other pair (an unassigned code, a pair
	// straddling two codes in the list, a non-ASCII letter that upper-cases to ASCII) gets through.
	t.Run("every other two-byte string", func(t *testing.T) {
		n := 0
		for i := range 1 << 16 {
			s := string([]byte{byte(i >> 8), byte(i)})
			if !ValidCountry(s) {
				continue
			}
			n++
			if !want[strings.ToUpper(s)] {
				t.Errorf("ValidCountry(%q) = true, want false", s)
			}
		}
		if n != 4*249 {
			t.Errorf("ValidCountry is true for %d two-byte strings, want %d (249 codes in 4 cases)", n, 4*249)
		}
	})

	for _, s := range []string{"", "G", "g", "GBR", "gbr", "USA", "GB ", " GB", "GB\x00", "AD AE", "ı", "ſ", "K"} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			if ValidCountry(s) {
				t.Errorf("ValidCountry(%q) = true, want false", s)
			}
		})
	}
}
