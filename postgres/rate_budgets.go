package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/casapay/casapay"
)

var _ casapay.RateBudgets = (*Store)(nil)

// drawRateBudget takes up to $5 requests, as of $4 (µs since 1970), from a bucket of capacity $6 that
// refills at $8 a second, in one statement: the row lock of the update is all the coordination the serve
// processes need. A new row starts full, so its first draw takes $7, which the caller computes as
// min(want, capacity). Every expression in SET reads the row as it was, so granted is what this draw
// took. A clock behind the last draw's refills nothing.
const drawRateBudget = `
INSERT INTO rate_budgets AS b (account_id, livemode, write, tokens, drawn_at, granted)
VALUES ($1, $2, $3, $6::float8 - $7::integer, $4::bigint, $7::integer)
ON CONFLICT (account_id, livemode, write) DO UPDATE SET
	granted = least($5::integer, floor(least($6::float8, b.tokens + greatest(0, $4::bigint - b.drawn_at) * $8::float8 / 1e6))),
	tokens = least($6::float8, b.tokens + greatest(0, $4::bigint - b.drawn_at) * $8::float8 / 1e6)
		- least($5::integer, floor(least($6::float8, b.tokens + greatest(0, $4::bigint - b.drawn_at) * $8::float8 / 1e6))),
	drawn_at = greatest(b.drawn_at, $4::bigint)
RETURNING granted, tokens, drawn_at`

// DrawRateBudget takes up to want requests from key's bucket as of now, and returns how many it took.
func (s *Store) DrawRateBudget(ctx context.Context, key casapay.RateKey, b casapay.RateBucket, now time.Time, want int) (casapay.RateGrant, error) {
	var (
		g       casapay.RateGrant
		drawnAt int64
	)
	err := s.pool.QueryRow(ctx, drawRateBudget, key.AccountID, key.Livemode, key.Write, now.UnixMicro(), want,
		b.Capacity, min(want, b.Capacity), b.PerSecond).Scan(&g.Granted, &g.Left, &drawnAt)
	if err != nil {
		return casapay.RateGrant{}, fmt.Errorf("draw rate budget: %w", interpret(err))
	}
	g.At = time.UnixMicro(drawnAt)
	return g, nil
}

// returnRateBudget puts back $4 requests into a bucket of capacity $5.
const returnRateBudget = `
UPDATE rate_budgets SET tokens = least($5::float8, tokens + $4::integer)
WHERE account_id = $1 AND livemode = $2 AND write = $3`

// ReturnRateBudget gives back n requests drawn from key's bucket and not used.
func (s *Store) ReturnRateBudget(ctx context.Context, key casapay.RateKey, b casapay.RateBucket, n int) error {
	if _, err := s.pool.Exec(ctx, returnRateBudget, key.AccountID, key.Livemode, key.Write, n, b.Capacity); err != nil {
		return fmt.Errorf("return rate budget: %w", interpret(err))
	}
	return nil
}
