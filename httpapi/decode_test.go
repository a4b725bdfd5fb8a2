package httpapi

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/casapay/casapay"
	"github.com/google/go-cmp/cmp"
)

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// newDecodeRequest builds a request as a client sends it. The query is set raw, so tests can send
// bytes that httptest.NewRequest would refuse in a URL.
func newDecodeRequest(t *testing.T, method, query, contentType, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "/v1/customers", r)
	req.URL.RawQuery = query
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// wantDecodeError checks that err is a *casapay.Error with the given code, param and status.
func wantDecodeError(t *testing.T, err error, code, param string, status int) {
	t.Helper()
	var e *casapay.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *casapay.Error", err, err)
	}
	if e.Type != casapay.ErrorTypeInvalidRequest {
		t.Errorf("error type = %q, want %q", e.Type, casapay.ErrorTypeInvalidRequest)
	}
	if e.Code != code {
		t.Errorf("error code = %q, want %q (message %q)", e.Code, code, e.Message)
	}
	if e.Param != param {
		t.Errorf("error param = %q, want %q (message %q)", e.Param, param, e.Message)
	}
	if got := statusOrDefault(e.Status); got != status {
		t.Errorf("error status = %d, want %d", got, status)
	}
	if e.Message == "" {
		t.Errorf("error message is empty")
	}
}

func statusOrDefault(status int) int {
	if status == 0 {
		return http.StatusBadRequest
	}
	return status
}

func refString(s string) *string { return &s }
func refInt64(v int64) *int64    { return &v }

// decodeCase is one request to a decoder and what it should yield: want, or an error with
// wantCode, wantParam and wantStatus (400 when zero).
type decodeCase struct {
	name        string
	method      string // POST when empty
	query       string
	contentType string
	body        string
	want        *casapay.CustomerParams
	wantErr     bool
	wantCode    string
	wantParam   string
	wantStatus  int
}

func (c decodeCase) request(t *testing.T) *http.Request {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	return newDecodeRequest(t, method, c.query, c.contentType, c.body)
}

func runCustomerParamsCases(t *testing.T, decode func(*http.Request) (*casapay.CustomerParams, error), cases []decodeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := decode(c.request(t))
			if c.wantErr {
				if err == nil {
					t.Fatalf("decode = %+v, want an error", got)
				}
				wantDecodeError(t, err, c.wantCode, c.wantParam, statusOrDefault(c.wantStatus))
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if diff := cmp.Diff(got, c.want); diff != "" {
				t.Errorf("params mismatch (-got +want):\n%s", diff)
			}
		})
	}
}

