package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// eventColumns are the columns scanEvent reads, in its order.
const eventColumns = `id, livemode, type, created, api_version, object, previous_attributes, request_id,
	idempotency_key, pending_webhooks`

const insertEventSQL = `
INSERT INTO events (id, account_id, livemode, type, created, api_version, object, previous_attributes,
	request_id, idempotency_key, pending_webhooks)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// EventInsert inserts e in scope.
func (e *executor) EventInsert(ctx context.Context, scope casapay.Scope, ev *casapay.Event) error {
	_, err := e.exec(ctx, insertEventSQL, ev.ID, scope.AccountID, scope.Livemode, ev.Type, ev.Created, ev.APIVersion,
		string(ev.Object), storage.Text(ev.PreviousAttributes), ev.RequestID, ev.IdempotencyKey, ev.PendingWebhooks)
	return err
}

const findEventSQL = `SELECT ` + eventColumns + ` FROM events WHERE id = ? AND account_id = ? AND livemode = ?`

// EventGet returns an event of scope, or storage.ErrNoRows.
func (e *executor) EventGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.Event, error) {
	return scanEvent(e.queryRow(ctx, findEventSQL, id, scope.AccountID, scope.Livemode))
}

const eventPositionSQL = `SELECT created FROM events WHERE id = ? AND account_id = ? AND livemode = ?`

// EventPosition returns the created time of an event of scope, or storage.ErrNoRows.
func (e *executor) EventPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error) {
	return e.position(ctx, eventPositionSQL, scope, id)
}

// The FROM and WHERE of an event page, and its type filters: one type walks events_type; several are
// a JSON array that json_each turns into a set, walked along events_list.
const (
	eventsPage    = `events WHERE account_id = ? AND livemode = ?`
	eventsOfType  = ` AND type = ?`
	eventsOfTypes = ` AND type IN (SELECT value FROM json_each(?))`
	// eventsDelivered is delivery_success: whether every webhook of the event was delivered.
	eventsDelivered = ` AND (pending_webhooks = 0) = ?`
)

// EventPage reads a page of events (see pageSQL).
func (e *executor) EventPage(ctx context.Context, scope casapay.Scope, f casapay.EventFilter, from *storage.Keyset, fetch int) ([]*casapay.Event, error) {
	query, args, err := eventPageQuery(scope, f, from, fetch)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, e, scanEvent, query, args...)
}

// eventPageQuery returns the query of an event page and its arguments.
func eventPageQuery(scope casapay.Scope, f casapay.EventFilter, from *storage.Keyset, fetch int) (string, []any, error) {
	filter, args := ``, []any{scope.AccountID, scope.Livemode}
	switch len(f.Types) {
	case 0:
	case 1:
		filter = eventsOfType
		args = append(args, f.Types[0])
	default:
		types, err := json.Marshal(f.Types)
		if err != nil {
			return "", nil, fmt.Errorf("encode event types: %w", err)
		}
		filter = eventsOfTypes
		args = append(args, string(types))
	}
	if f.DeliverySuccess != nil {
		filter += eventsDelivered
		args = append(args, *f.DeliverySuccess)
	}
	return pageSQL(eventsPage, eventColumns, filter, shapeOf(f.Created, from)), pageArgs(args, f.Created, from, fetch), nil
}

// pruneEventsSQL deletes the expired events among the oldest inserted: it reads the first rows of the
// table in rowid order, which needs no index, and stops after limit of them. Rowids grow with each
// insert, and an event is inserted when it happens, so the oldest rows are the oldest events; a chunk
// that finds fewer than limit expired ones has reached the events that are still kept, and ends the
// prune. Filtering on created over the whole table instead would scan every kept event once nothing
// is left to delete.
const pruneEventsSQL = `DELETE FROM events WHERE rowid IN (SELECT rowid FROM events ORDER BY rowid LIMIT ?2) AND created < ?1`

// EventPrune deletes at most limit events created before cutoff.
func (e *executor) EventPrune(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	return e.execCount(ctx, pruneEventsSQL, cutoff.Unix(), limit)
}

// scanEvent reads eventColumns.
func scanEvent(row scanner) (*casapay.Event, error) {
	var (
		ev       casapay.Event
		object   string
		previous sql.Null[string]
	)
	err := row.Scan(&ev.ID, &ev.Livemode, &ev.Type, &ev.Created, &ev.APIVersion, &object, &previous, &ev.RequestID,
		&ev.IdempotencyKey, &ev.PendingWebhooks)
	if err != nil {
		return nil, interpret(err)
	}
	ev.Object = json.RawMessage(object)
	if previous.Valid {
		ev.PreviousAttributes = json.RawMessage(previous.V)
	}
	return &ev, nil
}
