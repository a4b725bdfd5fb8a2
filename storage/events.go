package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casapay/casapay"
)

// EventExecutor runs the statements of events.
type EventExecutor interface {
	// EventInsert inserts e in scope.
	EventInsert(ctx context.Context, scope casapay.Scope, e *casapay.Event) error
	// EventGet returns an event, or ErrNoRows.
	EventGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.Event, error)
	// EventPosition returns the created time of an event, or ErrNoRows.
	EventPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error)
	// EventPage reads up to fetch events of f from the keyset (nil: from the newest), in reading order.
	// f's Created has only Gte and Lte set; f's Types is nil or holds at least one type.
	EventPage(ctx context.Context, scope casapay.Scope, f casapay.EventFilter, from *Keyset, fetch int) ([]*casapay.Event, error)
	// EventPrune deletes at most limit events created before cutoff.
	EventPrune(ctx context.Context, cutoff time.Time, limit int) (int64, error)
}

var (
	_ casapay.EventStore = (*Store)(nil)
	_ casapay.Pruner     = (*Store)(nil)
)

// Text returns JSON as the text a column holds: nil (SQL NULL) for nil, as an event's
// previous_attributes is unless the event is an update.
func Text(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// FindEvent returns an event of scope, or resource_missing (param "id").
func (s *Store) FindEvent(ctx context.Context, scope casapay.Scope, id string) (*casapay.Event, error) {
	e, err := s.d.Executor().EventGet(ctx, scope, id)
	switch {
	case errors.Is(err, ErrNoRows):
		return nil, casapay.NotFound("event", "id", id)
	case err != nil:
		return nil, fmt.Errorf("find event %s: %w", id, err)
	}
	return e, nil
}

// ListEvents returns a page of scope's events, newest first (see list). f.Types is nil or names at
// least one type: the HTTP layer turns a pattern that matches nothing into a parameter error.
func (s *Store) ListEvents(ctx context.Context, scope casapay.Scope, f casapay.EventFilter) ([]*casapay.Event, bool, error) {
	limit, err := f.PageSize()
	if err != nil {
		return nil, false, fmt.Errorf("list events: %w", err)
	}
	if f.Types != nil && len(f.Types) == 0 {
		return nil, false, errors.New("list events: an empty set of types")
	}
	f.Created = inclusive(f.Created)
	return list(ctx, s.d, pageQuery[*casapay.Event]{
		kind: "event", limit: limit, startingAfter: f.StartingAfter, endingBefore: f.EndingBefore,
		position: func(ctx context.Context, ex Executor, id string) (int64, error) {
			return ex.EventPosition(ctx, scope, id)
		},
		read: func(ctx context.Context, ex Executor, from *Keyset, fetch int) ([]*casapay.Event, error) {
			return ex.EventPage(ctx, scope, f, from, fetch)
		},
	})
}

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