func TestDecodeCustomerCreate(t *testing.T) {
	runCustomerParamsCases(t, decodeCustomerCreate, []decodeCase{
		{
			name:        "stripe-go form, keys sorted",
			contentType: formType,
			body: "address[city]=London&address[country]=GB&address[line1]=123+High+Street&address[postal_code]=SW1A+1AA" +
				"&email=jane.doe%40example.com&expand[0]=default_payment_method" +
				"&metadata[property_id]=prop_456&metadata[unit]=4B&name=Jane+Doe&phone=%2B44+7700+900123",
			want: &casapay.CustomerParams{
				Name:  refString("Jane Doe"),
				Email: refString("jane.doe@example.com"),
				Phone: refString("+44 7700 900123"),
				Address: &casapay.AddressParams{
					Line1: refString("123 High Street"), City: refString("London"),
					PostalCode: refString("SW1A 1AA"), Country: refString("GB"),
				},
				Metadata: map[string]string{"property_id": "prop_456", "unit": "4B"},
				Expand:   []string{"default_payment_method"},
			},
		},
		{
			name:        "reference JSON",
			contentType: jsonType,
			body:        `{"name": "Jane Doe", "email": "jane.doe@example.com", "metadata": { "property_id": "prop_456" }}`,
			want: &casapay.CustomerParams{
				Name:     refString("Jane Doe"),
				Email:    refString("jane.doe@example.com"),
				Metadata: map[string]string{"property_id": "prop_456"},
			},
		},
		{
			name:        "JSON with charset",
			contentType: "application/json; charset=utf-8",
			body:        `{"phone":"+44 7700 900123","expand":["default_payment_method"]}`,
			want:        &casapay.CustomerParams{Phone: refString("+44 7700 900123"), Expand: []string{"default_payment_method"}},
		},
		{
			name:        "form with charset",
			contentType: formType + "; charset=UTF-8",
			body:        "name=Jos%C3%A9",
			want:        &casapay.CustomerParams{Name: refString("José")},
		},
		{
			name: "no Content-Type means form",
			body: "name=Jane",
			want: &casapay.CustomerParams{Name: refString("Jane")},
		},
		{
			name:        "empty body",
			contentType: formType,
			want:        &casapay.CustomerParams{},
		},
		{
			name:        "empty body with JSON Content-Type",
			contentType: jsonType,
			want:        &casapay.CustomerParams{},
		},
		{
			name:        "empty JSON object",
			contentType: jsonType,
			body:        "{}\n",
			want:        &casapay.CustomerParams{},
		},
		{
			name:        "payment_method",
			contentType: formType,
			body:        "payment_method=pm_card_visa",
			want:        &casapay.CustomerParams{PaymentMethodID: refString("pm_card_visa")},
		},
		{
			name:        "expand[] form",
			contentType: formType,
			body:        "expand[]=default_payment_method",
			want:        &casapay.CustomerParams{Expand: []string{"default_payment_method"}},
		},
		{
			name:        "expand= is an empty list",
			contentType: formType,
			body:        "expand=",
			want:        &casapay.CustomerParams{},
		},
		{
			name:        "numeric metadata keys stay a hash",
			contentType: formType,
			body:        "metadata[0]=a&metadata[1]=b",
			want:        &casapay.CustomerParams{Metadata: map[string]string{"0": "a", "1": "b"}},
		},
		{
			name:        "duplicate plain key: last wins",
			contentType: formType,
			body:        "name=A&name=B&metadata[unit]=1&metadata[unit]=2",
			want:        &casapay.CustomerParams{Name: refString("B"), Metadata: map[string]string{"unit": "2"}},
		},
		{
			name:        "query and form body merge, body last",
			query:       "name=FromQuery&email=q%40example.com",
			contentType: formType,
			body:        "name=FromBody",
			want:        &casapay.CustomerParams{Name: refString("FromBody"), Email: refString("q@example.com")},
		},
		{
			name:        "query and JSON body merge",
			query:       "metadata[a]=1&expand[0]=default_payment_method",
			contentType: jsonType,
			body:        `{"metadata":{"b":"2"}}`,
			want: &casapay.CustomerParams{
				Metadata: map[string]string{"a": "1", "b": "2"},
				Expand:   []string{"default_payment_method"},
			},
		},
		{
			name:        "key without =",
			contentType: formType,
			body:        "name&&email=a%40b.co&",
			want:        &casapay.CustomerParams{Name: refString(""), Email: refString("a@b.co")},
		},
		{
			name:        "JSON null unsets",
			contentType: jsonType,
			body:        `{"name":null,"address":null,"metadata":null,"expand":null}`,
			want: &casapay.CustomerParams{
				Name: refString(""), Address: &casapay.AddressParams{Unset: true}, ClearMetadata: true,
			},
		},
		{
			name:        "JSON duplicate key: last wins",
			contentType: jsonType,
			body:        `{"name":"A","name":"B"}`,
			want:        &casapay.CustomerParams{Name: refString("B")},
		},

		{name: "unknown", contentType: formType, body: "foo=1", wantErr: true, wantCode: "parameter_unknown", wantParam: "foo"},
		{name: "unknown in JSON", contentType: jsonType, body: `{"foo":1}`, wantErr: true, wantCode: "parameter_unknown", wantParam: "foo"},
		{name: "unknown address field", contentType: formType, body: "address[foo]=1", wantErr: true, wantCode: "parameter_unknown", wantParam: "address[foo]"},
		{name: "default_payment_method is update only", contentType: formType, body: "default_payment_method=pm_1", wantErr: true, wantCode: "parameter_unknown", wantParam: "default_payment_method"},
		{name: "malformed brackets", contentType: formType, body: "name]=x", wantErr: true, wantCode: "parameter_unknown", wantParam: "name]"},
		{name: "text after brackets", contentType: formType, body: "address[city]x=1", wantErr: true, wantCode: "parameter_unknown", wantParam: "address[city]x"},
		{name: "empty key", contentType: formType, body: "=x", wantErr: true},
		{name: "hash where a string belongs", contentType: formType, body: "name[x]=1", wantErr: true, wantCode: "parameter_invalid_string", wantParam: "name"},
		{name: "array where a string belongs", contentType: formType, body: "email[]=a%40b.co", wantErr: true, wantCode: "parameter_invalid_string", wantParam: "email"},
		{name: "JSON object where a string belongs", contentType: jsonType, body: `{"name":{}}`, wantErr: true, wantCode: "parameter_invalid_string", wantParam: "name"},
		{name: "JSON number where a string belongs", contentType: jsonType, body: `{"phone":447700900123}`, wantErr: true, wantCode: "parameter_invalid_string", wantParam: "phone"},
		{name: "JSON bool in address", contentType: jsonType, body: `{"address":{"city":true}}`, wantErr: true, wantCode: "parameter_invalid_string", wantParam: "address[city]"},
		{name: "JSON number in metadata", contentType: jsonType, body: `{"metadata":{"unit":4}}`, wantErr: true, wantCode: "parameter_invalid_string", wantParam: "metadata[unit]"},
		{name: "nested metadata", contentType: formType, body: "metadata[a][b]=c", wantErr: true, wantCode: "parameter_invalid_string", wantParam: "metadata[a]"},
		{name: "string where an address belongs", contentType: formType, body: "address=London", wantErr: true, wantParam: "address"},
		{name: "string where metadata belongs", contentType: formType, body: "metadata=x", wantErr: true, wantParam: "metadata"},
		{name: "array where metadata belongs", contentType: jsonType, body: `{"metadata":["a"]}`, wantErr: true, wantParam: "metadata"},
		{name: "string then hash", contentType: formType, body: "metadata=x&metadata[a]=b", wantErr: true, wantParam: "metadata"},
		{name: "hash then string", contentType: formType, body: "address[city]=London&address=", wantErr: true, wantParam: "address"},
		{name: "array then hash", contentType: formType, body: "expand[]=x&expand[k]=y", wantErr: true, wantParam: "expand"},
		{name: "query and JSON shapes conflict", query: "metadata=", contentType: jsonType, body: `{"metadata":{"a":"b"}}`, wantErr: true, wantParam: "metadata"},
		{name: "indexed then keyed", contentType: formType, body: "expand[0]=default_payment_method&expand[k]=y", wantErr: true, wantParam: "expand"},
		{name: "indices out of order", contentType: formType, body: "expand[1]=default_payment_method&expand[0]=default_payment_method", wantErr: true, wantParam: "expand"},
		{name: "indices with a gap", contentType: formType, body: "expand[0]=default_payment_method&expand[2]=default_payment_method", wantErr: true, wantParam: "expand"},
		{name: "expand string", contentType: formType, body: "expand=default_payment_method", wantErr: true, wantParam: "expand"},
		{name: "expand not allowed", contentType: formType, body: "expand[0]=default_payment_method&expand[1]=balance", wantErr: true, wantParam: "expand[1]"},
		{name: "expand list prefix not allowed", contentType: jsonType, body: `{"expand":["data.default_payment_method"]}`, wantErr: true, wantParam: "expand[0]"},
		{name: "expand element not a string", contentType: jsonType, body: `{"expand":[1]}`, wantErr: true, wantCode: "parameter_invalid_string", wantParam: "expand[0]"},
		{name: "NUL in a value", contentType: formType, body: "name=a%00b", wantErr: true, wantCode: "parameter_invalid_string", wantParam: "name"},
		{name: "NUL in a metadata key", contentType: jsonType, body: `{"metadata":{"a\u0000":"b"}}`, wantErr: true, wantCode: "parameter_invalid_string", wantParam: "metadata"},

		// Validate's checks, reached through the decoder.
		{name: "invalid email", contentType: formType, body: "email=nope", wantErr: true, wantCode: "email_invalid", wantParam: "email"},
		{name: "bad country", contentType: formType, body: "address[country]=XX", wantErr: true, wantCode: "parameter_invalid_string", wantParam: "address[country]"},
		{name: "long name", contentType: formType, body: "name=" + strings.Repeat("a", casapay.MaxNameLength+1), wantErr: true, wantCode: "parameter_invalid_string", wantParam: "name"},
		{name: "empty metadata key", contentType: jsonType, body: `{"metadata":{"":"x"}}`, wantErr: true, wantCode: "parameter_invalid_empty", wantParam: "metadata"},

		// Bytes that are not parameters.
		{name: "bad UTF-8 in a form value", contentType: formType, body: "name=%FF", wantErr: true, wantParam: "name"},
		{name: "raw bad UTF-8 in a form key", contentType: formType, body: "na\xffme=x", wantErr: true},
		{name: "bad UTF-8 in the query", query: "name=%C3", wantErr: true, wantParam: "name"},
		{name: "bad UTF-8 in JSON", contentType: jsonType, body: "{\"name\":\"\xff\"}", wantErr: true},
		{name: "bad percent-encoding", contentType: formType, body: "name=%zz", wantErr: true},
		{name: "truncated percent-encoding", query: "name=%4", wantErr: true},
		{name: "malformed JSON", contentType: jsonType, body: `{"name":`, wantErr: true},
		{name: "JSON trailing comma", contentType: jsonType, body: `{"name":"a",}`, wantErr: true},
		{name: "JSON trailing data", contentType: jsonType, body: `{"name":"a"} x`, wantErr: true},
		{name: "JSON second object", contentType: jsonType, body: `{}{}`, wantErr: true},
		{name: "JSON array at top level", contentType: jsonType, body: `[{"name":"a"}]`, wantErr: true},
		{name: "JSON string at top level", contentType: jsonType, body: `"a"`, wantErr: true},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", body: "--x--", wantErr: true},
		{name: "text/plain", contentType: "text/plain", body: "name=a", wantErr: true},
		{name: "invalid Content-Type", contentType: "application/", body: "name=a", wantErr: true},
		{name: "form key too deep", contentType: formType, body: "metadata[a][b][c][d]=1", wantErr: true, wantParam: "metadata[a][b][c][d]"},
		{name: "JSON too deep", contentType: jsonType, body: `{"metadata":{"a":{"b":{"c":{"d":"1"}}}}}`, wantErr: true, wantParam: "metadata[a][b][c][d]"},
		{name: "too many pairs", contentType: formType, body: strings.Repeat("name=a&", maxParamPairs+1), wantErr: true},
		{name: "too many pairs across query and body", query: strings.Repeat("name=a&", maxParamPairs/2+1), contentType: formType, body: strings.Repeat("name=a&", maxParamPairs/2), wantErr: true},
		{name: "too many JSON values", contentType: jsonType, body: `{"expand":[` + strings.Repeat(`"x",`, maxParamPairs) + `"x"]}`, wantErr: true},
		{name: "body over the limit", contentType: formType, body: "name=" + strings.Repeat("a", maxParamBodyBytes), wantErr: true, wantStatus: http.StatusRequestEntityTooLarge},
	})
}

