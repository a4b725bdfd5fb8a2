package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

// handleRead answers a GET with what read returns, as JSON, or with its error.
func handleRead(logger *slog.Logger, read func(r *http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := read(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, v)
	})
}

// write is a write request checked whole: the parameters its Idempotency-Key fingerprints, the fields
// its answer expands, and the store call that makes it.
type write struct {
	params any
	expand []string
	// keyless writes take no Idempotency-Key (deletes: deleting twice answers 404 the second time, and
	// stripe-go sends a key on DELETE that must not make the 404 a replay of the first answer).
	keyless bool
	run     func(ctx context.Context, req casapay.Request) (*casapay.Response, error)
}

// handleWrite answers a write. prepare decodes and checks the whole request, its parameters and its
// path, so that a request with any error writes nothing; then the Idempotency-Key is read and checked,
// and the write runs, its answer stored under the key in the same transaction.
func handleWrite(logger *slog.Logger, now func() time.Time, prepare func(r *http.Request) (*write, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wr, err := prepare(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req := casapay.Request{ID: requestIDFrom(r.Context()), Time: now()}
		if !wr.keyless {
			if req, err = writeRequest(r, wr.params, now); err != nil {
				writeError(w, r, logger, err)
				return
			}
		}
		req.Expand = wr.expand
		resp, err := wr.run(r.Context(), req)
		writeResponse(w, r, logger, resp, err)
	})
}
