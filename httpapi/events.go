package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/casapay/casapay"
)

func handleEventRetrieve(logger *slog.Logger, events casapay.EventStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := decodeNoParams(r); err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := pathID(r, "evt", "event")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		e, err := events.FindEvent(r.Context(), scopeFrom(r.Context()), id)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, e)
	})
}

func handleEventList(logger *slog.Logger, events casapay.EventStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := decodeEventList(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		page, hasMore, err := events.ListEvents(r.Context(), scopeFrom(r.Context()), *f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, listResponse[*casapay.Event]{Object: "list", URL: "/v1/events", HasMore: hasMore, Data: page})
	})
}