func TestDecodeCustomerUpdate(t *testing.T) {
	runCustomerParamsCases(t, decodeCustomerUpdate, []decodeCase{
		{
			name:        "stripe-go removes a metadata key",
			contentType: formType,
			body:        "metadata[property_id]=prop_789&metadata[unit]=",
			want:        &casapay.CustomerParams{Metadata: map[string]string{"property_id": "prop_789", "unit": ""}},
		},
		{
			name:        "metadata= clears all",
			contentType: formType,
			body:        "metadata=",
			want:        &casapay.CustomerParams{ClearMetadata: true},
		},
		{
			name:        "JSON empty string clears metadata",
			contentType: jsonType,
			body:        `{"metadata":""}`,
			want:        &casapay.CustomerParams{ClearMetadata: true},
		},
		{
			name:        "JSON null metadata value removes the key",
			contentType: jsonType,
			body:        `{"metadata":{"unit":null}}`,
			want:        &casapay.CustomerParams{Metadata: map[string]string{"unit": ""}},
		},
		{
			name:        "empty value unsets a field",
			contentType: formType,
			body:        "name=&phone=",
			want:        &casapay.CustomerParams{Name: refString(""), Phone: refString("")},
		},
		{
			name:        "address= unsets the address",
			contentType: formType,
			body:        "address=",
			want:        &casapay.CustomerParams{Address: &casapay.AddressParams{Unset: true}},
		},
		{
			name:        "address[line2]= unsets one line",
			contentType: formType,
			body:        "address[line2]=&address[city]=London",
			want:        &casapay.CustomerParams{Address: &casapay.AddressParams{Line2: refString(""), City: refString("London")}},
		},
		{
			name:        "default_payment_method",
			contentType: jsonType,
			body:        `{"default_payment_method":"pm_card_visa"}`,
			want:        &casapay.CustomerParams{DefaultPaymentMethod: refString("pm_card_visa")},
		},
		{
			name:        "reference update JSON",
			contentType: jsonType,
			body:        `{"email": "jane.new@example.com"}`,
			want:        &casapay.CustomerParams{Email: refString("jane.new@example.com")},
		},
		{name: "payment_method is create only", contentType: formType, body: "payment_method=pm_1", wantErr: true, wantCode: "parameter_unknown", wantParam: "payment_method"},
		{name: "JSON object default_payment_method", contentType: jsonType, body: `{"default_payment_method":{"id":"pm_1"}}`, wantErr: true, wantCode: "parameter_invalid_string", wantParam: "default_payment_method"},
	})
}

