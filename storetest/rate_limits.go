package storetest

import (
	"testing"
	"time"

	"github.com/casapay/casapay"
)

// testAccountRateLimits: an account's own rate limits are kept per mode, come back with each of its keys
// in the key's mode (FindAPIKey and ListAPIKeys), and go back to the server's with 0.
func testAccountRateLimits(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	a, keys, testSecret, liveSecret := casapay.NewAccount("Rate Lettings", at(0))
	if err := s.CreateAccount(ctx, a, keys); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	other, otherKeys, otherSecret, _ := casapay.NewAccount("Other Lettings", at(0))
	if err := s.CreateAccount(ctx, other, otherKeys); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	limitOf := func(secret string) int {
		t.Helper()
		k, err := s.FindAPIKey(ctx, casapay.HashAPIKey(secret))
		if err != nil {
			t.Fatalf("FindAPIKey: %v", err)
		}
		return k.RateLimit
	}
	if got, err := s.AccountRateLimits(ctx, a.ID); err != nil || got != (casapay.RateLimits{}) {
		t.Errorf("AccountRateLimits of a new account = %+v, %v; want none", got, err)
	}
	if limitOf(testSecret) != 0 || limitOf(liveSecret) != 0 {
		t.Errorf("a new account's keys carry limits %d, %d; want 0 (the server's)", limitOf(testSecret), limitOf(liveSecret))
	}

	if err := s.SetAccountRateLimits(ctx, a.ID, casapay.RateLimits{Live: 500, Test: 40}); err != nil {
		t.Fatalf("SetAccountRateLimits: %v", err)
	}
	if got, err := s.AccountRateLimits(ctx, a.ID); err != nil || got != (casapay.RateLimits{Live: 500, Test: 40}) {
		t.Errorf("AccountRateLimits = %+v, %v; want 500/40", got, err)
	}
	if limitOf(testSecret) != 40 || limitOf(liveSecret) != 500 {
		t.Errorf("keys carry limits test %d, live %d; want 40, 500", limitOf(testSecret), limitOf(liveSecret))
	}
	if limitOf(otherSecret) != 0 {
		t.Errorf("another account's key carries %d; want 0", limitOf(otherSecret))
	}
	listed, err := s.ListAPIKeys(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListAPIKeys: %v", err)
	}
	for _, k := range listed {
		if want := map[bool]int{false: 40, true: 500}[k.Livemode]; k.RateLimit != want {
			t.Errorf("listed key %s (live %v) carries %d, want %d", k.ID, k.Livemode, k.RateLimit, want)
		}
	}

	if err := s.SetAccountRateLimits(ctx, a.ID, casapay.RateLimits{Live: 500}); err != nil {
		t.Fatalf("SetAccountRateLimits: %v", err)
	}
	if limitOf(testSecret) != 0 || limitOf(liveSecret) != 500 {
		t.Errorf("after clearing test mode's: test %d, live %d; want 0, 500", limitOf(testSecret), limitOf(liveSecret))
	}
	wantCode(t, "SetAccountRateLimits(missing)", s.SetAccountRateLimits(ctx, "acct_missing", casapay.RateLimits{Live: 1}),
		casapay.CodeResourceMissing, "account")
	_, err = s.AccountRateLimits(ctx, "acct_missing")
	wantCode(t, "AccountRateLimits(missing)", err, casapay.CodeResourceMissing, "account")
}

// RateBudgets checks the shared rate budgets of a store that keeps them (casapay.RateBudgets, which
// the store open makes must be): a new bucket is full, draws take what it holds and no more, it refills at
// the rate up to its capacity, and what is handed back returns, within the capacity. Times are given, so
// nothing depends on the clock.
func RateBudgets(t *testing.T, open Opener) {
	s := open(t)
	rb, ok := s.(casapay.RateBudgets)
	if !ok {
		t.Fatalf("%T keeps no shared rate budgets", s)
	}
	ctx := t.Context()
	scope := newAccount(t, s)
	key := casapay.RateKey{Scope: scope}
	b := casapay.RateBucket{PerSecond: 10, Capacity: 15} // an interval of 100 ms
	t0 := at(100)
	drawFrom := func(b casapay.RateBucket, now time.Time, want, wantGranted int) casapay.RateGrant {
		t.Helper()
		g, err := rb.DrawRateBudget(ctx, key, b, now, want)
		if err != nil {
			t.Fatalf("DrawRateBudget: %v", err)
		}
		if g.Granted != wantGranted {
			t.Errorf("draw of %d at +%v granted %d, want %d", want, now.Sub(t0), g.Granted, wantGranted)
		}
		return g
	}
	draw := func(now time.Time, want, wantGranted int) casapay.RateGrant {
		t.Helper()
		return drawFrom(b, now, want, wantGranted)
	}
	draw(t0, 10, 10)
	g := draw(t0, 10, 5) // the capacity is 15
	if g.Left != 0 || !g.At.Equal(t0) {
		t.Errorf("empty bucket: %+v, want 0 left at %v", g, t0)
	}
	if got := b.Available(g, 3); !got.Equal(t0.Add(300 * time.Millisecond)) {
		t.Errorf("3 available at +%v, want +300ms", got.Sub(t0))
	}
	draw(t0.Add(50*time.Millisecond), 1, 0)  // half an interval refills nothing
	draw(t0.Add(250*time.Millisecond), 5, 2) // two and a half intervals: two
	draw(t0.Add(10*time.Second), 100, 15)    // a long quiet spell refills only up to the capacity

	// Other budgets are apart: writes, the other mode, another account.
	for _, other := range []casapay.RateKey{{Scope: scope, Write: true}, {Scope: live(scope)}, {Scope: newAccount(t, s)}} {
		if g, err := rb.DrawRateBudget(ctx, other, b, t0.Add(10*time.Second), 100); err != nil || g.Granted != 15 {
			t.Errorf("draw from %+v = %+v, %v; want the full 15", other, g, err)
		}
	}

	// Handing back returns what was not used, but never beyond the capacity.
	t1 := t0.Add(20 * time.Second)
	draw(t1, 15, 15)
	if err := rb.ReturnRateBudget(ctx, key, b, 4); err != nil {
		t.Fatalf("ReturnRateBudget: %v", err)
	}
	draw(t1, 15, 4)
	if err := rb.ReturnRateBudget(ctx, key, b, 15); err != nil {
		t.Fatalf("ReturnRateBudget: %v", err)
	}
	draw(t1.Add(10*time.Second), 100, 15)

	// A new limit applies to the requests the bucket holds: an empty bucket of 10 a second, now 100 a
	// second, has 10 a tenth of a second later, not the 1 the old rate would give.
	t2 := t1.Add(10 * time.Second)
	drawFrom(casapay.RateBucket{PerSecond: 100, Capacity: 150}, t2.Add(100*time.Millisecond), 100, 10)
	// A clock behind the last draw (another process's) refills nothing, and takes nothing back.
	drawFrom(casapay.RateBucket{PerSecond: 100, Capacity: 150}, t2, 100, 0)
}
