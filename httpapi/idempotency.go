package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/casapay/casapay"
)

// MaxIdempotencyKeyLength is the longest Idempotency-Key CasaPay accepts, as Stripe.
const MaxIdempotencyKeyLength = 255

// writeRequest returns what a write learns of its request: its ID, the time it arrived (now, once,
// for the object's created time and the event's alike), and its idempotency key with the fingerprint
// of params.
func writeRequest(r *http.Request, params any, now func() time.Time) (casapay.Request, error) {
	at := now()
	idem, err := idempotencyFrom(r, params, at)
	if err != nil {
		return casapay.Request{}, err
	}
	return casapay.Request{ID: requestIDFrom(r.Context()), Time: at, Idempotency: idem}, nil
}

// idempotencyFrom reads the Idempotency-Key header of a write. It returns nil when there is none. The
// fingerprint hashes the method, the path and the decoded parameters, so the same request sent as a
// form or as JSON, or with its keys in another order, is the same request.
func idempotencyFrom(r *http.Request, params any, at time.Time) (*casapay.Idempotency, error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return nil, nil
	}
	if err := checkIdempotencyKey(key); err != nil {
		return nil, err
	}
	canonical, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("fingerprint request: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.Path)
	h.Write(canonical)
	return &casapay.Idempotency{Key: key, Fingerprint: hex.EncodeToString(h.Sum(nil)), Created: at}, nil
}

// checkIdempotencyKey accepts a key of valid UTF-8, without control characters, of at most
// MaxIdempotencyKeyLength characters. The key is not echoed: it may be anything.
func checkIdempotencyKey(key string) *casapay.Error {
	bad := func(why string) *casapay.Error {
		return &casapay.Error{Type: casapay.ErrorTypeIdempotency, Message: "Invalid Idempotency-Key: " + why}
	}
	switch {
	case !utf8.ValidString(key):
		return bad("it must be valid UTF-8.")
	case strings.IndexFunc(key, unicode.IsControl) >= 0:
		return bad("it must not contain control characters.")
	case utf8.RuneCountInString(key) > MaxIdempotencyKeyLength:
		return bad(fmt.Sprintf("it is %d characters long; it can be at most %d.", utf8.RuneCountInString(key), MaxIdempotencyKeyLength))
	}
	return nil
}

// writeResponse answers a write: its error, or the response it stored, marked Idempotent-Replayed when
// it is a stored one answered again.
func writeResponse(w http.ResponseWriter, r *http.Request, logger *slog.Logger, resp *casapay.Response, err error) {
	if err != nil {
		writeError(w, r, logger, err)
		return
	}
	if resp.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	encode(w, resp.Status, json.RawMessage(resp.Body))
}

// echoIdempotencyKey answers every POST that carries an Idempotency-Key with the same header, as Stripe
// does; SDKs read it back (the official Python library among them). A key too long to be accepted is
// not echoed, nor one that is not accepted.
func echoIdempotencyKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if key := r.Header.Get("Idempotency-Key"); r.Method == http.MethodPost && key != "" && checkIdempotencyKey(key) == nil {
			w.Header().Set("Idempotency-Key", key)
		}
		next.ServeHTTP(w, r)
	})
}

// pathID returns the ID in the path, which must have the given prefix. A malformed ID answers as a
// missing object of the kind named, with no query.
func pathID(r *http.Request, prefix, kind string) (string, error) {
	id := r.PathValue("id")
	if !casapay.ValidID(prefix, id) {
		return "", casapay.NotFound(kind, "id", id)
	}
	return id, nil
}