// TestDecodeFormAndJSONAgree checks that each form body and its JSON twin decode to the same params.
func TestDecodeFormAndJSONAgree(t *testing.T) {
	for _, c := range []struct{ name, form, json string }{
		{"metadata", "metadata[unit]=4B", `{"metadata":{"unit":"4B"}}`},
		{"metadata key removed", "metadata[unit]=", `{"metadata":{"unit":""}}`},
		{"metadata cleared", "metadata=", `{"metadata":null}`},
		{"address", "address[city]=London&address[country]=GB", `{"address":{"city":"London","country":"GB"}}`},
		{"address unset", "address=", `{"address":""}`},
		{"expand", "expand[0]=default_payment_method", `{"expand":["default_payment_method"]}`},
		{"fields", "name=Jane+Doe&email=jane%40example.com&phone=", `{"name":"Jane Doe","email":"jane@example.com","phone":null}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			fromForm, err := decodeCustomerUpdate(newDecodeRequest(t, http.MethodPost, "", formType, c.form))
			if err != nil {
				t.Fatalf("decode form %q: %v", c.form, err)
			}
			fromJSON, err := decodeCustomerUpdate(newDecodeRequest(t, http.MethodPost, "", jsonType, c.json))
			if err != nil {
				t.Fatalf("decode JSON %s: %v", c.json, err)
			}
			if diff := cmp.Diff(fromJSON, fromForm); diff != "" {
				t.Errorf("JSON params differ from form params (-json +form):\n%s", diff)
			}
		})
	}
}

func TestDecodeBodyReadErrors(t *testing.T) {
	t.Run("MaxBytesReader", func(t *testing.T) {
		w := httptest.NewRecorder()
		r := newDecodeRequest(t, http.MethodPost, "", formType, "")
		r.Body = http.MaxBytesReader(w, io.NopCloser(strings.NewReader("name="+strings.Repeat("a", 100))), 64)
		_, err := decodeCustomerCreate(r)
		wantDecodeError(t, err, "", "", http.StatusRequestEntityTooLarge)
	})
	t.Run("broken body", func(t *testing.T) {
		r := newDecodeRequest(t, http.MethodPost, "", formType, "")
		r.Body = io.NopCloser(io.MultiReader(strings.NewReader("name=a"), iotest.ErrReader(io.ErrUnexpectedEOF)))
		_, err := decodeCustomerCreate(r)
		wantDecodeError(t, err, "", "", http.StatusBadRequest)
	})
	t.Run("GET with a body", func(t *testing.T) {
		r := newDecodeRequest(t, http.MethodGet, "expand[0]=default_payment_method", formType, "limit=1")
		_, err := decodeCustomerRetrieve(r)
		wantDecodeError(t, err, "", "", http.StatusBadRequest)
	})
}

func TestDecodeCustomerRetrieve(t *testing.T) {
	for _, c := range []struct {
		name      string
		query     string
		want      []string
		wantErr   bool
		wantCode  string
		wantParam string
	}{
		{name: "no params"},
		{name: "stripe-go expand", query: "expand[0]=default_payment_method", want: []string{"default_payment_method"}},
		{name: "expand[]", query: "expand[]=default_payment_method", want: []string{"default_payment_method"}},
		{name: "expand[] twice", query: "expand[]=default_payment_method&expand[]=default_payment_method",
			want: []string{"default_payment_method", "default_payment_method"}},
		{name: "cannot expand", query: "expand[0]=address", wantErr: true, wantParam: "expand[0]"},
		{name: "unknown", query: "name=x", wantErr: true, wantCode: "parameter_unknown", wantParam: "name"},
		{name: "bad escape", query: "expand[0]=%", wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := decodeCustomerRetrieve(newDecodeRequest(t, http.MethodGet, c.query, "", ""))
			if c.wantErr {
				wantDecodeError(t, err, c.wantCode, c.wantParam, http.StatusBadRequest)
				return
			}
			if err != nil {
				t.Fatalf("decodeCustomerRetrieve(%q): %v", c.query, err)
			}
			if diff := cmp.Diff(got, c.want); diff != "" {
				t.Errorf("expand mismatch (-got +want):\n%s", diff)
			}
		})
	}
}

func TestDecodeCustomerDelete(t *testing.T) {
	if err := decodeCustomerDelete(newDecodeRequest(t, http.MethodDelete, "", formType, "")); err != nil {
		t.Errorf("decodeCustomerDelete with no params: %v", err)
	}
	// Stripe's SDKs never send a body on DELETE; one that arrives is rejected, not silently ignored.
	err := decodeCustomerDelete(newDecodeRequest(t, http.MethodDelete, "", formType, "name=x"))
	wantDecodeError(t, err, "", "", http.StatusBadRequest)
	err = decodeCustomerDelete(newDecodeRequest(t, http.MethodDelete, "expand[0]=default_payment_method", "", ""))
	wantDecodeError(t, err, "parameter_unknown", "expand", http.StatusBadRequest)
}

func TestDecodeCustomerList(t *testing.T) {
	const cursor = "cus_4QFJOjw2pOmAGJ"
	def := casapay.DefaultListLimit
	for _, c := range []struct {
		name       string
		query      string
		want       *casapay.CustomerFilter
		wantExpand []string
		wantErr    bool
		wantCode   string
		wantParam  string
	}{
		{name: "defaults", want: &casapay.CustomerFilter{Limit: def}},
		{name: "reference limit", query: "limit=10", want: &casapay.CustomerFilter{Limit: 10}},
		{name: "limit bounds", query: "limit=100", want: &casapay.CustomerFilter{Limit: 100}},
		{name: "empty limit is the default", query: "limit=", want: &casapay.CustomerFilter{Limit: def}},
		{
			name:  "stripe-go list",
			query: "created[gte]=1706140800&email=jane%40example.com&expand[0]=data.default_payment_method&limit=3&starting_after=" + cursor,
			want: &casapay.CustomerFilter{
				Limit: 3, StartingAfter: cursor, Email: refString("jane@example.com"),
				Created: casapay.TimeRange{Gte: refInt64(1706140800)}, Expand: []string{"default_payment_method"},
			},
			wantExpand: []string{"default_payment_method"},
		},
		{name: "ending_before", query: "ending_before=" + cursor, want: &casapay.CustomerFilter{Limit: def, EndingBefore: cursor}},
		{
			name:  "created exact",
			query: "created=1706140800",
			want:  &casapay.CustomerFilter{Limit: def, Created: casapay.TimeRange{Gte: refInt64(1706140800), Lte: refInt64(1706140800)}},
		},
		{
			name:  "created range",
			query: "created[gt]=1&created[lt]=3&created[lte]=4",
			want:  &casapay.CustomerFilter{Limit: def, Created: casapay.TimeRange{Gt: refInt64(1), Lt: refInt64(3), Lte: refInt64(4)}},
		},
		{name: "empty email is no filter", query: "email=", want: &casapay.CustomerFilter{Limit: def}},

		{name: "limit not an integer", query: "limit=ten", wantErr: true, wantCode: "parameter_invalid_integer", wantParam: "limit"},
		{name: "limit a decimal", query: "limit=1.5", wantErr: true, wantCode: "parameter_invalid_integer", wantParam: "limit"},
		{name: "limit zero", query: "limit=0", wantErr: true, wantCode: "parameter_invalid_integer", wantParam: "limit"},
		{name: "limit too large", query: "limit=101", wantErr: true, wantCode: "parameter_invalid_integer", wantParam: "limit"},
		{name: "limit overflow", query: "limit=99999999999999999999", wantErr: true, wantCode: "parameter_invalid_integer", wantParam: "limit"},
		{name: "limit hash", query: "limit[a]=1", wantErr: true, wantCode: "parameter_invalid_integer", wantParam: "limit"},
		{name: "bad cursor", query: "starting_after=nope", wantErr: true, wantCode: "parameter_invalid_string", wantParam: "starting_after"},
		{name: "cursor of another kind", query: "ending_before=pm_123", wantErr: true, wantCode: "parameter_invalid_string", wantParam: "ending_before"},
		{name: "both cursors", query: "starting_after=" + cursor + "&ending_before=" + cursor, wantErr: true, wantCode: "parameters_exclusive", wantParam: "ending_before"},
		{name: "created not an integer", query: "created=yesterday", wantErr: true, wantCode: "parameter_invalid_integer", wantParam: "created"},
		{name: "created[gte] not an integer", query: "created[gte]=x", wantErr: true, wantCode: "parameter_invalid_integer", wantParam: "created[gte]"},
		{name: "created unknown operator", query: "created[eq]=1", wantErr: true, wantCode: "parameter_unknown", wantParam: "created[eq]"},
		{name: "created array", query: "created[]=1", wantErr: true, wantCode: "parameter_invalid_integer", wantParam: "created"},
		{name: "expand not allowed", query: "expand[0]=default_payment_method", wantErr: true, wantParam: "expand[0]"},
		{name: "email hash", query: "email[a]=b", wantErr: true, wantCode: "parameter_invalid_string", wantParam: "email"},
		{name: "unknown", query: "sort=asc", wantErr: true, wantCode: "parameter_unknown", wantParam: "sort"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := decodeCustomerList(newDecodeRequest(t, http.MethodGet, c.query, "", ""))
			if c.wantErr {
				wantDecodeError(t, err, c.wantCode, c.wantParam, http.StatusBadRequest)
				return
			}
			if err != nil {
				t.Fatalf("decodeCustomerList(%q): %v", c.query, err)
			}
			if diff := cmp.Diff(got, c.want); diff != "" {
				t.Errorf("filter mismatch (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(got.Expand, c.wantExpand); diff != "" {
				t.Errorf("expand mismatch (-got +want):\n%s", diff)
			}
		})
	}
}

// TestDecodeExactCreatedBoundsAreSeparate guards against one pointer shared by Gte and Lte, which a
// caller changing one bound would silently change the other through.
func TestDecodeExactCreatedBoundsAreSeparate(t *testing.T) {
	f, err := decodeCustomerList(newDecodeRequest(t, http.MethodGet, "created=5", "", ""))
	if err != nil {
		t.Fatalf("decodeCustomerList: %v", err)
	}
	if f.Created.Gte == f.Created.Lte {
		t.Errorf("Created.Gte and Created.Lte are the same pointer")
	}
}

func TestSplitParamKey(t *testing.T) {
	for _, c := range []struct {
		key  string
		want []string
	}{
		{"name", []string{"name"}},
		{"address[city]", []string{"address", "city"}},
		{"expand[]", []string{"expand", ""}},
		{"a[b][0]", []string{"a", "b", "0"}},
		{"[a]", nil},
		{"a]", nil},
		{"a[b", nil},
		{"a[b]c", nil},
		{"a[b[c]]", nil},
	} {
		got, ok := splitParamKey(c.key)
		if ok != (c.want != nil) {
			t.Errorf("splitParamKey(%q) ok = %v, want %v", c.key, ok, c.want != nil)
			continue
		}
		if diff := cmp.Diff(got, c.want); diff != "" {
			t.Errorf("splitParamKey(%q) mismatch (-got +want):\n%s", c.key, diff)
		}
	}
}
