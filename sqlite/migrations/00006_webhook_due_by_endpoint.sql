-- An endpoint's pending deliveries in the order they fall due, so that a claim can find the due ones of
-- an endpoint at its bound, to postpone them, without walking the rest of its backlog.

-- +goose Up
DROP INDEX webhook_deliveries_endpoint;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, next_attempt) WHERE status = 'pending';

-- +goose Down
DROP INDEX webhook_deliveries_endpoint;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id) WHERE status = 'pending';
