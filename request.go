package casapay

import "time"

// IdempotencyWindow is how long a stored response answers retries of its key. After it, the key is free.
const IdempotencyWindow = 24 * time.Hour

// Idempotency identifies a write that carried an Idempotency-Key header. Fingerprint is a hash of the
// request (method, path and decoded parameters); Created is when the request arrived.
type Idempotency struct {
	Key         string
	Fingerprint string
	Created     time.Time
}

// Since returns the oldest creation time a stored response may have and still answer idem's key.
func (idem *Idempotency) Since() time.Time { return idem.Created.Add(-IdempotencyWindow) }

// Match decides what a request under idem gets from the response stored for its key, which was stored
// for the request whose fingerprint is given: that response, marked replayed, or ErrIdempotencyMismatch.
func (idem *Idempotency) Match(fingerprint string, stored *Response) (*Response, error) {
	if fingerprint != idem.Fingerprint {
		return nil, ErrIdempotencyMismatch(idem.Key)
	}
	replay := *stored
	replay.Replayed = true
	return &replay, nil
}

// Request is what a write knows of the API request that asked for it. ID (req_…) and Idempotency (nil
// without an Idempotency-Key) become the request field of the event the write records. Time is when the
// request arrived: a create's customer and its event take it as their created time, while updates and
// deletes stamp their events when they are applied, so one object's events follow the order of its
// changes. Writes no API request made pass the zero Request: their events carry no request, and are
// stamped with the time they are written. Expand names the fields of the answer to expand, as the
// request's expand[] gave them; the events a write records always show objects unexpanded.
type Request struct {
	ID          string
	Time        time.Time
	Idempotency *Idempotency
	Expand      []string
}

// Response is a write's answer as the API sends it: its HTTP status and its JSON body, marshalled once,
// inside the write's transaction, for the answer, the stored idempotent response and the event alike.
// Replayed is true when the write did nothing and Body is the response stored for its idempotency key.
type Response struct {
	Status   int
	Body     []byte
	Replayed bool
}
