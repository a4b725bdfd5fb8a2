package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
)

// CreateCustomerPaused is CreateCustomer paused in flight: inside its transaction, once it holds the
// idempotency key's lock and found no stored response, it closes paused and waits for resume to close
// before it writes. Tests use it to hold a key the way a slow request does.
func (s *Store) CreateCustomerPaused(ctx context.Context, scope casapay.Scope, c *casapay.Customer, idem *casapay.Idempotency,
	paused chan<- struct{}, resume <-chan struct{}) (*casapay.Replay, error) {
	_, replay, err := idempotent(ctx, s, scope, idem, func(tx pgx.Tx) (*casapay.Customer, error) {
		close(paused)
		<-resume
		return createCustomer(ctx, tx, scope, c)
	})
	return replay, err
}
