package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/casapay/casapay"
)

// The fuzz tests hold the decoders to one promise: whatever arrives, the result is either params that
// pass Validate or an invalid_request_error a client can read, and never a panic. The seeds are what
// stripe-go and curl send, plus inputs that once broke a decoder.

// checkDecodeFailure checks that err is an error a client may see about its own request.
func checkDecodeFailure(t *testing.T, err error) {
	t.Helper()
	var e *casapay.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *casapay.Error", err, err)
	}
	if e.Type != casapay.ErrorTypeInvalidRequest {
		t.Errorf("error type = %q, want %q", e.Type, casapay.ErrorTypeInvalidRequest)
	}
	if e.Message == "" {
		t.Errorf("error message is empty")
	}
	if e.Status != 0 && e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("error status = %d, want 400 or 413", e.Status)
	}
	// The error is encoded as JSON, which would silently mangle bytes that are not UTF-8.
	if !utf8.ValidString(e.Message) || !utf8.ValidString(e.Param) {
		t.Errorf("error %q (param %q) is not valid UTF-8", e.Message, e.Param)
	}
}

// checkDecodedParams checks a create or update decoder's result.
func checkDecodedParams(t *testing.T, p *casapay.CustomerParams, err error) {
	t.Helper()
	if err != nil {
		checkDecodeFailure(t, err)
		return
	}
	if err := p.Validate(); err != nil {
		t.Errorf("decoded params fail Validate: %v", err)
	}
	for _, e := range p.Expand {
		if e != "default_payment_method" {
			t.Errorf("decoded expand %q", e)
		}
	}
	if _, err := json.Marshal(p); err != nil {
		t.Errorf("decoded params do not marshal: %v", err)
	}
}

var formSeeds = []struct{ query, body string }{
	{"", "address[city]=London&address[country]=GB&address[line1]=123+High+Street&email=jane.doe%40example.com" +
		"&expand[0]=default_payment_method&metadata[property_id]=prop_456&metadata[unit]=4B&name=Jane+Doe"},
	{"", "metadata[unit]="},
	{"", "metadata=&address=&name=&default_payment_method="},
	{"", "expand[]=default_payment_method&address[line2]="},
	{"expand[0]=default_payment_method", "payment_method=pm_card_visa"},
	{"", "metadata=x&metadata[a]=b"},
	{"", "expand[0]=x&expand[k]=y"},
	{"", "name[x]=1&address=London"},
	{"", "a[b][c][d][e]=1&%zz&=&&name=%FF"},
	{"", "metadata[0]=a&metadata[1]=b&metadata[][x]=1"},
	{"", "expand[1]=default_payment_method&expand[0]=default_payment_method"},
	{"", "name=a%00b"},
}

