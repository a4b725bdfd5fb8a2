package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/casapay/casapay"
)

// webhookHosts checks the host of a live-mode endpoint's URL when it is saved (see
// casapay.CheckWebhookHost): lookup resolves names, and allowPrivate lets them be private.
type webhookHosts struct {
	lookup       func(ctx context.Context, host string) ([]netip.Addr, error)
	allowPrivate bool
}

func (h webhookHosts) check(ctx context.Context, p *casapay.WebhookEndpointParams, livemode bool) error {
	if p.URL == nil {
		return nil
	}
	u, err := casapay.ParseWebhookURL(*p.URL, livemode)
	if err != nil {
		return err
	}
	return casapay.CheckWebhookHost(ctx, h.lookup, u, livemode, h.allowPrivate)
}

func handleWebhookEndpointCreate(logger *slog.Logger, endpoints casapay.WebhookEndpointStore, hosts webhookHosts, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := scopeFrom(r.Context())
		p, err := decodeWebhookEndpointCreate(r, scope.Livemode)
		if err == nil {
			err = hosts.check(r.Context(), p, scope.Livemode)
		}
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req, err := writeRequest(r, p, now)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp, err := endpoints.CreateWebhookEndpoint(r.Context(), scope, casapay.NewWebhookEndpoint(scope, p, req.Time), req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handleWebhookEndpointRetrieve(logger *slog.Logger, endpoints casapay.WebhookEndpointStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := decodeNoParams(r); err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := pathID(r, "we", "webhook_endpoint")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		we, err := endpoints.FindWebhookEndpoint(r.Context(), scopeFrom(r.Context()), id)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, we)
	})
}

func handleWebhookEndpointUpdate(logger *slog.Logger, endpoints casapay.WebhookEndpointStore, hosts webhookHosts, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := scopeFrom(r.Context())
		p, err := decodeWebhookEndpointUpdate(r, scope.Livemode)
		if err == nil {
			err = hosts.check(r.Context(), p, scope.Livemode)
		}
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		req, err := writeRequest(r, p, now)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := pathID(r, "we", "webhook_endpoint")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		resp, err := endpoints.UpdateWebhookEndpoint(r.Context(), scope, id, p, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handleWebhookEndpointDelete(logger *slog.Logger, endpoints casapay.WebhookEndpointStore, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := decodeNoParams(r); err != nil {
			writeError(w, r, logger, err)
			return
		}
		id, err := pathID(r, "we", "webhook_endpoint")
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		// As for customers, deletes take no idempotency key.
		req := casapay.Request{ID: requestIDFrom(r.Context()), Time: now()}
		resp, err := endpoints.DeleteWebhookEndpoint(r.Context(), scopeFrom(r.Context()), id, req)
		writeResponse(w, r, logger, resp, err)
	})
}

func handleWebhookEndpointList(logger *slog.Logger, endpoints casapay.WebhookEndpointStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := decodeWebhookEndpointList(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		page, hasMore, err := endpoints.ListWebhookEndpoints(r.Context(), scopeFrom(r.Context()), *f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, http.StatusOK, listResponse[*casapay.WebhookEndpoint]{Object: "list", URL: "/v1/webhook_endpoints", HasMore: hasMore, Data: page})
	})
}
