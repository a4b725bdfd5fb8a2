package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/sqlite" // also registers modernc.org/sqlite's "sqlite" driver
)

// serveBare serves, on addr until ctx ends, a list page (pageFile) to GET /v1/customers and a customer
// (customerFile) to every other request, as CasaPay answered them; it reads a POST's body first. It is
// the bare baseline: what net/http alone costs on this machine for the same bytes.
func serveBare(ctx context.Context, addr, customerFile, pageFile string, stdout io.Writer) error {
	customer, err := os.ReadFile(customerFile)
	if err != nil {
		return err
	}
	page, err := os.ReadFile(pageFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body := customer
			if r.Method == http.MethodGet && r.URL.Path == "/v1/customers" {
				body = page
			}
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	fmt.Fprintf(stdout, "bare baseline listening on http://%s\n", ln.Addr())
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// startBare starts this program again as the bare baseline server, serving customer and page.
func startBare(ctx context.Context, cfg config, customer, page []byte) (*process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the benchmark's own binary: %w", err)
	}
	customerFile := filepath.Join(cfg.tmpDir, "bare-customer.json")
	pageFile := filepath.Join(cfg.tmpDir, "bare-page.json")
	for file, body := range map[string][]byte{customerFile: customer, pageFile: page} {
		if err := os.WriteFile(file, body, 0o600); err != nil {
			return nil, err
		}
	}
	return startProcess(ctx, filepath.Join(cfg.tmpDir, "bare.log"), exe, serveBareFlag, "127.0.0.1:0", customerFile, pageFile)
}

// commitRow returns a row to insert in the raw commit baseline: a customer's JSON, about as many bytes
// as the server writes for one.
func commitRow() (string, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	c, err := casapay.NewCustomer(casapay.Scope{AccountID: "acct_bench"}, fakeCustomer(rng, 0), time.Now())
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(c)
	return string(b), err
}

// sqliteCommitRate measures single-row durable commits on a fresh SQLite file, opened with exactly the
// store's durability settings (sqlite.DSN) and one connection, as the store's writer is: each worker
// runs BEGIN; INSERT one row; COMMIT, in turn.
func sqliteCommitRate(ctx context.Context, cfg config, pr *progress) (sample, error) {
	row, err := commitRow()
	if err != nil {
		return sample{}, err
	}
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(cfg.tmpDir, "commit.db")))
	if err != nil {
		return sample{}, fmt.Errorf("open commit baseline database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT`); err != nil {
		return sample{}, fmt.Errorf("create commit baseline table: %w", err)
	}
	return measure(ctx, cfg, "commit", pr, func(ctx context.Context, _ int, _ *rand.Rand) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() // does nothing once committed
		if _, err := tx.ExecContext(ctx, `INSERT INTO rows (body) VALUES (?)`, row); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// postgresCommitRate measures single-row durable commits on PostgreSQL: a pool of one connection per
// worker, each running an autocommitted INSERT of one row into a table of a fresh schema. The server's
// default synchronous_commit makes each commit wait for its WAL flush, as the store's commits do.
func postgresCommitRate(ctx context.Context, cfg config, dbURL string, pr *progress) (sample, error) {
	row, err := commitRow()
	if err != nil {
		return sample{}, err
	}
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return sample{}, fmt.Errorf("parse --postgres: %w", err)
	}
	pcfg.MaxConns = int32(cfg.clients)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return sample{}, fmt.Errorf("open commit baseline pool: %w", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE SCHEMA commit_baseline;
		CREATE TABLE commit_baseline.rows (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL)`); err != nil {
		return sample{}, fmt.Errorf("create commit baseline table: %w", err)
	}
	s, err := measure(ctx, cfg, "commit", pr, func(ctx context.Context, _ int, _ *rand.Rand) error {
		_, err := pool.Exec(ctx, `INSERT INTO commit_baseline.rows (body) VALUES ($1)`, row)
		return err
	})
	if err != nil {
		return s, err
	}
	if _, err := pool.Exec(ctx, `DROP SCHEMA commit_baseline CASCADE`); err != nil {
		return s, fmt.Errorf("drop commit baseline schema: %w", err)
	}
	return s, nil
}
