package casapay

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RateLimits are the requests per second one account may make in each mode, for reads (GET) and for
// writes (POST, DELETE) each, as Stripe's default limits: 100 in live mode and 25 in test mode, so an
// integration that runs clean against CasaPay runs clean against Stripe. Off turns limiting off.
type RateLimits struct {
	Off        bool
	Live, Test int
}

// DefaultRateLimits are Stripe's.
var DefaultRateLimits = RateLimits{Live: 100, Test: 25}

// RateBurst is how many requests an account may make at once above its rate, after a quiet spell.
const RateBurst = 50

// MaxRateLimit bounds any rate limit, in requests per second: beyond it a limit means nothing.
const MaxRateLimit = 1_000_000

// PerSecond returns the limit of one mode.
func (l RateLimits) PerSecond(livemode bool) int {
	if livemode {
		return l.Live
	}
	return l.Test
}

// String writes l as ParseRateLimits reads it.
func (l RateLimits) String() string {
	if l.Off {
		return "off"
	}
	return strconv.Itoa(l.Live) + "/" + strconv.Itoa(l.Test)
}

// ParseRateLimits reads "off", or "LIVE/TEST": requests per second in live and test mode, each a
// positive integer.
func ParseRateLimits(s string) (RateLimits, error) {
	if s == "off" {
		return RateLimits{Off: true}, nil
	}
	live, test, ok := strings.Cut(s, "/")
	l, err1 := strconv.Atoi(live)
	t, err2 := strconv.Atoi(test)
	if !ok || err1 != nil || err2 != nil || l < 1 || t < 1 || l > MaxRateLimit || t > MaxRateLimit {
		return RateLimits{}, fmt.Errorf("rate limits %q: want off, or LIVE/TEST requests per second, such as 100/25", s)
	}
	return RateLimits{Live: l, Test: t}, nil
}

// ErrRateLimited is the 429 of a request over its account's rate (reason "global-rate") or over its
// account's requests in flight at once ("global-concurrency").
func ErrRateLimited(reason, message string) *Error {
	return &Error{Type: ErrorTypeInvalidRequest, Code: "rate_limit", Message: message, Status: 429, RetryAfter: 1, Reason: reason}
}

// RateKey names one budget: an account's requests of one kind (reads, or writes) in one mode.
type RateKey struct {
	Scope
	Write bool
}

// RateBucket is a budget's shape: PerSecond requests a second, and at most Capacity at once after a
// quiet spell (the rate plus RateBurst).
type RateBucket struct {
	PerSecond, Capacity int
}

// NewRateBucket returns the bucket of a rate: perSecond, with RateBurst above it.
func NewRateBucket(perSecond int) RateBucket {
	return RateBucket{PerSecond: perSecond, Capacity: perSecond + RateBurst}
}

// Available returns when the bucket holds n requests again, after a draw that left g.
func (b RateBucket) Available(g RateGrant, n int) time.Time {
	if g.Left >= float64(n) {
		return g.At
	}
	return g.At.Add(time.Duration((float64(n) - g.Left) / float64(b.PerSecond) * float64(time.Second)))
}

// RateGrant is what a draw from a shared budget took: Granted requests, leaving Left in the bucket at
// At, from which it refills at its rate.
type RateGrant struct {
	Granted int
	Left    float64
	At      time.Time
}

// RateBudgets is a store that keeps rate budgets that every serve process on it shares (PostgreSQL).
// Each budget is a token bucket: the requests it held when last drawn from, and when that was. A draw
// first refills it at the rate for the time since, up to its capacity. The bucket's shape comes with
// each call, so a new limit applies from the next draw, to the requests the bucket holds.
type RateBudgets interface {
	// DrawRateBudget takes up to want requests from key's bucket as of now, in one statement, and returns
	// how many it took: fewer, or none, when the bucket holds fewer.
	DrawRateBudget(ctx context.Context, key RateKey, b RateBucket, now time.Time, want int) (RateGrant, error)
	// ReturnRateBudget gives back n requests drawn and not used; the bucket holds at most its capacity.
	ReturnRateBudget(ctx context.Context, key RateKey, b RateBucket, n int) error
}
