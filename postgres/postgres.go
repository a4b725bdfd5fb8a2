// Package postgres is CasaPay's shared store, on PostgreSQL through pgx. Many serve processes may use one
// database at once: everything that coordinates them (migrations, idempotency keys, the first account)
// is a lock or a row in PostgreSQL, never state in one process's memory.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/casapay/casapay"
)

// Store is a casapay.Store on a PostgreSQL database, through a pool of connections.
type Store struct {
	pool *pgxpool.Pool
}

var _ casapay.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects to the database at url and applies pending migrations, waiting while another process
// applies them. url is a postgres:// URL or a keyword/value string as pgx parses it.
//
// Tables live in the first schema of the connection's search_path, which the URL may set
// (search_path=name): pgx sends unknown URL parameters as run-time settings, so every connection of the
// pool, the migrating one included, resolves table names in that schema.
//
// The pool holds at most pool_max_conns connections (a URL parameter), by default pgxpool's
// max(4, number of CPUs): 4 on a 2-core machine. Every query here is short, and PostgreSQL's throughput
// peaks at a few active connections per core; more would only queue inside the server, and several serve
// processes share the server's max_connections (100 by default).
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse postgres url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres pool: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool, waiting for connections in use to be returned. It always returns nil.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migrationLockID names the advisory lock that serialises migrations of the current schema. Advisory
// locks belong to the whole database, so goose's default, one constant, would make stores on different
// schemas (parallel tests, or several deployments in one database) wait for each other's migrations,
// polling once a second; each schema has its own goose_db_version table, so a lock per schema suffices.
const migrationLockID = `SELECT hashtextextended('casapay migrations ' || coalesce(current_schema(), ''), 0)`

// migrate applies the embedded migrations that the database lacks, each in its own transaction. goose's
// session locker holds a PostgreSQL advisory lock on one connection for the whole run, so serve processes
// that start together on one database apply each migration exactly once: the others wait, then find
// nothing pending.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	var lockID int64
	if err := pool.QueryRow(ctx, migrationLockID).Scan(&lockID); err != nil {
		return fmt.Errorf("migrate: derive lock id: %w", err)
	}
	// goose polls for the lock; the shortest period it allows is a second. Five minutes covers any
	// migration we would run at start-up.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrate: session locker: %w", err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Closing this *sql.DB (which Provider.Close does) leaves the pool open: OpenDBFromPool only borrows it.
	provider, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer provider.Close()
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Errors that interpret recognises. They are not *casapay.Error values: only the caller knows which object
// and which parameter a missing row or a broken reference is about, so it makes the client's error.
var (
	errNoRows     = errors.New("no rows")
	errForeignKey = errors.New("referenced row missing")
)

// codeForeignKeyViolation is PostgreSQL's SQLSTATE for a reference to a missing row (Appendix A of its
// manual). Unique violations (23505) need no sentinel: IDs are random, the idempotency record is an
// upsert under its key's lock, and BootstrapAccount locks the table, so none is a client's doing.
const codeForeignKeyViolation = "23503"

// interpret maps the driver errors that callers act on to errNoRows and errForeignKey,
// keeping the original in the chain for the log. It recognises them by value and by SQLSTATE code, never
// by message text, which changes with the server's version and locale. Other errors pass unchanged.
func interpret(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: %w", errNoRows, err)
	case errors.As(err, &pgErr) && pgErr.Code == codeForeignKeyViolation:
		return fmt.Errorf("%w: %w", errForeignKey, err)
	default:
		return err
	}
}
