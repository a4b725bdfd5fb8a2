package casapay

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomBase62 returns n characters drawn uniformly from base62, from crypto/rand.
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		rand.Read(buf) // never returns an error: it crashes the program instead, per crypto/rand
		for _, b := range buf {
			// 248 = 4×62: rejecting larger bytes keeps every character equally likely.
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// NewID returns a new object ID: prefix, an underscore, and 24 random base62 characters (about 143 bits).
func NewID(prefix string) string { return prefix + "_" + randomBase62(24) }

// NewTimeID returns a new object ID whose order follows t: prefix, an underscore, t in microseconds as
// nine fixed-width base62 characters, then 15 random ones (about 89 bits). base62's alphabet is in byte
// order, so IDs compare as their times do. Lists break ties on created (whole seconds) by ID, and this
// keeps them newest first within a second; objects made in the same microsecond fall in random order.
func NewTimeID(prefix string, t time.Time) string {
	var stamp [9]byte
	us := max(t.UnixMicro(), 0)
	for i := len(stamp) - 1; i >= 0; i-- {
		stamp[i] = base62[us%62]
		us /= 62
	}
	return prefix + "_" + string(stamp[:]) + randomBase62(15)
}

// ValidID reports whether id could be an ID NewID or NewTimeID made with prefix. It lets handlers answer
// a malformed ID as a missing object without a query.
func ValidID(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(rest) == 0 || len(rest) > 64 {
		return false
	}
	return onlyBase62(rest)
}

// onlyBase62 reports whether every byte of s is a base62 character.
func onlyBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return true
}

// hashSecret returns the hex SHA-256 of a secret key. Keys are 190 random bits, so a fast hash is safe:
// there is nothing to brute-force that a slow hash would protect.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
