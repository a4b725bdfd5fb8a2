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
	return found(e, err, "event", "id", id)
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
