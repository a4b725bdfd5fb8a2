// Package postgres is CasaPay's shared store, on PostgreSQL through pgx. Many serve processes may use one
// database at once: everything that coordinates them (migrations, idempotency keys, the first account)
// is a lock or a row in PostgreSQL, never state in one process's memory.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// Store is a casapay.Store on a PostgreSQL database, through a pool of connections. It is a
// storage.Driver (InTx, InReadTx and Executor, with this package's SQL), and the embedded storage.Store
// gives it the rest of casapay.Store, written once for both dialects.
type Store struct {
	*storage.Store
	pool  *pgxpool.Pool
	watch keyWatch
}

var (
	_ casapay.Store    = (*Store)(nil)
	_ storage.Driver   = (*Store)(nil)
	_ storage.Executor = executor{}
)

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
// max(4, number of CPUs): 4 on a 2-core machine. A store that looks up API keys also holds one more,
// outside the pool, which listens for key changes (see KeysVersion). Every query here is short, and PostgreSQL's throughput
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
	s := &Store{pool: pool}
	s.Store = storage.New(s)
	return s, nil
}

// Close stops listening for key changes and closes the pool, waiting for connections in use to be
// returned. It always returns nil.
func (s *Store) Close() error {
	s.stopWatch()
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

// SQLSTATE codes that interpret recognises (Appendix A of PostgreSQL's manual).
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeDeadlockDetected    = "40P01"
	codeSerialization       = "40001"
)

// interpret maps the driver errors that the orchestration acts on to storage.ErrNoRows, ErrDuplicate and
// ErrMissingParent, keeping the original in the chain for the log. It recognises them by value and by
// SQLSTATE code, never by message text, which changes with the server's version and locale. Other
// errors pass unchanged.
func interpret(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: %w", storage.ErrNoRows, err)
	case errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation:
		return fmt.Errorf("%w: %w", storage.ErrDuplicate, err)
	case errors.As(err, &pgErr) && pgErr.Code == codeForeignKeyViolation:
		return fmt.Errorf("%w: %w", storage.ErrMissingParent, err)
	case errors.As(err, &pgErr) && (pgErr.Code == codeDeadlockDetected || pgErr.Code == codeSerialization):
		return fmt.Errorf("%w: %w", storage.ErrConflict, err)
	default:
		return err
	}
}

// InTx runs fn in a transaction (READ COMMITTED) and commits it if fn returns nil. Waiting for a pooled
// connection follows ctx, so a request abandoned before it starts adds no work; once it has one, BEGIN,
// COMMIT and ROLLBACK run with a context that the caller's cancellation does not reach: a client that
// disconnects while COMMIT is on its way would otherwise be told "cancelled" for a write that
// committed, and a retry without an idempotency key would then write twice. fn's statements do use ctx,
// so a request abandoned before it commits stops early and rolls back; the writes fn left held (see
// executor) go with the commit, out of ctx's reach.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, ex storage.Executor) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	uncancelled := context.WithoutCancel(ctx)
	tx, err := conn.BeginTx(uncancelled, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(uncancelled) // a no-op once committed; on any error it discards every write
	ex := executor{q: tx, held: &heldWrites{}}
	if err := fn(ctx, ex); err != nil {
		return err
	}
	// The writes fn left held are part of what it did: once it has returned, they go with the commit,
	// out of the caller's reach.
	if err := ex.send(uncancelled); err != nil {
		return err
	}
	if err := tx.Commit(uncancelled); err != nil {
		return fmt.Errorf("commit: %w", interpret(err))
	}
	return nil
}

// InReadTx runs fn in a read-only REPEATABLE READ transaction: every statement in it sees the snapshot
// the first one took. READ COMMITTED, the default, would give each statement a snapshot of its own. A
// read has nothing to commit, so all of it follows ctx.
func (s *Store) InReadTx(ctx context.Context, fn func(ctx context.Context, ex storage.Executor) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(ctx, executor{q: tx}) })
}

// Executor returns the executor on the pool: each statement runs on a free connection, in a
// transaction of its own.
func (s *Store) Executor() storage.Executor { return executor{q: s.pool} }

// querier is what an executor runs statements on: the pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error)
}

// executor runs this package's statements on q. Its methods return interpreted errors.
//
// In a write transaction, held keeps the writes whose result nobody reads (inserts, and updates whose
// count is not asked for: see later) until a statement must run, and then sends them together with it,
// in one round trip; what is still held when the transaction's function returns goes just before
// COMMIT. A create is then six round trips instead of nine. No statement ever runs before a write
// queued ahead of it. A held write that fails fails the statement it was sent with, or the commit, and
// so the transaction, as it would have on its own; its error names what it was doing.
type executor struct {
	q    querier
	held *heldWrites // nil outside a write transaction: every statement runs at once
}

// heldWrites are a transaction's held statements and, for their errors, what each does.
type heldWrites struct {
	batch pgx.Batch
	what  []string
}

