// Command sqlite-drivers compares database/sql SQLite drivers on the casapay server's customer
// statements (schema, SELECT, INSERT and pragmas copied from the sqlite package). The driver is chosen at
// build time: go build -tags modernc|mattn|ncruces.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// pragmas are sqlite/sqlite.go's, set on every connection; readers add query_only(1).
var pragmas = []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "temp_store(MEMORY)"}

// schema is the final shape (migrations 00001..00007) of customers, its indexes, and the accounts table
// its REFERENCES clause needs (foreign_keys is ON).
const schema = `
CREATE TABLE accounts (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL,
	created INTEGER NOT NULL,
	fingerprint_key BLOB NOT NULL DEFAULT x'',
	rate_limit_live integer CHECK (rate_limit_live BETWEEN 1 AND 1000000),
	rate_limit_test integer CHECK (rate_limit_test BETWEEN 1 AND 1000000)
) STRICT;

CREATE TABLE customers (
	id                     TEXT PRIMARY KEY,
	account_id             TEXT NOT NULL REFERENCES accounts (id),
	livemode               INTEGER NOT NULL CHECK (livemode IN (0, 1)),
	name                   TEXT,
	email                  TEXT,
	email_lower            TEXT,
	phone                  TEXT,
	address                TEXT,
	default_payment_method TEXT,
	balance                INTEGER NOT NULL DEFAULT 0,
	currency               TEXT,
	metadata               TEXT NOT NULL DEFAULT '{}',
	created                INTEGER NOT NULL,
	deleted                INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
) STRICT;

CREATE INDEX customers_list ON customers (account_id, livemode, created DESC, id DESC) WHERE NOT deleted;
CREATE INDEX customers_list_email ON customers (account_id, livemode, email_lower, created DESC, id DESC) WHERE NOT deleted;
`

// From sqlite/customers.go.
const (
	customerColumns = `id, livemode, name, email, phone, address, default_payment_method, balance, currency,
	metadata, created, deleted`
	customerRowColumns = `id, account_id, livemode, name, email, email_lower, phone, address,
	default_payment_method, balance, currency, metadata, created`
	customerRowValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertCustomerSQL = `INSERT INTO customers (` + customerRowColumns + `) VALUES ` + customerRowValues
	findCustomerSQL   = `SELECT ` + customerColumns + ` FROM customers
WHERE id = ? AND account_id = ? AND livemode = ?`
)

const (
	accountID = "acct_1PqR7sT9uV2wX4yZ"
	livemode  = false
	seedCount = 1000
	workers   = 32
)

