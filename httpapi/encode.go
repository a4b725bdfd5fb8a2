package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/casapay/casapay"
)

// encode writes v as the response's indented JSON body. A stored idempotent response is written through
// it as a json.RawMessage, which MarshalIndent re-indents, so a replay is byte-for-byte the first answer.
func encode(w http.ResponseWriter, status int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
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
