// Package sqlite is CasaPay's embedded store, on a SQLite file (modernc.org/sqlite, pure Go).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/casapay/casapay/storage"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a casapay.Store on one SQLite file. It is safe for concurrent use. It is a storage.Driver
// (InTx, InReadTx and Executor, with this package's SQL), and the embedded storage.Store gives it the
// rest of casapay.Store, written once for both dialects.
//
// Every write is a request to one writer goroutine, which commits the requests that queued while it was
// busy together, in one transaction on the one writer connection (see Store.write); reads run in
// parallel beside it, on a pool of their own, and never wait for it.
type Store struct {
	*storage.Store

	path   string    // the database file
	writer *sql.DB   // exactly one connection, used only by the writer goroutine (and by Open before it starts)
	reader *sql.DB   // several query-only connections for reads outside write transactions
	writes stmtCache // every statement, prepared on the writer by Open
	reads  stmtCache // every statement, prepared on the reader pool by Open
	pool   *executor // the executor on the reader pool, outside any transaction

	queue     queue
	stop      chan struct{} // closed by Close: the writer goroutine exits once its batch is answered
	stopped   chan struct{} // closed by the writer goroutine as it exits
	closeOnce sync.Once
	closeErr  error

	batchSize  prometheus.Histogram
	collectors []prometheus.Collector
}

// pragmas are set on every connection, as the driver opens it.
//
// SQLite allows one writer at a time per database file. In its default rollback-journal mode a writer
// also blocks every reader, so journal_mode(WAL) is what lets list and retrieve requests keep reading a
// consistent snapshot while a create commits. WAL does not lift the one-writer rule, though: two
// connections that both try to write get SQLITE_BUSY, and a deferred transaction that reads and then
// writes can fail at once, without waiting, because waiting could deadlock. So all writes go through one
// connection whose transactions start with BEGIN IMMEDIATE (see DSN), used by one writer goroutine (see
// Store.write): writes queue in this process instead of racing for the file lock, and each transaction
// holds the write lock from its first statement. busy_timeout(5000) still matters for what this process
// does not control: another process on the same file (such as `casapay accounts create` beside a running
// server) or a checkpoint; it makes SQLite wait up to five seconds for the lock instead of failing at
// once. synchronous(FULL) syncs the WAL on every commit: in WAL mode the NORMAL setting can lose the last
// commits on power loss, and a 200 answer (and the idempotent response stored with it) must survive one.
// That sync is what a commit costs, which is why the writer commits many requests per transaction.
// foreign_keys(ON) makes SQLite enforce REFERENCES clauses, which it ignores by default for backward
// compatibility; the store relies on it to reject a key for an account that does not exist.
//
// temp_store(MEMORY) keeps SQLite's temporary files in memory, the sub-journal among them: each request
// of a writer's batch runs in a savepoint, and the sub-journal keeps the pages the batch's savepoints
// change, so that one request can be rolled back alone. By default it spills to a temporary file past
// 64 KiB, and a batch of creates went past that, so a ninth of the writer's time went to write(2) calls
// on a file that is deleted unread at every commit. It holds nothing durability needs: the WAL does.
var pragmas = []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "temp_store(MEMORY)"}

// Open opens (creating if needed) the database file at path, applies pending migrations and starts the
// store's writer goroutine. path is a file name, not a URI, and may not contain '?'. Close the store when
// done: Close stops the writer.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite %q: the path must be a file name without '?'", path)
	}
	// An in-memory database is private to the connection that opens it, so the reader pool would never
	// see what the writer stores.
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite %q: the store needs a file; in-memory databases and URIs are not supported", path)
	}

	writer, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	// Migrations run on the writer, in plain transactions, before the writer goroutine or any reader
	// exists; the writer's first connection is also the one that turns the file to WAL.
	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	// query_only(1) makes a reader connection refuse to write, so a write that took the wrong handle
	// fails loudly instead of racing the writer for the lock.
	reader, err := sql.Open("sqlite", dsn(path, url.Values{"_pragma": {"query_only(1)"}}))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	readers := max(4, runtime.NumCPU())
	reader.SetMaxOpenConns(readers)
	// database/sql keeps two idle connections by default and closes any other as it is returned, so under
	// load readers would keep reopening connections, each of which runs the pragmas and prepares every
	// statement it is given again (see stmtCache). The pool is small: keep all of it open.
	reader.SetMaxIdleConns(readers)
	if err := reader.PingContext(ctx); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, interpret(err))
	}

	s := &Store{
		path:    path,
		writer:  writer,
		reader:  reader,
		writes:  stmtCache{db: writer},
		reads:   stmtCache{db: reader},
		queue:   queue{wake: make(chan struct{}, 1), limit: maxQueued},
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "casapay_sqlite_commit_batch_size",
			Help:    "Write requests carried by each committed SQLite transaction: one sync of the WAL serves them all.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 8), // 1, 2, 4, ... maxBatch
		}),
	}
	s.collectors = []prometheus.Collector{
		s.batchSize,
		collectors.NewDBStatsCollector(writer, "writer"),
		collectors.NewDBStatsCollector(reader, "reader"),
	}
	// Now, before the writer goroutine starts and before any read transaction, is the one time every
	// statement can be prepared. Preparing takes a connection of its own: inside a batch the transaction
	// holds the writer's only connection, and a read transaction waiting to prepare while every reader
	// connection is held by another such transaction would wait forever. Prepared here, a statement is
	// only re-prepared later on the connection that runs it (see stmtCache).
	for _, c := range []*stmtCache{&s.writes, &s.reads} {
		for _, query := range statements() {
			if _, err := c.prepare(ctx, query); err != nil {
				s.writes.close()
				s.reads.close()
				reader.Close()
				writer.Close()
				return nil, fmt.Errorf("open sqlite %s: %w", path, err)
			}
		}
	}
	s.pool = &executor{stmts: &s.reads}
	s.Store = storage.New(s)
	go s.run()
	return s, nil
}

