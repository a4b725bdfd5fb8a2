package casapay

import (
	"fmt"
	"strconv"
	"strings"
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
	if !ok || err1 != nil || err2 != nil || l < 1 || t < 1 {
		return RateLimits{}, fmt.Errorf("rate limits %q: want off, or LIVE/TEST requests per second, such as 100/25", s)
	}
	return RateLimits{Live: l, Test: t}, nil
}

// ErrRateLimited is the 429 of a request over its account's rate (reason "global-rate") or over its
// account's requests in flight at once ("global-concurrency").
func ErrRateLimited(reason, message string) *Error {
	return &Error{Type: ErrorTypeInvalidRequest, Code: "rate_limit", Message: message, Status: 429, RetryAfter: 1, Reason: reason}
}
