package httpapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/casapay/casapay"
)

// caller is what requireKey learns of a request's key: its scope, and its account's own rate limit in
// that mode (0 for the server's).
type caller struct {
	scope     casapay.Scope
	rateLimit int
}

func scopeFrom(ctx context.Context) casapay.Scope {
	c, _ := ctx.Value(scopeKey).(caller)
	return c.scope
}

func rateLimitFrom(ctx context.Context) int {
	c, _ := ctx.Value(scopeKey).(caller)
	return c.rateLimit
}

// requireKey authenticates the request's secret key and puts its Scope in the context. A missing,
// unknown or revoked key gets 401 before next runs. The store keeps the keys it has looked up, and a
// revoked key stops working in every process within a second (see storage.KeyCacheTTL).
func requireKey(logger *slog.Logger, keys casapay.AccountStore, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Values("Authorization")) > 1 {
			// A proxy in front may have checked another of them than the one this would use.
			writeError(w, r, logger, &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Status: http.StatusBadRequest,
				Message: "The request has more than one Authorization header; send one."})
			return
		}
		secret, err := secretFrom(r.Header.Get("Authorization"))
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		invalid := unauthorized(fmt.Sprintf("Invalid API Key provided: %s", casapay.MaskSecret(secret)))
		if !strings.HasPrefix(secret, casapay.TestKeyPrefix) && !strings.HasPrefix(secret, casapay.LiveKeyPrefix) {
			writeError(w, r, logger, invalid)
			return
		}
		key, err := keys.FindAPIKey(r.Context(), casapay.HashAPIKey(secret))
		switch {
		case casapay.IsNotFound(err):
			writeError(w, r, logger, invalid)
			return
		case err != nil:
			writeError(w, r, logger, err)
			return
		case !key.Matches(secret):
			writeError(w, r, logger, invalid)
			return
		case key.RevokedAt != nil:
			writeError(w, r, logger, unauthorized(fmt.Sprintf("This API key has been revoked: %s", casapay.MaskSecret(secret))))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), scopeKey, caller{key.Scope(), key.RateLimit})))
	})
}

// secretFrom reads the key from "Bearer KEY" or from HTTP Basic with the key as user name, as Stripe
// accepts both.
func secretFrom(header string) (string, error) {
	if header == "" {
		return "", unauthorized("You did not provide an API key. Provide it in the Authorization header, " +
			"using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
	}
	scheme, value, _ := strings.Cut(header, " ")
	value = strings.TrimSpace(value)
	switch {
	case strings.EqualFold(scheme, "Bearer") && value != "":
		return value, nil
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return "", unauthorized("Invalid Basic authorization header: it must be base64 of 'KEY:'.")
		}
		user, _, _ := strings.Cut(string(raw), ":")
		if user == "" {
			return "", unauthorized("You did not provide an API key: with Basic auth, the key is the user name.")
		}
		return user, nil
	default:
		return "", unauthorized("Invalid Authorization header: use 'Bearer YOUR_SECRET_KEY' or Basic auth with the key as user name.")
	}
}

func unauthorized(msg string) *casapay.Error {
	return &casapay.Error{Type: casapay.ErrorTypeInvalidRequest, Message: msg, Status: http.StatusUnauthorized}
}
