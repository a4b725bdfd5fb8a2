// Package postgres is CasaPay's shared store, on PostgreSQL through pgx. Many serve processes may use one
// database at once.
package postgres

import (
	"context"
	"errors"

	"github.com/casapay/casapay"
)

// Store is a casapay.Store on a PostgreSQL database.
type Store struct{ casapay.Store }

// Open connects to the database at url (a postgres:// URL) and applies pending migrations.
func Open(ctx context.Context, url string) (*Store, error) { return nil, errors.New("not implemented") }
