package casapay

import (
	"strings"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	for _, prefix := range []string{"cus", "key", "acct"} {
		t.Run(prefix, func(t *testing.T) {
			seen := make(map[string]bool, 10000)
			for range 10000 {
				id := NewID(prefix)
				rest, ok := strings.CutPrefix(id, prefix+"_")
				if !ok {
					t.Fatalf("NewID(%q) = %q, want prefix %q", prefix, id, prefix+"_")
				}
				if len(rest) != 24 {
					t.Fatalf("NewID(%q) = %q has %d random characters, want 24", prefix, id, len(rest))
				}
				if i := strings.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune(base62, r) }); i >= 0 {
					t.Fatalf("NewID(%q) = %q has non-base62 character %q", prefix, id, rest[i])
				}
				if !ValidID(prefix, id) {
					t.Fatalf("ValidID(%q, NewID(%q) = %q) = false, want true", prefix, prefix, id)
				}
				if seen[id] {
					t.Fatalf("NewID(%q) repeated %q", prefix, id)
				}
				seen[id] = true
			}
		})
	}
}

func TestRandomBase62(t *testing.T) {
	for _, n := range []int{0, 1, 2, 24, 32, 1000} {
		if got := randomBase62(n); len(got) != n || strings.Trim(got, base62) != "" {
			t.Errorf("randomBase62(%d) = %q, want %d base62 characters", n, got, n)
		}
	}

	// Each character should appear 10,000 times, with a standard deviation of about 100. A ±7% band is
	// 7 deviations wide, so it never fails by chance, yet it catches a plain b%62, which makes the first
	// eight characters about 21% more likely than the rest.
	const perChar = 10000
	counts := map[rune]int{}
	for _, r := range randomBase62(62 * perChar) {
		counts[r]++
	}
	for _, r := range base62 {
		if got := counts[r]; got < perChar*93/100 || got > perChar*107/100 {
			t.Errorf("randomBase62 drew %q %d times in %d, want %d ± 7%%", r, got, 62*perChar, perChar)
		}
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		id     string
		want   bool
	}{
		{name: "new customer ID", prefix: "cus", id: NewID("cus"), want: true},
		{name: "new key ID", prefix: "key", id: NewID("key"), want: true},
		{name: "short Stripe-style ID", prefix: "cus", id: "cus_123", want: true},
		{name: "one character", prefix: "cus", id: "cus_a", want: true},
		{name: "64 characters", prefix: "cus", id: "cus_" + strings.Repeat("Z", 64), want: true},
		{name: "65 characters", prefix: "cus", id: "cus_" + strings.Repeat("Z", 65), want: false},
		{name: "very long", prefix: "cus", id: "cus_" + strings.Repeat("a", 1<<16), want: false},
		{name: "empty", prefix: "cus", id: "", want: false},
		{name: "prefix only", prefix: "cus", id: "cus", want: false},
		{name: "prefix and underscore only", prefix: "cus", id: "cus_", want: false},
		{name: "other prefix", prefix: "cus", id: NewID("key"), want: false},
		{name: "longer prefix", prefix: "cus", id: "cust_abc", want: false},
		{name: "no underscore", prefix: "cus", id: "cusabc", want: false},
		{name: "upper-case prefix", prefix: "cus", id: "CUS_abc", want: false},
		{name: "leading space", prefix: "cus", id: " cus_abc", want: false},
		{name: "trailing newline", prefix: "cus", id: "cus_abc\n", want: false},
		{name: "second underscore", prefix: "cus", id: "cus_abc_def", want: false},
		{name: "hyphen", prefix: "cus", id: "cus_abc-def", want: false},
		{name: "space", prefix: "cus", id: "cus_abc def", want: false},
		{name: "slash", prefix: "cus", id: "cus_abc/../x", want: false},
		{name: "quote", prefix: "cus", id: "cus_abc'", want: false},
		{name: "percent", prefix: "cus", id: "cus_abc%20", want: false},
		{name: "NUL", prefix: "cus", id: "cus_abc\x00", want: false},
		{name: "non-ASCII letter", prefix: "cus", id: "cus_abcé", want: false},
		{name: "invalid UTF-8", prefix: "cus", id: "cus_abc\xff", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidID(tt.prefix, tt.id); got != tt.want {
				t.Errorf("ValidID(%q, %.80q) = %t, want %t", tt.prefix, tt.id, got, tt.want)
			}
		})
	}
}

func TestNewTimeIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	prev := NewTimeID("cus", base)
	for _, d := range []time.Duration{time.Microsecond, time.Millisecond, time.Second, 1000 * time.Hour, 200 * 365 * 24 * time.Hour} {
		next := NewTimeID("cus", base.Add(d))
		if next <= prev {
			t.Errorf("NewTimeID at +%v = %q, not after %q", d, next, prev)
		}
		if !ValidID("cus", next) || len(next) != len("cus_")+24 {
			t.Errorf("NewTimeID = %q, want cus_ and 24 base62 characters", next)
		}
		prev = next
	}
	if a, b := NewTimeID("cus", base), NewTimeID("cus", base); a == b {
		t.Errorf("two IDs at one instant are equal: %q", a)
	}
}
