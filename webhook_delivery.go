package casapay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"time"
)

// WebhookDelivery is one event due at one endpoint, as a deliverer claims it: what to send, where, and
// the lease under which it is sent. Only the process holding the lease records the attempt's outcome.
type WebhookDelivery struct {
	ID         string
	Scope      Scope
	EventID    string
	EndpointID string
	URL        string
	Secret     string
	Body       []byte // the event's JSON
	Attempts   int    // attempts made before this one
	Lease      string // the claim's token
	Created    time.Time
}

// WebhookAttempt is the outcome of one attempt: the receiver's status code, or the error that kept it
// from answering, and how long it took.
type WebhookAttempt struct {
	At         time.Time
	StatusCode int    // 0 when there was no answer
	Error      string // "" when there was an answer
	Duration   time.Duration
}

// WebhookOutcome is what came of one attempt of a claimed delivery: delivered (a 2xx), to be retried
// at Retry, or, with a zero Retry, failed for good.
type WebhookOutcome struct {
	Delivery *WebhookDelivery
	Attempt  *WebhookAttempt
	Retry    time.Time
}

// Delivered reports whether the attempt delivered the event: a 2xx answer.
func (a *WebhookAttempt) Delivered() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// WebhookRetention is how long deliveries and their attempts are kept.
const WebhookRetention = 30 * 24 * time.Hour

// Retry schedules: the delay before each retry after a failed attempt, from the first retry on. A
// live-mode event is retried for up to about three days, a test-mode one for about two and a half hours.
var (
	LiveRetries = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 12 * time.Hour, 12 * time.Hour, 12 * time.Hour, 18 * time.Hour}
	TestRetries = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}
)

// NextRetry returns how long after its attempts-th failed attempt (1 for the first) a delivery is tried
// again, or false when it has had all its retries. Each delay of the mode's schedule is multiplied by
// scale (1 in production; tests shorten it) and moved by up to ±20% at random, so that retries of many
// deliveries to a recovering endpoint do not arrive at once.
func NextRetry(livemode bool, attempts int, scale float64) (time.Duration, bool) {
	schedule := TestRetries
	if livemode {
		schedule = LiveRetries
	}
	if attempts < 1 || attempts > len(schedule) {
		return 0, false
	}
	d := float64(schedule[attempts-1]) * scale
	return time.Duration(d * (0.8 + 0.4*rand.Float64())), true
}

// SignWebhook returns the Stripe-Signature header of a delivery of body at t, keyed with the endpoint's
// secret: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">, which Stripe's SDKs verify unchanged.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}