func FuzzDecodeForm(f *testing.F) {
	for _, s := range formSeeds {
		f.Add(s.query, s.body)
	}
	f.Fuzz(func(t *testing.T, query, body string) {
		p, err := decodeCustomerCreate(newDecodeRequest(t, http.MethodPost, query, formType, body))
		checkDecodedParams(t, p, err)
		p, err = decodeCustomerUpdate(newDecodeRequest(t, http.MethodPost, query, formType, body))
		checkDecodedParams(t, p, err)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"Jane Doe","email":"jane.doe@example.com","metadata":{"property_id":"prop_456"}}`,
		`{"email": "jane.new@example.com"}`,
		`{"address":{"city":"London","country":"GB","line2":null},"expand":["default_payment_method"]}`,
		`{"metadata":null,"address":"","name":null}`,
		`{"metadata":{"unit":4,"ok":true}}`,
		`{"name":{}}`,
		`{"expand":[1,null,{"a":[]}]}`,
		`{"a":{"b":{"c":{"d":{"e":1}}}}}`,
		`{"name":"a"} x`,
		`[1,2]`,
		"{\"name\":\"\xff\"}",
		`{"name":"\ud800"}`,
		`{"metadata":{"a\u0000":"b"}}`,
		`{"name":"a",}`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := decodeCustomerCreate(newDecodeRequest(t, http.MethodPost, "", jsonType, body))
		checkDecodedParams(t, p, err)
		p, err = decodeCustomerUpdate(newDecodeRequest(t, http.MethodPost, "", jsonType, body))
		checkDecodedParams(t, p, err)
	})
}

func FuzzDecodeQuery(f *testing.F) {
	for _, s := range []string{
		"",
		"limit=10",
		"created[gte]=1706140800&email=jane%40example.com&expand[0]=data.default_payment_method&limit=3&starting_after=cus_4QFJOjw2pOmAGJ",
		"ending_before=cus_4QFJOjw2pOmAGJ&created=1706140800",
		"starting_after=cus_a&ending_before=cus_b",
		"limit=0&limit=101&limit=ten",
		"created[eq]=1&created[gt]=x",
		"expand[0]=default_payment_method",
		"expand[]=default_payment_method",
		"starting_after=%FF",
		"limit=-9223372036854775808",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		filter, err := decodeCustomerList(newDecodeRequest(t, http.MethodGet, query, "", ""))
		if err != nil {
			checkDecodeFailure(t, err)
		} else {
			if filter.Limit < 1 || filter.Limit > casapay.MaxListLimit {
				t.Errorf("decoded limit %d", filter.Limit)
			}
			if filter.StartingAfter != "" && filter.EndingBefore != "" {
				t.Errorf("decoded both cursors")
			}
			for _, c := range []string{filter.StartingAfter, filter.EndingBefore} {
				if c != "" && !casapay.ValidID("cus", c) {
					t.Errorf("decoded cursor %q", c)
				}
			}
			for _, e := range filter.Expand {
				if e != "default_payment_method" {
					t.Errorf("decoded list expand %q", e)
				}
			}
		}

		expand, err := decodeCustomerRetrieve(newDecodeRequest(t, http.MethodGet, query, "", ""))
		if err != nil {
			checkDecodeFailure(t, err)
		}
		for _, e := range expand {
			if e != "default_payment_method" {
				t.Errorf("decoded retrieve expand %q", e)
			}
		}

		if err := decodeCustomerDelete(newDecodeRequest(t, http.MethodDelete, query, "", "")); err != nil {
			checkDecodeFailure(t, err)
		}
	})
}

func FuzzDecodeEventList(f *testing.F) {
	for _, s := range []string{
		"",
		"limit=3&starting_after=evt_8E5pnDkXCLrv5ck5okL3pIic",
		"type=customer.*&created[gte]=1706140800",
		"types[0]=customer.created&types[1]=customer.updated",
		"types[]=customer.created&type=customer.updated",
		"type=*&ending_before=evt_a",
		"type=customer.&types=",
		"types[0]=customer.*",
		"types[0][x]=1&type[y]=2",
		"starting_after=cus_4QFJOjw2pOmAGJ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		filter, err := decodeEventList(newDecodeRequest(t, http.MethodGet, query, "", ""))
		if err != nil {
			checkDecodeFailure(t, err)
			return
		}
		if filter.Limit < 1 || filter.Limit > casapay.MaxListLimit || len(filter.Types) > casapay.MaxEventTypes {
			t.Errorf("decoded limit %d, %d types", filter.Limit, len(filter.Types))
		}
		for _, c := range []string{filter.StartingAfter, filter.EndingBefore} {
			if c != "" && !casapay.ValidID("evt", c) {
				t.Errorf("decoded cursor %q", c)
			}
		}
		for _, typ := range filter.Types {
			if !slices.Contains(casapay.EventTypes, typ) {
				t.Errorf("decoded type %q", typ)
			}
		}
		if filter.Types != nil && len(filter.Types) == 0 {
			t.Error("decoded an empty, non-nil set of types, which the store refuses")
		}
	})
}
