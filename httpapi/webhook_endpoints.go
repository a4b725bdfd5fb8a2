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
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		scope := scopeFrom(r.Context())
		p, err := decodeWebhookEndpointCreate(r, scope.Livemode)
		if err == nil {
			err = hosts.check(r.Context(), p, scope.Livemode)
		}
		if err != nil {
			return nil, err
		}
		return &write{params: p, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			return endpoints.CreateWebhookEndpoint(ctx, scope, casapay.NewWebhookEndpoint(scope, p, req.Time), req)
		}}, nil
	})
}

func handleWebhookEndpointRetrieve(logger *slog.Logger, endpoints casapay.WebhookEndpointStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		if err := decodeNoParams(r); err != nil {
			return nil, err
		}
		id, err := pathID(r, "we", "webhook_endpoint")
		if err != nil {
			return nil, err
		}
		return endpoints.FindWebhookEndpoint(r.Context(), scopeFrom(r.Context()), id)
	})
}

func handleWebhookEndpointUpdate(logger *slog.Logger, endpoints casapay.WebhookEndpointStore, hosts webhookHosts, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		scope := scopeFrom(r.Context())
		p, err := decodeWebhookEndpointUpdate(r, scope.Livemode)
		if err == nil {
			err = hosts.check(r.Context(), p, scope.Livemode)
		}
		if err != nil {
			return nil, err
		}
		id, err := pathID(r, "we", "webhook_endpoint")
		if err != nil {
			return nil, err
		}
		return &write{params: p, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			return endpoints.UpdateWebhookEndpoint(ctx, scope, id, p, req)
		}}, nil
	})
}

func handleWebhookEndpointDelete(logger *slog.Logger, endpoints casapay.WebhookEndpointStore, now func() time.Time) http.Handler {
	return handleWrite(logger, now, func(r *http.Request) (*write, error) {
		if err := decodeNoParams(r); err != nil {
			return nil, err
		}
		id, err := pathID(r, "we", "webhook_endpoint")
		if err != nil {
			return nil, err
		}
		return &write{keyless: true, run: func(ctx context.Context, req casapay.Request) (*casapay.Response, error) {
			return endpoints.DeleteWebhookEndpoint(ctx, scopeFrom(ctx), id, req)
		}}, nil
	})
}

func handleWebhookEndpointList(logger *slog.Logger, endpoints casapay.WebhookEndpointStore) http.Handler {
	return handleRead(logger, func(r *http.Request) (any, error) {
		f, err := decodeWebhookEndpointList(r)
		if err != nil {
			return nil, err
		}
		page, hasMore, err := endpoints.ListWebhookEndpoints(r.Context(), scopeFrom(r.Context()), *f)
		return list("/v1/webhook_endpoints", page, hasMore), err
	})
}
