package casapay

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
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

// ValidID reports whether id could be an ID NewID made with prefix. It lets handlers reject malformed IDs
// without a query, and it keeps arbitrary bytes out of error messages.
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
