package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

// MaxIdempotencyKeyLength is the longest Idempotency-Key CasaPay accepts, as Stripe.
const MaxIdempotencyKeyLength = 255

// idempotencyFrom reads the Idempotency-Key header of a write. It returns nil when there is none. The
// fingerprint hashes the method, the path and the decoded parameters, so the same request sent as a
// form or as JSON, or with its keys in another order, is the same request.
func idempotencyFrom(r *http.Request, params any, now func() time.Time) (*casapay.Idempotency, error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return nil, nil
	}
	if len(key) > MaxIdempotencyKeyLength {
		return nil, &casapay.Error{
			Type:    casapay.ErrorTypeIdempotency,
			Message: fmt.Sprintf("Idempotency-Key is %d characters long; it can be at most %d.", len(key), MaxIdempotencyKeyLength),
		}
	}
	canonical, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("fingerprint request: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.Path)
	h.Write(canonical)
	return &casapay.Idempotency{Key: key, Fingerprint: hex.EncodeToString(h.Sum(nil)), Created: now()}, nil
}

// writeReplay answers with a stored response.
func writeReplay(w http.ResponseWriter, replay *casapay.Replay) {
	w.Header().Set("Idempotent-Replayed", "true")
	encode(w, replay.Status, json.RawMessage(replay.Body))
}
