package casapay

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestNewAPIKey(t *testing.T) {
	created := time.Date(2025, 6, 1, 9, 0, 0, 0, time.FixedZone("UTC-5", -5*3600))
	tests := []struct {
		name       string
		livemode   bool
		wantPrefix string
	}{
		{name: "test mode", livemode: false, wantPrefix: "sk_test_"},
		{name: "live mode", livemode: true, wantPrefix: "sk_live_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, key := NewAPIKey("acct_1", tt.livemode, created)

			rest, ok := strings.CutPrefix(secret, tt.wantPrefix)
			if !ok {
				t.Fatalf("NewAPIKey() secret = %q, want prefix %q", secret, tt.wantPrefix)
			}
			// 32 base62 characters carry 32·log2(62) ≈ 190 bits, above the 128 a key needs.
			if len(rest) < 32 {
				t.Errorf("NewAPIKey() secret %q has %d random characters, want at least 32", secret, len(rest))
			}
			if i := strings.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune(base62, r) }); i >= 0 {
				t.Errorf("NewAPIKey() secret %q has non-base62 character %q", secret, rest[i])
			}

			sum := sha256.Sum256([]byte(secret))
			want := &APIKey{
				AccountID: "acct_1",
				Livemode:  tt.livemode,
				Hash:      hex.EncodeToString(sum[:]),
				Last4:     secret[len(secret)-4:],
				Created:   created,
			}
			if diff := cmp.Diff(want, key, cmpopts.IgnoreFields(APIKey{}, "ID")); diff != "" {
				t.Errorf("NewAPIKey() key mismatch (-want +got):\n%s", diff)
			}
			if key.Created.Location() != time.UTC {
				t.Errorf("NewAPIKey() Created location = %v, want UTC", key.Created.Location())
			}
			if !ValidID("key", key.ID) || len(key.ID) != len("key_")+24 {
				t.Errorf("NewAPIKey() ID = %q, want key_ and 24 base62 characters", key.ID)
			}
			if key.Hash == secret || strings.Contains(key.Hash, rest) {
				t.Errorf("NewAPIKey() Hash = %q, want it not to contain the secret %q", key.Hash, secret)
			}
			if got := HashAPIKey(secret); got != key.Hash {
				t.Errorf("HashAPIKey(secret) = %q, want the stored hash %q", got, key.Hash)
			}
			if got, want := key.Scope(), (Scope{AccountID: "acct_1", Livemode: tt.livemode}); got != want {
				t.Errorf("Scope() = %+v, want %+v", got, want)
			}
			if got, want := key.Masked(), tt.wantPrefix+strings.Repeat("*", 24)+secret[len(secret)-4:]; got != want {
				t.Errorf("Masked() = %q, want %q", got, want)
			}
			if strings.Contains(key.Masked(), rest[:len(rest)-4]) {
				t.Errorf("Masked() = %q, want it not to contain the secret %q", key.Masked(), secret)
			}
		})
	}

	t.Run("distinct", func(t *testing.T) {
		seen := map[string]bool{}
		for range 1000 {
			secret, key := NewAPIKey("acct_1", false, created)
			if seen[secret] || seen[key.ID] || seen[key.Hash] {
				t.Fatalf("NewAPIKey() repeated secret %q, ID %q or hash %q", secret, key.ID, key.Hash)
			}
			seen[secret], seen[key.ID], seen[key.Hash] = true, true, true
		}
	})
}

func TestAPIKeyMatches(t *testing.T) {
	secret, key := NewAPIKey("acct_1", false, time.Unix(0, 0))
	other, _ := NewAPIKey("acct_1", false, time.Unix(0, 0))
	live := LiveKeyPrefix + strings.TrimPrefix(secret, TestKeyPrefix)
	tests := []struct {
		name   string
		secret string
		want   bool
	}{
		{name: "own secret", secret: secret, want: true},
		{name: "other secret", secret: other, want: false},
		{name: "same secret in live mode", secret: live, want: false},
		{name: "empty", secret: "", want: false},
		{name: "prefix only", secret: TestKeyPrefix, want: false},
		{name: "one character more", secret: secret + "x", want: false},
		{name: "one character less", secret: secret[:len(secret)-1], want: false},
		{name: "upper-cased", secret: strings.ToUpper(secret), want: false},
		{name: "the hash itself", secret: key.Hash, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := key.Matches(tt.secret); got != tt.want {
				t.Errorf("Matches(%q) = %t, want %t", tt.secret, got, tt.want)
			}
		})
	}
}

func TestMaskSecret(t *testing.T) {
	testSecret, _ := NewAPIKey("acct_1", false, time.Unix(0, 0))
	liveSecret, _ := NewAPIKey("acct_1", true, time.Unix(0, 0))
	huge := strings.Repeat("A", 1<<20)
	tests := []struct {
		name   string
		secret string
		want   string
	}{
		{name: "test key", secret: testSecret, want: "sk_test_" + strings.Repeat("*", 24) + testSecret[len(testSecret)-4:]},
		{name: "live key", secret: liveSecret, want: "sk_live_" + strings.Repeat("*", 24) + liveSecret[len(liveSecret)-4:]},
		{name: "shortest masked key", secret: "sk_test_abcdefghi", want: "sk_test_*****fghi"},
		{name: "key too short to show an end", secret: "sk_test_abcdefgh", want: strings.Repeat("*", 16)},
		{name: "prefix only", secret: "sk_live_", want: strings.Repeat("*", 8)},
		{name: "huge key", secret: "sk_test_" + huge + "WXYZ", want: "sk_test_" + strings.Repeat("*", 24) + "WXYZ"},
		{name: "huge non-key", secret: huge, want: strings.Repeat("*", 32)},
		{name: "empty", secret: "", want: ""},
		{name: "password", secret: "hunter2", want: "*******"},
		{name: "publishable key", secret: "pk_test_abcdefghijklmnop", want: strings.Repeat("*", 24)},
		{name: "restricted key", secret: "rk_live_abcdefghijklmnop", want: strings.Repeat("*", 24)},
		{name: "upper-case prefix", secret: "SK_TEST_abcdefghijklmnop", want: strings.Repeat("*", 24)},
		{name: "whole header", secret: "Bearer sk_test_abcdefghijklmnop", want: strings.Repeat("*", 31)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MaskSecret(tt.secret)
			if got != tt.want {
				t.Errorf("MaskSecret(%.40q) = %q, want %q", tt.secret, got, tt.want)
			}
			if len(got) > len("sk_test_")+24+4 {
				t.Errorf("MaskSecret(%.40q) has %d bytes, want at most 36", tt.secret, len(got))
			}
			// Whatever the shape, at most a mode prefix and four characters of the end may show.
			visible := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(got, TestKeyPrefix), LiveKeyPrefix), "*")
			if strings.Contains(visible, "*") || len(visible) > 4 || !strings.HasSuffix(tt.secret, visible) {
				t.Errorf("MaskSecret(%.40q) = %q, want at most a prefix, asterisks and the last four characters", tt.secret, got)
			}
			for _, prefix := range []string{TestKeyPrefix, LiveKeyPrefix} {
				if rest, ok := strings.CutPrefix(tt.secret, prefix); ok && len(rest) > 4 {
					if middle := rest[:len(rest)-4]; strings.Contains(got, middle) {
						t.Errorf("MaskSecret(%.40q) = %q, want it not to contain %.40q", tt.secret, got, middle)
					}
				}
			}
		})
	}
}
