package casapay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// APIVersion is the version of Stripe's API whose wire format CasaPay answers in, and the api_version
// of every event it records. It names Stripe's release train, which is what Stripe's SDKs compare when
// they verify a webhook's event, so an event CasaPay sends passes their check unchanged.
const APIVersion = "2025-08-27.basil"

// EventRetention is how long events are kept: they can be retrieved and listed for this long after
// they happen, and are pruned afterwards.
const EventRetention = 30 * 24 * time.Hour

// Event types: one per kind of change CasaPay records.
const (
	EventCustomerCreated = "customer.created"
	EventCustomerUpdated = "customer.updated"
	EventCustomerDeleted = "customer.deleted"

	EventPaymentMethodAttached = "payment_method.attached"
	EventPaymentMethodDetached = "payment_method.detached"
	EventPaymentMethodUpdated  = "payment_method.updated"
)

// EventTypes lists every event type, in the order the API documents them.
var EventTypes = []string{
	EventCustomerCreated, EventCustomerUpdated, EventCustomerDeleted,
	EventPaymentMethodAttached, EventPaymentMethodDetached, EventPaymentMethodUpdated,
}

// Event records one change to an object, as Stripe's event object does. Its JSON is the API's event.
type Event struct {
	ID       string
	Type     string
	Created  int64 // Unix seconds
	Livemode bool
	// APIVersion is the version Object was rendered in; nil for events recorded without one.
	APIVersion *string
	// Object is the changed object's JSON as it was after the change (data.object).
	Object json.RawMessage
	// PreviousAttributes is, for *.updated events only, a JSON object of exactly the top-level fields
	// that changed, with their old values (data.previous_attributes); nil otherwise.
	PreviousAttributes json.RawMessage
	// RequestID and IdempotencyKey name the API request that made the change, when one did.
	RequestID      *string
	IdempotencyKey *string
	// PendingWebhooks counts deliveries of the event not yet made.
	PendingWebhooks int64
}

// eventWire is the event object on the wire.
type eventWire struct {
	ID              string       `json:"id"`
	Object          string       `json:"object"`
	APIVersion      *string      `json:"api_version"`
	Created         int64        `json:"created"`
	Data            eventData    `json:"data"`
	Livemode        bool         `json:"livemode"`
	PendingWebhooks int64        `json:"pending_webhooks"`
	Request         eventRequest `json:"request"`
	Type            string       `json:"type"`
}

type eventData struct {
	Object             json.RawMessage `json:"object"`
	PreviousAttributes json.RawMessage `json:"previous_attributes,omitempty"`
}

type eventRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// MarshalJSON writes the event object: data holds the object, and previous_attributes only when set.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(eventWire{
		ID:              e.ID,
		Object:          "event",
		APIVersion:      e.APIVersion,
		Created:         e.Created,
		Data:            eventData{Object: e.Object, PreviousAttributes: e.PreviousAttributes},
		Livemode:        e.Livemode,
		PendingWebhooks: e.PendingWebhooks,
		Request:         eventRequest{ID: e.RequestID, IdempotencyKey: e.IdempotencyKey},
		Type:            e.Type,
	})
}

// UnmarshalJSON reads the event object MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w eventWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Event{
		ID: w.ID, Type: w.Type, Created: w.Created, Livemode: w.Livemode, APIVersion: w.APIVersion,
		Object: w.Data.Object, PreviousAttributes: w.Data.PreviousAttributes,
		RequestID: w.Request.ID, IdempotencyKey: w.Request.IdempotencyKey, PendingWebhooks: w.PendingWebhooks,
	}
	return nil
}

// NewEvent returns the event of a change in scope: its type, the object's JSON after the change, for
// updates the previous attributes (see PreviousAttributes), and the request that made it. Its ID sorts
// by req.Time, or by now when req has no time.
func NewEvent(scope Scope, typ string, object, previous json.RawMessage, req Request, now time.Time) *Event {
	at := req.Time
	if at.IsZero() {
		at = now
	}
	version := APIVersion
	e := &Event{
		ID:                 NewTimeID("evt", at),
		Type:               typ,
		Created:            at.Unix(),
		Livemode:           scope.Livemode,
		APIVersion:         &version,
		Object:             object,
		PreviousAttributes: previous,
	}
	if req.ID != "" {
		id := req.ID
		e.RequestID = &id
	}
	if req.Idempotency != nil {
		key := req.Idempotency.Key
		e.IdempotencyKey = &key
	}
	return e
}

// PreviousAttributes compares two JSON objects, an object before and after a change, and returns a JSON
// object of exactly the top-level fields whose values differ, each with its value in before (null for a
// field before lacked), or nil when none differ. Values compare as encoded, so both must come from the
// same encoder: encoding/json writes map keys sorted, so equal values encode equally.
func PreviousAttributes(before, after []byte) (json.RawMessage, error) {
	var b, a map[string]json.RawMessage
	if err := json.Unmarshal(before, &b); err != nil {
		return nil, fmt.Errorf("compare objects: decode before: %w", err)
	}
	if err := json.Unmarshal(after, &a); err != nil {
		return nil, fmt.Errorf("compare objects: decode after: %w", err)
	}
	changed := map[string]json.RawMessage{}
	for k, old := range b {
		if !bytes.Equal(old, a[k]) {
			changed[k] = old
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			changed[k] = json.RawMessage("null")
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	out, err := json.Marshal(changed)
	if err != nil {
		return nil, fmt.Errorf("encode previous attributes: %w", err)
	}
	return out, nil
}

// MaxEventTypes is how many types one events list may filter on with types[].
const MaxEventTypes = 20

// EventFilter selects a page of events, newest first. At most one of StartingAfter and EndingBefore is
// set; both are event IDs in the same scope. Types, when not nil, keeps only events of those types.
type EventFilter struct {
	Limit         int // 1 to 100
	StartingAfter string
	EndingBefore  string
	Created       TimeRange
	Types         []string
	// DeliverySuccess, when set, keeps only events whose webhooks were all delivered (true) or that have
	// a delivery not yet made (false): the events whose pending_webhooks is 0, or is not.
	DeliverySuccess *bool
}

// PageSize returns how many events a page of f holds, as CustomerFilter.PageSize does.
func (f EventFilter) PageSize() (int, error) {
	return pageSize(f.Limit, f.StartingAfter, f.EndingBefore)
}

// EventTypesMatching returns the known event types a type filter selects: the type itself, or for a
// pattern ending in ".*" (such as "customer.*") every type under that prefix; "*" alone selects all.
// It returns an invalid_request_error naming param when nothing known matches, so a misspelt type
// is an error rather than an empty list.
func EventTypesMatching(param, pattern string) ([]string, error) {
	var out []string
	switch {
	case pattern == "*":
		out = slices.Clone(EventTypes)
	case strings.HasSuffix(pattern, ".*"):
		prefix := strings.TrimSuffix(pattern, "*")
		for _, t := range EventTypes {
			if strings.HasPrefix(t, prefix) {
				out = append(out, t)
			}
		}
	case slices.Contains(EventTypes, pattern):
		out = []string{pattern}
	}
	if len(out) == 0 {
		return nil, InvalidParam(CodeParameterInvalidString, param,
			"Invalid %s: %q is not an event type. Known types: %s; a pattern such as customer.* selects several.",
			param, pattern, strings.Join(EventTypes, ", "))
	}
	return out, nil
}
