package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

// addRoutes is the entire API surface: a route that is not here does not exist. GET /metrics exists
// only when metrics is not nil.
func addRoutes(mux *http.ServeMux, logger *slog.Logger, store casapay.Store, now func() time.Time, metrics http.Handler,
	hosts webhookHosts, limits *limiter) {
	auth := func(h http.Handler) http.Handler { return requireKey(logger, store, limitRate(logger, limits, h)) }

	mux.Handle("GET /healthz", handleHealth())
	mux.Handle("GET /openapi.yaml", handleOpenAPI())
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}

	mux.Handle("POST /v1/customers", auth(handleCustomerCreate(logger, store, now)))
	mux.Handle("GET /v1/customers", auth(handleCustomerList(logger, store)))
	mux.Handle("GET /v1/customers/{id}", auth(handleCustomerRetrieve(logger, store)))
	mux.Handle("POST /v1/customers/{id}", auth(handleCustomerUpdate(logger, store, now)))
	mux.Handle("DELETE /v1/customers/{id}", auth(handleCustomerDelete(logger, store, now)))

	mux.Handle("POST /v1/customers/{id}/balance_transactions", auth(handleBalanceTransactionCreate(logger, store, now)))
	mux.Handle("GET /v1/customers/{id}/balance_transactions", auth(handleBalanceTransactionList(logger, store)))
	mux.Handle("GET /v1/customers/{id}/balance_transactions/{txn}", auth(handleBalanceTransactionRetrieve(logger, store)))
	mux.Handle("POST /v1/customers/{id}/balance_transactions/{txn}", auth(handleBalanceTransactionUpdate(logger, store, now)))

	mux.Handle("GET /v1/customers/{id}/payment_methods", auth(handlePaymentMethodList(logger, store, true)))
	mux.Handle("GET /v1/customers/{id}/payment_methods/{pm}", auth(handleCustomerPaymentMethodRetrieve(logger, store)))

	mux.Handle("POST /v1/payment_methods", auth(handlePaymentMethodCreate(logger, store, store, now)))
	mux.Handle("GET /v1/payment_methods", auth(handlePaymentMethodList(logger, store, false)))
	mux.Handle("GET /v1/payment_methods/{id}", auth(handlePaymentMethodRetrieve(logger, store)))
	mux.Handle("POST /v1/payment_methods/{id}", auth(handlePaymentMethodUpdate(logger, store, now)))
	mux.Handle("POST /v1/payment_methods/{id}/attach", auth(handlePaymentMethodAttach(logger, store, now)))
	mux.Handle("POST /v1/payment_methods/{id}/detach", auth(handlePaymentMethodDetach(logger, store, now)))

	mux.Handle("POST /v1/webhook_endpoints", auth(handleWebhookEndpointCreate(logger, store, hosts, now)))
	mux.Handle("GET /v1/webhook_endpoints", auth(handleWebhookEndpointList(logger, store)))
	mux.Handle("GET /v1/webhook_endpoints/{id}", auth(handleWebhookEndpointRetrieve(logger, store)))
	mux.Handle("POST /v1/webhook_endpoints/{id}", auth(handleWebhookEndpointUpdate(logger, store, hosts, now)))
	mux.Handle("DELETE /v1/webhook_endpoints/{id}", auth(handleWebhookEndpointDelete(logger, store, now)))

	mux.Handle("GET /v1/events", auth(handleEventList(logger, store)))
	mux.Handle("GET /v1/events/{id}", auth(handleEventRetrieve(logger, store)))

	// A pattern without a method loses to the ones above for their methods, so these catch the rest.
	mux.Handle("/healthz", handleMethodNotAllowed(logger, "GET"))
	mux.Handle("/openapi.yaml", handleMethodNotAllowed(logger, "GET"))
	if metrics != nil {
		mux.Handle("/metrics", handleMethodNotAllowed(logger, "GET"))
	}
	mux.Handle("/v1/customers", handleMethodNotAllowed(logger, "GET, POST"))
	mux.Handle("/v1/customers/{id}", handleMethodNotAllowed(logger, "GET, POST, DELETE"))
	mux.Handle("/v1/customers/{id}/balance_transactions", handleMethodNotAllowed(logger, "GET, POST"))
	mux.Handle("/v1/customers/{id}/balance_transactions/{txn}", handleMethodNotAllowed(logger, "GET, POST"))
	mux.Handle("/v1/customers/{id}/payment_methods", handleMethodNotAllowed(logger, "GET"))
	mux.Handle("/v1/customers/{id}/payment_methods/{pm}", handleMethodNotAllowed(logger, "GET"))
	mux.Handle("/v1/payment_methods", handleMethodNotAllowed(logger, "GET, POST"))
	mux.Handle("/v1/payment_methods/{id}", handleMethodNotAllowed(logger, "GET, POST"))
	mux.Handle("/v1/payment_methods/{id}/attach", handleMethodNotAllowed(logger, "POST"))
	mux.Handle("/v1/payment_methods/{id}/detach", handleMethodNotAllowed(logger, "POST"))
	mux.Handle("/v1/webhook_endpoints", handleMethodNotAllowed(logger, "GET, POST"))
	mux.Handle("/v1/webhook_endpoints/{id}", handleMethodNotAllowed(logger, "GET, POST, DELETE"))
	mux.Handle("/v1/events", handleMethodNotAllowed(logger, "GET"))
	mux.Handle("/v1/events/{id}", handleMethodNotAllowed(logger, "GET"))
	mux.Handle("/", handleUnknownRoute(logger))
}
