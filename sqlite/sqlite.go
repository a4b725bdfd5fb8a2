// Package sqlite is CasaPay's embedded store, on a SQLite file (modernc.org/sqlite, pure Go).
package sqlite

import (
	"context"
	"errors"

	"github.com/casapay/casapay"
)

// Store is a casapay.Store on one SQLite file.
type Store struct{ casapay.Store }

// Open opens (creating if needed) the database at path and applies pending migrations.
func Open(ctx context.Context, path string) (*Store, error) { return nil, errors.New("not implemented") }