var (
	duration   = flag.Duration("duration", 5*time.Second, "how long each measurement runs")
	op         = flag.String("op", "both", "retrieve, create or both")
	dir        = flag.String("dir", "", "directory for the database files (default: a temp dir, removed at exit)")
	batch      = flag.Int("batch", 64, "create: most inserts one writer transaction commits")
	savepoints = flag.Bool("savepoints", true, "create: wrap each insert in SAVEPOINT/RELEASE, as the server's writer does")
	header     = flag.Bool("header", false, "print the table header first")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	if *op != "retrieve" && *op != "create" && *op != "both" {
		log.Fatalf("-op must be retrieve, create or both")
	}
	d := *dir
	if d == "" {
		t, err := os.MkdirTemp("", "sqlitedrivers-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(t)
		d = t
	} else if err := os.MkdirAll(d, 0o755); err != nil {
		log.Fatal(err)
	}
	if *header {
		fmt.Printf("%-40s %-9s %10s %12s %13s %10s\n", "driver", "op", "ops", "ops/s", "cpu µs/op", "avg batch")
	}
	if *op == "retrieve" || *op == "both" {
		if err := retrieve(filepath.Join(d, driverName+"-"+fmt.Sprint(os.Getpid())+"-retrieve.db")); err != nil {
			log.Fatalf("retrieve: %v", err)
		}
	}
	if *op == "create" || *op == "both" {
		if err := create(filepath.Join(d, driverName+"-"+fmt.Sprint(os.Getpid())+"-create.db")); err != nil {
			log.Fatalf("create: %v", err)
		}
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func report(opName string, n int64, wall, cpu time.Duration, extra string) {
	fmt.Printf("%-40s %-9s %10d %12.0f %13.1f %10s\n", driverLabel, opName, n,
		float64(n)/wall.Seconds(), float64(cpu.Microseconds())/float64(max(n, 1)), extra)
}

// open opens the writer (one connection, BEGIN IMMEDIATE) and creates the schema and the account.
func openWriter(ctx context.Context, path string) (*sql.DB, error) {
	w, err := sql.Open(driverName, dsn(path, false))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	if err := checkPragmas(ctx, w, false); err != nil {
		w.Close()
		return nil, err
	}
	if _, err := w.ExecContext(ctx, schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("schema: %w", err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO accounts (id, name, created) VALUES (?, ?, ?)`,
		accountID, "Casa Bench Lettings", time.Now().Unix()); err != nil {
		w.Close()
		return nil, fmt.Errorf("account: %w", err)
	}
	return w, nil
}

// checkPragmas fails unless a connection of db has the settings the DSN was meant to give it.
func checkPragmas(ctx context.Context, db *sql.DB, readOnly bool) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	want := map[string]string{"busy_timeout": "5000", "journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "temp_store": "2"}
	if readOnly {
		want["query_only"] = "1"
	}
	for name, v := range want {
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
			return fmt.Errorf("PRAGMA %s: %w", name, err)
		}
		if !strings.EqualFold(got, v) {
			return fmt.Errorf("PRAGMA %s = %s, want %s (DSN %s)", name, got, v, dsn("PATH", readOnly))
		}
	}
	return nil
}

var (
	firstNames = []string{"Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Freya", "Arthur", "Sofia", "Jack"}
	lastNames  = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright"}
	streets    = []string{"High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road"}
	cities     = []string{"London", "Manchester", "Bristol", "Leeds", "Glasgow", "Cardiff"}
)

const idChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func newID(r *rand.Rand) string {
	b := []byte("cus_")
	for range 14 {
		b = append(b, idChars[r.IntN(len(idChars))])
	}
	return string(b)
}

// customerRow returns one customer's values for customerRowColumns, like the server's customerRow.
func customerRow(r *rand.Rand) []any {
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	name := first + " " + last
	email := fmt.Sprintf("%s.%s%d@Example.com", first, last, r.IntN(1000))
	phone := fmt.Sprintf("+44 7700 9%05d", r.IntN(100000))
	address, _ := json.Marshal(map[string]string{
		"line1": fmt.Sprintf("%d %s", 1+r.IntN(200), streets[r.IntN(len(streets))]), "line2": "",
		"city": cities[r.IntN(len(cities))], "postal_code": fmt.Sprintf("SW%d %dAB", 1+r.IntN(20), r.IntN(10)),
		"country": "GB", "state": "",
	})
	metadata, _ := json.Marshal(map[string]string{"unit": fmt.Sprintf("Flat %d", 1+r.IntN(40))})
	var currency any
	if r.IntN(2) == 0 {
		currency = "gbp"
	}
	return []any{newID(r), accountID, livemode, name, email, strings.ToLower(email), phone, string(address),
		nil, int64(0), currency, string(metadata), time.Now().Unix() - int64(r.IntN(86400*365))}
}

func retrieve(path string) error {
	ctx := context.Background()
	w, err := openWriter(ctx, path)
	if err != nil {
		return err
	}
	defer w.Close()
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, seedCount)
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for i := range ids {
		row := customerRow(r)
		ids[i] = row[0].(string)
		if _, err := tx.ExecContext(ctx, insertCustomerSQL, row...); err != nil {
			tx.Rollback()
			return fmt.Errorf("seed: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}

	rd, err := sql.Open(driverName, dsn(path, true))
	if err != nil {
		return err
	}
	defer rd.Close()
	rd.SetMaxOpenConns(4)
	rd.SetMaxIdleConns(4)
	if err := checkPragmas(ctx, rd, true); err != nil {
		return err
	}
	stmt, err := rd.PrepareContext(ctx, findCustomerSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()

	var (
		ops      atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(*duration)
	cpu0, t0 := cpuTime(), time.Now()
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			var (
				id, currency, name, email, phone, pm *string
				address                              sql.Null[string]
				metadata                             string
				live, deleted                        bool
				balance, created                     int64
			)
			n := int64(0)
			for ; n%64 != 0 || time.Now().Before(deadline); n++ {
				err := stmt.QueryRowContext(ctx, ids[r.IntN(len(ids))], accountID, livemode).Scan(
					&id, &live, &name, &email, &phone, &address, &pm, &balance, &currency, &metadata, &created, &deleted)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					break
				}
			}
			ops.Add(n)
		}()
	}
	wg.Wait()
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	if firstErr != nil {
		return firstErr
	}
	report("retrieve", ops.Load(), wall, cpu, "")
	return nil
}

// request is one insert submitted to the writer goroutine, answered on done.
type request struct {
	row  []any
	done chan error
}

// create: 32 goroutines submit inserts to one writer goroutine, which takes whatever queued while it was
// busy (up to -batch), runs them in one BEGIN IMMEDIATE transaction, each in a SAVEPOINT if -savepoints,
// commits once (one WAL sync under synchronous=FULL) and answers them all: the server's group commit.
func create(path string) error {
	ctx := context.Background()
	w, err := openWriter(ctx, path)
	if err != nil {
		return err
	}
	defer w.Close()
	ins, err := w.PrepareContext(ctx, insertCustomerSQL)
	if err != nil {
		return err
	}
	defer ins.Close()

	queue := make(chan *request, 4096)
	var batches, inserted atomic.Int64
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		reqs := make([]*request, 0, *batch)
		for first := range queue {
			reqs = append(reqs[:0], first)
		drain:
			for len(reqs) < *batch {
				select {
				case q, ok := <-queue:
					if !ok {
						break drain
					}
					reqs = append(reqs, q)
				default:
					break drain
				}
			}
			err := func() error {
				tx, err := w.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				st := tx.StmtContext(ctx, ins)
				for _, q := range reqs {
					if *savepoints {
						if _, err := tx.ExecContext(ctx, "SAVEPOINT request"); err != nil {
							tx.Rollback()
							return err
						}
					}
					if _, err := st.ExecContext(ctx, q.row...); err != nil {
						tx.Rollback()
						return err
					}
					if *savepoints {
						if _, err := tx.ExecContext(ctx, "RELEASE request"); err != nil {
							tx.Rollback()
							return err
						}
					}
				}
				return tx.Commit()
			}()
			batches.Add(1)
			if err == nil {
				inserted.Add(int64(len(reqs)))
			}
			for _, q := range reqs {
				q.done <- err
			}
		}
	}()

	var (
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(*duration)
	cpu0, t0 := cpuTime(), time.Now()
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 11))
			done := make(chan error, 1)
			for time.Now().Before(deadline) {
				queue <- &request{row: customerRow(r), done: done}
				if err := <-done; err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	close(queue)
	<-writerDone
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	if firstErr != nil {
		return firstErr
	}
	n := inserted.Load()
	report("create", n, wall, cpu, fmt.Sprintf("%.1f", float64(n)/float64(max(batches.Load(), 1))))
	return nil
}
