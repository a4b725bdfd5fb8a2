package storage

import (
	"context"
	"fmt"
	"time"
)

// pruneChunk is how many rows one pruning transaction deletes at most. SQLite has one writer, and a
// transaction that deleted a month of events at once would hold it, and every request queued behind
// it, for as long as that takes; chunks let other writes in between.
const pruneChunk = 1000

// PruneEvents deletes events created before cutoff, in chunks of pruneChunk, and returns how many.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.prune(ctx, "events", func(ctx context.Context, ex Executor) (int64, error) {
		return ex.EventPrune(ctx, cutoff, pruneChunk)
	})
}

// PruneIdempotencyKeys deletes stored responses created before cutoff, in chunks of pruneChunk, and
// returns how many.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.prune(ctx, "idempotency keys", func(ctx context.Context, ex Executor) (int64, error) {
		return ex.IdempotencyPrune(ctx, cutoff, pruneChunk)
	})
}

// prune runs chunk, one transaction at a time, until a chunk deletes fewer than pruneChunk rows or ctx
// ends, and returns the rows deleted in all.
func (s *Store) prune(ctx context.Context, what string, chunk func(ctx context.Context, ex Executor) (int64, error)) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("prune %s: %w", what, err)
		}
		var n int64
		err := s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
			var err error
			n, err = chunk(ctx, ex)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", what, err)
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}
