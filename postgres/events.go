package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

const eventColumns = `id, livemode, type, created, api_version, object, previous_attributes, request_id,
	idempotency_key, pending_webhooks`

// scanEvent reads a row of eventColumns. The json columns arrive as their text, byte for byte.
func scanEvent(row pgx.CollectableRow) (*casapay.Event, error) {
	var ev casapay.Event
	var object, previous []byte
	err := row.Scan(&ev.ID, &ev.Livemode, &ev.Type, &ev.Created, &ev.APIVersion, &object, &previous, &ev.RequestID,
		&ev.IdempotencyKey, &ev.PendingWebhooks)
	if err != nil {
		return nil, err
	}
	ev.Object = object
	if previous != nil {
		ev.PreviousAttributes = previous
	}
	return &ev, nil
}

const insertEvent = `
INSERT INTO events (account_id, livemode, id, type, created, api_version, object, previous_attributes,
	request_id, idempotency_key, pending_webhooks)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// EventInsert inserts ev in scope. The JSON goes as text, so the json columns keep it as it is.
func (e executor) EventInsert(ctx context.Context, scope casapay.Scope, ev *casapay.Event) error {
	err := e.later(ctx, "insert event", insertEvent, scope.AccountID, scope.Livemode, ev.ID, ev.Type, ev.Created, ev.APIVersion,
		string(ev.Object), storage.Text(ev.PreviousAttributes), ev.RequestID, ev.IdempotencyKey, ev.PendingWebhooks)
	return err
}

const findEvent = `SELECT ` + eventColumns + ` FROM events WHERE account_id = $1 AND livemode = $2 AND id = $3`

// EventGet returns the scope's event, or storage.ErrNoRows.
func (e executor) EventGet(ctx context.Context, scope casapay.Scope, id string) (*casapay.Event, error) {
	return queryOne(ctx, e, scanEvent, findEvent, scope.AccountID, scope.Livemode, id)
}

const eventPosition = `SELECT created FROM events WHERE account_id = $1 AND livemode = $2 AND id = $3`

// EventPosition returns the created time of the scope's event, or storage.ErrNoRows.
func (e executor) EventPosition(ctx context.Context, scope casapay.Scope, id string) (int64, error) {
	return scalar[int64](ctx, e, eventPosition, scope.AccountID, scope.Livemode, id)
}

// The event list queries are planned per execution, as the customer list queries are (see
// listCustomersWhere). One type ($7) is an equality, which events_type_idx bounds, walking it in
// order; several ($9) are a set, filtered along events_list_idx. `type = ANY` of a one-element array
// would not do for one: the planner takes an index scan with an array condition as unordered, and sorts.
const listEventsWhere = `
WHERE account_id = $1 AND livemode = $2
	AND ($5::bigint IS NULL OR created >= $5) AND ($6::bigint IS NULL OR created <= $6)
	AND ($7::text IS NULL OR type = $7) AND ($9::text[] IS NULL OR type = ANY($9))
	AND ($10::boolean IS NULL OR (pending_webhooks = 0) = $10)`

var listEventsOlder, listEventsNewer = pageQueries(`SELECT `+eventColumns+` FROM events`+listEventsWhere, 8)

// EventPage reads a page of the scope's events, in reading order.
func (e executor) EventPage(ctx context.Context, scope casapay.Scope, f casapay.EventFilter, from *storage.Keyset, fetch int) ([]*casapay.Event, error) {
	query, cursorCreated, cursorID := pageFrom(listEventsOlder, listEventsNewer, from)
	var one *string
	var several []string
	switch len(f.Types) {
	case 0:
	case 1:
		one = &f.Types[0]
	default:
		several = f.Types
	}
	return queryAll(ctx, e, scanEvent, query, pgx.QueryExecModeExec, scope.AccountID, scope.Livemode,
		cursorCreated, cursorID, f.Created.Gte, f.Created.Lte, one, fetch, several, f.DeliverySuccess)
}

// pruneEvents deletes one chunk of old events, found through the BRIN index events_created_idx. It
// asks for no order: a BRIN index gives none, and sorting every expired event to take a chunk would
// cost each chunk as much as all of them.
const pruneEvents = `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created < $1 LIMIT $2)`

// EventPrune deletes at most limit events created before cutoff.
func (e executor) EventPrune(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	return e.exec(ctx, pruneEvents, cutoff.Unix(), limit)
}
