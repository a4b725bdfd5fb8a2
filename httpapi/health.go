package httpapi

import (
	"net/http"

	"github.com/casapay/casapay/openapi"
)

// handleHealth answers 200 without authentication. The server binds its listener only after the store
// is open and migrated, so any answer at all means it is ready.
func handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleOpenAPI serves the API's OpenAPI document.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(openapi.Document)
	})
}
