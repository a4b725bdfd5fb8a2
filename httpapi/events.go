package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/casapay/casapay"
)

func handleEventRetrieve(logger *slog.Logger, events casapay.EventStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		if err := decodeNoParams(r); err != nil {
			return nil, err
		}
		id, err := pathID(r, "evt", "event")
		if err != nil {
			return nil, err
		}
		return events.FindEvent(r.Context(), scopeFrom(r.Context()), id)
	})
}

func handleEventList(logger *slog.Logger, events casapay.EventStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		f, err := decodeEventList(r)
		if err != nil {
			return nil, err
		}
		page, hasMore, err := events.ListEvents(r.Context(), scopeFrom(r.Context()), *f)
		return list("/v1/events", page, hasMore), err
	})
}
