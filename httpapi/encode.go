package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/casapay/casapay"
)

// encode writes v as the response's indented JSON body. A write's answer, marshalled once by the store,
// comes as a json.RawMessage and is only indented, so a replay is byte-for-byte the first answer.
func encode(w http.ResponseWriter, status int, v any) {
	var body []byte
	var err error
	if raw, ok := v.(json.RawMessage); ok {
		var b bytes.Buffer
		err = json.Indent(&b, raw, "", "  ")
		body = b.Bytes()
	} else {
		body, err = json.MarshalIndent(v, "", "  ")
	}
	if err != nil {
		// Only a bug can get here: every value we encode is built from plain structs and maps.
		status = http.StatusInternalServerError
		body, _ = json.Marshal(map[string]*casapay.Error{"error": internalError})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// listResponse is Stripe's list envelope.
type listResponse[T any] struct {
	Object  string `json:"object"`
	URL     string `json:"url"`
	HasMore bool   `json:"has_more"`
	Data    []T    `json:"data"`
}
