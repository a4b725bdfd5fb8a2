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
	body, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if body, err = json.Marshal(v); err != nil {
			// Only a bug can get here: every value we encode is built from plain structs and maps.
			status = http.StatusInternalServerError
			body, _ = json.Marshal(map[string]*casapay.Error{"error": internalError})
		}
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
	return listResponse[T]{Object: "list", URL: url, HasMore: hasMore, Data: page}
}
