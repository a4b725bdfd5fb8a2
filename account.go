package casapay

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Account is a CasaPay merchant: a landlord or property manager. Every object belongs to one account.
type Account struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"-"`
	// FingerprintKey is the account's secret key of payment method fingerprints (see Fingerprint):
	// random, made with the account, and never shown.
	FingerprintKey []byte `json:"-"`
}

// Scope is what a request may see: one account, in test mode or in live mode. Every store method that
// touches objects takes a Scope and filters on both fields.
type Scope struct {
	AccountID string
	Livemode  bool
}

// APIKey is a secret key as stored: its SHA-256, never the key itself.
type APIKey struct {
	ID        string
	AccountID string
	Livemode  bool
	Hash      string // hex SHA-256 of the secret
	Last4     string // the secret's last four characters, to tell keys apart in listings
	Created   time.Time
	RevokedAt *time.Time // nil while the key works
	// RateLimit is the account's own rate limit in the key's mode, in requests per second, or 0 when the
	// server's applies (see AccountStore.SetAccountRateLimits). FindAPIKey fills it in.
	RateLimit int
}

// Secret key prefixes. The mode of a key is part of the key, as in Stripe.
const (
	TestKeyPrefix = "sk_test_"
	LiveKeyPrefix = "sk_live_"
)

// NewAPIKey makes a key for account in the given mode. It returns the secret, which is shown once and
// never stored, and the APIKey to store.
func NewAPIKey(accountID string, livemode bool, created time.Time) (secret string, key *APIKey) {
	prefix := TestKeyPrefix
	if livemode {
		prefix = LiveKeyPrefix
	}
	secret = prefix + randomBase62(32) // 32 base62 characters: about 190 bits
	return secret, &APIKey{
		ID:        NewID("key"),
		AccountID: accountID,
		Livemode:  livemode,
		Hash:      hashSecret(secret),
		Last4:     secret[len(secret)-4:],
		Created:   created.UTC(),
	}
}

// HashAPIKey returns the hash under which a presented secret would be stored.
func HashAPIKey(secret string) string { return hashSecret(secret) }

// Matches reports, in constant time, whether secret is this key's secret.
func (k *APIKey) Matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(k.Hash)) == 1
}

// Scope returns the scope the key grants.
func (k *APIKey) Scope() Scope { return Scope{AccountID: k.AccountID, Livemode: k.Livemode} }

// Masked returns a key's display form: its mode prefix, asterisks and its last four characters.
func (k *APIKey) Masked() string {
	prefix := TestKeyPrefix
	if k.Livemode {
		prefix = LiveKeyPrefix
	}
	return prefix + strings.Repeat("*", 24) + k.Last4
}

// MaskSecret returns a presented secret with all but its prefix and last four characters hidden, for error
// messages and logs. Secrets of unexpected shape are hidden entirely.
func MaskSecret(secret string) string {
	for _, prefix := range []string{TestKeyPrefix, LiveKeyPrefix} {
		if rest, ok := strings.CutPrefix(secret, prefix); ok && len(rest) > 8 && onlyBase62(rest) {
			return prefix + strings.Repeat("*", min(len(rest)-4, 24)) + rest[len(rest)-4:]
		}
	}
	return strings.Repeat("*", min(utf8.RuneCountInString(secret), 32))
}

// NewAccount returns a new account with one test-mode and one live-mode key, and those keys' secrets,
// which are shown once and never stored.
func NewAccount(name string, now time.Time) (a *Account, keys []*APIKey, testSecret, liveSecret string) {
	a = &Account{ID: NewID("acct"), Name: name, Created: now.UTC(), FingerprintKey: NewFingerprintKey()}
	testSecret, testKey := NewAPIKey(a.ID, false, now)
	liveSecret, liveKey := NewAPIKey(a.ID, true, now)
	return a, []*APIKey{testKey, liveKey}, testSecret, liveSecret
}

// ModeFingerprintKey returns the key that fingerprints the payment methods of one mode, derived from
// the account's key: test and live mode fingerprint with different keys, so no number tried in test
// mode, where any valid bank details are accepted, can be matched to a live payment method's
// fingerprint. It fails for a key that is not 32 bytes, which no account should have.
func ModeFingerprintKey(accountKey []byte, livemode bool) ([]byte, error) {
	if len(accountKey) != 32 {
		return nil, fmt.Errorf("fingerprint key of %d bytes, want 32", len(accountKey))
	}
	mode := "test"
	if livemode {
		mode = "live"
	}
	mac := hmac.New(sha256.New, accountKey)
	mac.Write([]byte("casapay fingerprint key: " + mode))
	return mac.Sum(nil), nil
}

// NewFingerprintKey returns a new random fingerprint key of 256 bits.
func NewFingerprintKey() []byte {
	key := make([]byte, 32)
	rand.Read(key) // never fails: crypto/rand panics rather than return an error
	return key
}
