package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/postgres"
	"github.com/casapay/casapay/sqlite"
)

// dbFlag adds the --db flag every command shares.
func dbFlag(flags *flag.FlagSet, getenv func(string) string) *string {
	return flags.String("db", cmp.Or(getenv("CASAPAY_DB"), "sqlite:casapay.db"),
		"database: sqlite:PATH or a postgres:// URL (env CASAPAY_DB)")
}

// openStore opens the store a --db value names and applies its migrations.
func openStore(ctx context.Context, db string) (casapay.Store, error) {
	switch {
	case strings.HasPrefix(db, "sqlite:"):
		path := strings.TrimPrefix(db, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("--db %q names no file", db)
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite store: %w", err)
		}
		return s, nil
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		s, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("--db must be sqlite:PATH or a postgres:// URL")
	}
}