// DSN returns the data source name, for database/sql's "sqlite" driver (modernc.org/sqlite, which this
// package registers), of the store's writer connection to the database file at path: the same pragmas,
// synchronous=FULL among them, and transactions that begin IMMEDIATE. It is for tools that must measure
// SQLite with exactly the store's durability settings, such as the raw single-row commit rate that the
// group commit is compared with. A connection opened with it writes beside a running store's writer
// and competes with it for the file's write lock.
func DSN(path string) string {
	// _txlock=immediate makes every transaction start with BEGIN IMMEDIATE, which takes the write lock
	// up front (see pragmas).
	return dsn(path, url.Values{"_txlock": {"immediate"}})
}

// dsn returns the driver's data source name for path with pragmas and extra set.
func dsn(path string, extra url.Values) string {
	q := url.Values{"_pragma": slices.Clone(pragmas)}
	for k, vs := range extra {
		q[k] = append(q[k], vs...)
	}
	return path + "?" + q.Encode()
}

// Collectors returns the store's Prometheus collectors, for the caller to register: the histogram
// casapay_sqlite_commit_batch_size (requests per committed transaction) and database/sql's pool
// statistics of the writer and the reader connections (go_sql_* with db_name "writer" and "reader").
// They belong to this store alone; register them once, in one registry.
func (s *Store) Collectors() []prometheus.Collector {
	return slices.Clone(s.collectors)
}

// migrate applies the embedded migrations that db has not applied yet, each in its own transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// The store's schema is exactly the embedded files; Go migrations that another package registered
	// with goose globally belong to someone else.
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", interpret(err))
	}
	return nil
}

// Close stops the writer and closes the store's statements and connections. A write already in the
// writer's hands is finished, committed and answered first; one still queued is answered with an error
// and writes nothing. Closing the last connection checkpoints the WAL into the database file. Calls after
// the first return the first one's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.queue.close()
		close(s.stop)
		<-s.stopped
		s.closeErr = errors.Join(s.reads.close(), s.writes.close(), s.reader.Close(), s.writer.Close())
	})
	return s.closeErr
}

// interpret maps a driver error to storage's errors (storage.ErrNoRows, ErrDuplicate, ErrMissingParent)
// by value or by its extended result code, never by its text, keeping the original in the chain, and
// returns any other error unchanged. The driver turns extended result codes on for every connection,
// so a constraint violation says which kind of constraint failed.
func interpret(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", storage.ErrNoRows, err)
	}
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%w: %w", storage.ErrDuplicate, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", storage.ErrMissingParent, err)
	}
	return err
}

// stmtCache holds one prepared statement per SQL text for one *sql.DB, so each statement is parsed once
// per connection rather than on every call. modernc.org/sqlite keeps no statement cache of its own, and
// without one a CPU profile of the server under load spent about 15% of its time in SQLite's parser
// (sqlite3Prepare, yy_reduce), on the read path and in the writer alike, where parsing capped how many
// creates the one writer connection could commit. A *sql.Stmt prepares itself again on each pooled connection
// that runs it, including ones opened later, and tx.StmtContext reuses what is already prepared on the
// transaction's connection.
//
// The texts are those statements lists: the package's constants, the 500-row INSERT of
// CustomerInsertMany and the few shapes pageSQL assembles from fixed pieces, never from values, so the
// cache stays small without evicting anything. It is safe for concurrent use.
type stmtCache struct {
	db    *sql.DB
	stmts sync.Map // SQL text → *sql.Stmt
}

// prepare returns c's statement for query, preparing it on c.db the first time. The caller must not hold
// one of c.db's connections, in a transaction or open rows: preparing takes a connection of its own,
// and if every connection were held by a caller waiting to prepare, none would ever be freed.
func (c *stmtCache) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", interpret(err))
	}
	// Two callers may prepare the same text at once: the first to store it wins.
	if prev, loaded := c.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// lookup returns c's statement for query if prepare has prepared it.
func (c *stmtCache) lookup(query string) (*sql.Stmt, bool) {
	st, ok := c.stmts.Load(query)
	if !ok {
		return nil, false
	}
	return st.(*sql.Stmt), true
}

// close closes and forgets c's statements. A statement still running finishes first, and one prepared
// while close runs is closed with its connections when c.db closes.
func (c *stmtCache) close() error {
	var errs []error
	c.stmts.Range(func(query, st any) bool {
		c.stmts.Delete(query)
		errs = append(errs, st.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(errs...)
}
