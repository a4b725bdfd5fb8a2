package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/casapay/casapay"
)

// IdempotencyExecutor runs the statements of stored idempotent responses.
type IdempotencyExecutor interface {
	// IdempotencyLock takes the key's lock for the rest of the transaction, or reports false if another
	// transaction holds it. A dialect whose writes run one at a time may always report true.
	IdempotencyLock(ctx context.Context, scope casapay.Scope, key string) (bool, error)
	// IdempotencyFind returns the response stored for the key at or after since, and the fingerprint of
	// the request it answered, or ErrNoRows.
	IdempotencyFind(ctx context.Context, scope casapay.Scope, key string, since time.Time) (fingerprint string, r *casapay.Response, err error)
	// IdempotencyPut stores r for idem's key, replacing an expired record of the key if one is left.
	IdempotencyPut(ctx context.Context, scope casapay.Scope, idem *casapay.Idempotency, r *casapay.Response) error
	// IdempotencyPrune deletes at most limit stored responses created before cutoff.
	IdempotencyPrune(ctx context.Context, cutoff time.Time, limit int) (int64, error)
}

// change is what one write did, for the write path to answer with, store and record.
type change struct {
	status int
	body   []byte // the answer, marshalled once: the response, the stored replay and, by default, the event's object
	events []pendingEvent
}

// pendingEvent is the event a change records.
type pendingEvent struct {
	typ      string
	object   []byte    // data.object; nil means the change's body
	previous []byte    // data.previous_attributes, for *.updated
	at       time.Time // when the change was applied; zero means the request's time
}

// answer returns a change that answers 200 with v, marshalled here once.
func answer(v any) (*change, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return &change{status: http.StatusOK, body: body}, nil
}

// write runs fn as one write of scope under req, in one transaction, and returns its answer.
//
// The idempotency flow is written here once for every resource: with a key, write takes the key's
// lock (ErrIdempotencyInFlight if another transaction holds it), looks up a stored response (a replay,
// or ErrIdempotencyMismatch for other parameters, and then fn never runs), and otherwise runs fn and
// stores its answer. The change, its event and the stored answer commit together or not at all. fn's
// error rolls everything back and is returned as it is; nothing is stored under the key, so a retry
// runs afresh.
func (s *Store) write(ctx context.Context, scope casapay.Scope, req casapay.Request,
	fn func(ctx context.Context, ex Executor) (*change, error)) (*casapay.Response, error) {
	var resp *casapay.Response
	err := s.d.InTx(ctx, func(ctx context.Context, ex Executor) error {
		idem := req.Idempotency
		if idem != nil {
			replay, err := findReplay(ctx, ex, scope, idem)
			if err != nil || replay != nil {
				resp = replay
				return err
			}
		}
		ch, err := fn(ctx, ex)
		if err != nil {
			return err
		}
		if len(ch.events) > 0 {
			// Read once for all the write's events: a customer's delete records one per payment method.
			endpoints, err := ex.WebhookEndpointsEnabled(ctx, scope)
			if err != nil {
				return fmt.Errorf("find webhook endpoints: %w", err)
			}
			for i, e := range ch.events {
				if err := s.recordEvent(ctx, ex, scope, req, ch, e, i, endpoints); err != nil {
					return err
				}
			}
		}
		r := &casapay.Response{Status: ch.status, Body: ch.body}
		if idem != nil {
			if err := ex.IdempotencyPut(ctx, scope, idem, r); err != nil {
				return fmt.Errorf("store idempotent response: %w", err)
			}
		}
		resp = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// findReplay locks idem's key and returns the response stored for it, nil if there is none.
func findReplay(ctx context.Context, ex Executor, scope casapay.Scope, idem *casapay.Idempotency) (*casapay.Response, error) {
	locked, err := ex.IdempotencyLock(ctx, scope, idem.Key)
	if err != nil {
		return nil, fmt.Errorf("lock idempotency key: %w", err)
	}
	if !locked {
		return nil, casapay.ErrIdempotencyInFlight(idem.Key)
	}
	fingerprint, stored, err := ex.IdempotencyFind(ctx, scope, idem.Key, idem.Since())
	switch {
	case errors.Is(err, ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("find idempotency key: %w", err)
	}
	return idem.Match(fingerprint, stored)
}

// recordEvent inserts the event of ch at index i of its events, in the write's transaction, with its
// deliveries to the enabled endpoints that subscribe to it. The events of one write follow each other a
// microsecond apart, so their IDs, and so the list, keep their order.
func (s *Store) recordEvent(ctx context.Context, ex Executor, scope casapay.Scope, req casapay.Request, ch *change, pe pendingEvent, i int,
	endpoints []*casapay.WebhookEndpoint) error {
	object := pe.object
	if object == nil {
		object = ch.body
	}
	if !pe.at.IsZero() {
		req.Time = pe.at
	}
	if req.Time.IsZero() {
		req.Time = s.now()
	}
	req.Time = req.Time.Add(time.Duration(i) * time.Microsecond)
	e := casapay.NewEvent(scope, pe.typ, object, pe.previous, req, s.now())
	queue := queueDeliveries(ctx, ex, scope, e, endpoints)
	if err := ex.EventInsert(ctx, scope, e); err != nil {
		return fmt.Errorf("record event %s: %w", e.Type, err)
	}
	return queue()
}
