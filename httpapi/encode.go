package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/casapay/casapay"
)

// encode writes v as the response's JSON body, compact: an answer is built once, never copied again to
// indent it, so that a client that does not read holds one copy at most. A write's answer, marshalled
// once by the store, comes as a json.RawMessage and is written as it is, so a replay is byte-for-byte
// the first answer.
func encode(w http.ResponseWriter, status int, v any) {
	var body []byte
	var err error
	switch v := v.(type) {
	case json.RawMessage:
		body = v
	case json.Marshaler:
		// Called directly: json.Marshal would check and compact what it returns, a second pass over
		// bytes that MarshalJSON, through json.Marshal itself, already wrote compact and escaped.
		body, err = v.MarshalJSON()
	default:
		body, err = json.Marshal(v)
	}
	if err != nil {
		// Only a bug can get here: every value we encode is built from plain structs and maps.
		status = http.StatusInternalServerError
		body, _ = json.Marshal(map[string]*casapay.Error{"error": internalError})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(body)
	io.WriteString(w, "\n")
}

// listResponse is Stripe's list envelope.
type listResponse[T any] struct {
	Object  string `json:"object"`
	URL     string `json:"url"`
	HasMore bool   `json:"has_more"`
	Data    []T    `json:"data"`
}

// list is Stripe's list envelope of one page.
func list[T any](url string, page []T, hasMore bool) listResponse[T] {
	if page == nil {
		page = []T{}
	}
	return listResponse[T]{Object: "list", URL: url, HasMore: hasMore, Data: page}
}

// MarshalJSON writes the envelope around each object's JSON as the object's own MarshalJSON writes it.
// Through json.Marshal, every object's JSON would be checked and compacted once more: a tenth of a
// list's CPU.
func (l listResponse[T]) MarshalJSON() ([]byte, error) {
	object, err := json.Marshal(l.Object)
	if err != nil {
		return nil, err
	}
	url, err := json.Marshal(l.URL)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 128+768*len(l.Data))
	b = append(b, `{"object":`...)
	b = append(b, object...)
	b = append(b, `,"url":`...)
	b = append(b, url...)
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, l.HasMore)
	b = append(b, `,"data":[`...)
	for i, v := range l.Data {
		if i > 0 {
			b = append(b, ',')
		}
		var obj []byte
		if m, ok := any(v).(json.Marshaler); ok {
			obj, err = m.MarshalJSON()
		} else {
			obj, err = json.Marshal(v)
		}
		if err != nil {
			return nil, err
		}
		b = append(b, obj...)
	}
	return append(b, "]}"...), nil
}
