package storage

import (
	"context"
	"fmt"
	"slices"

	"github.com/casapay/casapay"
)

// pageQuery is what list needs to read one page of one resource.
type pageQuery[T any] struct {
	kind          string // "customer": the object a missing cursor names
	limit         int
	startingAfter string
	endingBefore  string
	// position returns the created time of the cursor's row, or ErrNoRows.
	position func(ctx context.Context, ex Executor, id string) (int64, error)
	// read returns up to fetch rows from the keyset (nil for the first page), in reading order.
	read func(ctx context.Context, ex Executor, from *Keyset, fetch int) ([]T, error)
}

// list returns one page, newest first, and whether more rows lie beyond it in the direction of travel:
// older ones, or newer ones for ending_before. It reads limit+1 rows to know. With a cursor, the
// cursor's position and the page come from one snapshot, so a page never starts from a position that
// the rows it reads do not agree with; a first page is one statement.
func list[T any](ctx context.Context, d Driver, q pageQuery[T]) ([]T, bool, error) {
	var rows []T
	cursor := []struct{ param, id string }{{"starting_after", q.startingAfter}, {"ending_before", q.endingBefore}}
	read := func(ctx context.Context, ex Executor) error {
		var from *Keyset
		for _, c := range cursor {
			if c.id == "" {
				continue
			}
			created, err := q.position(ctx, ex, c.id)
			if created, err = found(created, err, q.kind, c.param, c.id); err != nil {
				return err
			}
			from = &Keyset{Created: created, ID: c.id, Newer: c.param == "ending_before"}
		}
		var err error
		if rows, err = q.read(ctx, ex, from, q.limit+1); err != nil {
			return fmt.Errorf("list %ss: %w", q.kind, err)
		}
		return nil
	}
	var err error
	if q.startingAfter == "" && q.endingBefore == "" {
		err = read(ctx, d.Executor())
	} else {
		err = d.InReadTx(ctx, read)
	}
	if err != nil {
		return nil, false, err
	}
	hasMore := len(rows) > q.limit
	rows = rows[:min(len(rows), q.limit)]
	if q.endingBefore != "" {
		slices.Reverse(rows) // read oldest first from the cursor; answered newest first
	}
	if rows == nil {
		rows = []T{} // an empty page is [], not null, once encoded
	}
	return rows, hasMore, nil
}

// inclusive returns r with only Gte and Lte set (see casapay.TimeRange.Inclusive), so dialects write
// two bounds, not four. A range no time matches becomes one whose bounds cross.
func inclusive(r casapay.TimeRange) casapay.TimeRange {
	gte, lte, empty := r.Inclusive()
	if empty {
		lo, hi := int64(1), int64(0)
		return casapay.TimeRange{Gte: &lo, Lte: &hi}
	}
	return casapay.TimeRange{Gte: gte, Lte: lte}
}