// later runs a write whose result is not read: in a write transaction it is held and sent with the next
// statement; elsewhere it runs at once. what says what it does, for its error. Its arguments are copied
// where the caller could change them before it is sent (see frozen).
func (e executor) later(ctx context.Context, what, sql string, args ...any) error {
	if e.held == nil {
		if _, err := e.exec(ctx, sql, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	e.held.batch.Queue(sql, frozen(args)...)
	e.held.what = append(e.held.what, what)
	return nil
}

// frozen returns args with every value a caller might change in place after later returns (what a
// pointer points to, a map, a slice) copied or encoded now, since pgx encodes a held statement's
// arguments only when it sends it.
func frozen(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case *string:
			a = copyOf(v)
		case *int:
			a = copyOf(v)
		case *int64:
			a = copyOf(v)
		case *bool:
			a = copyOf(v)
		case *time.Time:
			a = copyOf(v)
		case map[string]string:
			a = maps.Clone(v)
		case []string:
			a = slices.Clone(v)
		case []byte:
			a = slices.Clone(v)
		case json.RawMessage:
			a = slices.Clone(v)
		case *casapay.Address:
			if v != nil {
				b, err := json.Marshal(v)
				if err != nil {
					panic(fmt.Sprintf("encode address: %v", err)) // plain struct of strings: cannot fail
				}
				a = string(b)
			}
		}
		out[i] = a
	}
	return out
}

// copyOf returns a pointer to a copy of *p, or p if it is nil.
func copyOf[T any](p *T) *T {
	if p == nil {
		return p
	}
	c := *p
	return &c
}

// send sends the held writes, if any, in one round trip, and reports the first that failed.
func (e executor) send(ctx context.Context) error {
	if e.held == nil || len(e.held.what) == 0 {
		return nil
	}
	br, err := e.sendHeld(ctx, nil)
	if err != nil {
		return err
	}
	return interpret(br.Close())
}

// sendHeld sends the held writes, and then the statement q if it is not nil, in one batch, reads the
// writes' results, and returns the batch with q's result next. A write's failure closes the batch.
func (e executor) sendHeld(ctx context.Context, q *pgx.QueuedQuery) (pgx.BatchResults, error) {
	b := &pgx.Batch{QueuedQueries: e.held.batch.QueuedQueries}
	what := e.held.what
	e.held.batch.QueuedQueries, e.held.what = nil, nil
	if q != nil {
		b.QueuedQueries = append(b.QueuedQueries, q)
	}
	br := e.q.SendBatch(ctx, b)
	for _, w := range what {
		if _, err := br.Exec(); err != nil {
			br.Close() // reports the same failure again
			return nil, fmt.Errorf("%s: %w", w, interpret(err))
		}
	}
	return br, nil
}

// holding reports whether a statement with args must go with held writes: some are held, and args do
// not choose a query mode, which a batch does not take.
func (e executor) holding(args []any) bool {
	if e.held == nil || len(e.held.what) == 0 {
		return false
	}
	if len(args) > 0 {
		if _, ok := args[0].(pgx.QueryExecMode); ok {
			return false
		}
	}
	return true
}

// exec runs a statement, after the held writes and in their round trip, and returns how many rows it
// changed.
func (e executor) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	if !e.holding(args) {
		if err := e.send(ctx); err != nil {
			return 0, err
		}
		tag, err := e.q.Exec(ctx, sql, args...)
		if err != nil {
			return 0, interpret(err)
		}
		return tag.RowsAffected(), nil
	}
	br, err := e.sendHeld(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return 0, interpret(err)
	}
	return tag.RowsAffected(), nil
}

// query runs a query, after the held writes and in their round trip.
func (e executor) query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if !e.holding(args) {
		if err := e.send(ctx); err != nil {
			return nil, err
		}
		return e.q.Query(ctx, sql, args...)
	}
	br, err := e.sendHeld(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return batchRows{rows, br}, nil
}

// batchRows are the rows of a batch's last query: closing them closes the batch, which frees the
// connection.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

// Close closes the rows and the batch. Every other result of the batch was read, so the batch's Close
// has nothing of its own to report: an error reading the rows is in Err, and a broken connection fails
// the transaction's next statement or its commit.
func (r batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}

// queryOne runs a query and reads its one row with scan, or returns storage.ErrNoRows.
func queryOne[T any](ctx context.Context, e executor, scan pgx.RowToFunc[T], sql string, args ...any) (T, error) {
	rows, err := e.query(ctx, sql, args...)
	if err != nil {
		var zero T
		return zero, interpret(err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, scan)
	return v, interpret(err)
}

// queryAll runs a query and reads every row with scan.
func queryAll[T any](ctx context.Context, e executor, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	rows, err := e.query(ctx, sql, args...)
	if err != nil {
		return nil, interpret(err)
	}
	out, err := pgx.CollectRows(rows, scan)
	return out, interpret(err)
}

// scalar reads a query's one value.
func scalar[T any](ctx context.Context, e executor, sql string, args ...any) (T, error) {
	return queryOne(ctx, e, pgx.RowTo[T], sql, args...)
}

// copyFrom bulk-inserts rows into table, after the held writes.
func (e executor) copyFrom(ctx context.Context, table string, columns []string, rows pgx.CopyFromSource) (int64, error) {
	if err := e.send(ctx); err != nil {
		return 0, err
	}
	n, err := e.q.CopyFrom(ctx, pgx.Identifier{table}, columns, rows)
	return n, interpret(err)
}

// metadataOrEmpty returns m, or {} for nil: every metadata column is NOT NULL, and an object's metadata
// is {} when empty.
func metadataOrEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
