package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// TestListUsesIndex checks that every shape of list query reads a page straight off one of the list
// indexes, bounded by its filters and its cursor: no sequential scan, and no sort, either of which would
// make a page cost grow with the number of customers.
//
// The plan that counts is the one PostgreSQL uses for the query as ListCustomers sends it, so the test
// records what ListCustomers sends (text, arguments and query exec mode) instead of restating it, and
// replays exactly that. An unnamed statement (QueryExecModeExec) is planned for each execution with its
// values, which is the plan EXPLAIN shows for the same text and arguments. A named prepared statement
// (pgx's default mode caches one per connection) gets, from its sixth execution on, a generic plan if that
// looks no dearer, and a generic plan cannot know which filters are absent; for those the test explains
// the generic plan straight away (plan_cache_mode force_generic_plan), so dropping the exec mode fails.
func TestListUsesIndex(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, schemaURL(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })

	// Enough customers that, were the index unusable, PostgreSQL would rather scan and sort them.
	const n = 20000
	created := time.Unix(1706140800, 0)
	account := &casapay.Account{ID: casapay.NewID("acct"), Name: "Planned", Created: created}
	if err := s.CreateAccount(ctx, account, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	scope := casapay.Scope{AccountID: account.ID}
	cs := make([]*casapay.Customer, n)
	for i := range cs {
		email := fmt.Sprintf("customer%d@example.com", i%1000) // 20 customers per address
		c, err := casapay.NewCustomer(scope, &casapay.CustomerParams{Email: &email}, created.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatalf("NewCustomer: %v", err)
		}
		cs[i] = c
	}
	if err := s.ImportCustomers(ctx, scope, cs); err != nil {
		t.Fatalf("ImportCustomers: %v", err)
	}
	// As many events, of three types, a second apart.
	var events []*casapay.Event
	err = s.InTx(ctx, func(ctx context.Context, ex storage.Executor) error {
		for i := range n {
			typ := casapay.EventTypes[i%len(casapay.EventTypes)]
			e := casapay.NewEvent(scope, typ, []byte(`{}`), nil, casapay.Request{Time: created.Add(time.Duration(i) * time.Second)}, created)
			if err := ex.EventInsert(ctx, scope, e); err != nil {
				return err
			}
			events = append(events, e)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert events: %v", err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE customers, events"); err != nil {
		t.Fatalf("analyze: %v", err)
	}

	// A second pool on the store's own configuration records what ListCustomers sends.
	rec := &listRecorder{}
	cfg := s.pool.Config()
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("open traced pool: %v", err)
	}
	t.Cleanup(pool.Close)
	traced := &Store{pool: pool}
	traced.Store = storage.New(traced)

	mid := cs[n/2]                             // a cursor deep in the list
	email := strings.ToUpper(*cs[n/2+7].Email) // an address of customers on both sides of mid, in another case
	since, until := mid.Created-3600, mid.Created
	for _, tt := range []struct {
		name      string
		f         casapay.CustomerFilter
		wantIndex string
		wantConds []string // what must bound the index search, beyond the scope
	}{
		{"first page", casapay.CustomerFilter{}, "customers_list_idx", nil},
		{"starting_after", casapay.CustomerFilter{StartingAfter: mid.ID}, "customers_list_idx",
			[]string{"ROW(created, id) < ROW("}},
		{"ending_before", casapay.CustomerFilter{EndingBefore: mid.ID}, "customers_list_idx",
			[]string{"ROW(created, id) > ROW("}},
		{"email", casapay.CustomerFilter{Email: &email}, "customers_email_idx", []string{"email_lower ="}},
		{"created range", casapay.CustomerFilter{Created: casapay.TimeRange{Gte: &since, Lt: &until}}, "customers_list_idx",
			[]string{"created >=", "created <"}},
		{"created starting_after", casapay.CustomerFilter{Created: casapay.TimeRange{Gt: &since}, StartingAfter: mid.ID},
			"customers_list_idx", []string{"created >", "ROW(created, id) < ROW("}},
		{"email starting_after", casapay.CustomerFilter{Email: &email, StartingAfter: mid.ID}, "customers_email_idx",
			[]string{"email_lower =", "ROW(created, id) < ROW("}},
		{"email ending_before", casapay.CustomerFilter{Email: &email, EndingBefore: mid.ID}, "customers_email_idx",
			[]string{"email_lower =", "ROW(created, id) > ROW("}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			*rec = listRecorder{}
			if _, _, err := traced.ListCustomers(t.Context(), scope, tt.f); err != nil {
				t.Fatalf("ListCustomers: %v", err)
			}
			if rec.sql == "" {
				t.Fatal("ListCustomers sent neither listCustomersOlder nor listCustomersNewer")
			}
			plan := explain(t, pool, rec.sql, rec.args)
			conds := append([]string{"account_id =", "livemode ="}, tt.wantConds...)
			if !plan.searches(tt.wantIndex, conds) || plan.has("Seq Scan", "Sort", "Incremental Sort") {
				t.Errorf("plan = %s; want an Index Scan of %s with Index Cond %q, without Seq Scan or Sort",
					plan, tt.wantIndex, conds)
			}
		})
	}
	testEventPlans(t, traced, pool, rec, scope, events)
}

// testEventPlans is TestListUsesIndex for events: every shape of event list reads its page off
// events_list_idx, or events_type_idx for one type, bounded by its cursor.
func testEventPlans(t *testing.T, traced *Store, pool *pgxpool.Pool, rec *listRecorder, scope casapay.Scope, events []*casapay.Event) {
	mid := events[len(events)/2]
	oneType := []string{casapay.EventCustomerUpdated}
	since := mid.Created - 3600
	for _, tt := range []struct {
		name      string
		f         casapay.EventFilter
		wantIndex string
		wantConds []string
	}{
		{"first page", casapay.EventFilter{}, "events_list_idx", nil},
		{"starting_after", casapay.EventFilter{StartingAfter: mid.ID}, "events_list_idx", []string{"ROW(created, id) < ROW("}},
		{"ending_before", casapay.EventFilter{EndingBefore: mid.ID}, "events_list_idx", []string{"ROW(created, id) > ROW("}},
		{"created", casapay.EventFilter{Created: casapay.TimeRange{Gte: &since}}, "events_list_idx", []string{"created >="}},
		{"type", casapay.EventFilter{Types: oneType}, "events_type_idx", []string{"type ="}},
		{"type starting_after", casapay.EventFilter{Types: oneType, StartingAfter: mid.ID}, "events_type_idx",
			[]string{"type =", "ROW(created, id) < ROW("}},
	} {
		t.Run("events "+tt.name, func(t *testing.T) {
			*rec = listRecorder{}
			if _, _, err := traced.ListEvents(t.Context(), scope, tt.f); err != nil {
				t.Fatalf("ListEvents: %v", err)
			}
			if rec.sql == "" {
				t.Fatal("ListEvents sent neither listEventsOlder nor listEventsNewer")
			}
			plan := explain(t, pool, rec.sql, rec.args)
			conds := append([]string{"account_id =", "livemode ="}, tt.wantConds...)
			if !plan.searches(tt.wantIndex, conds) || plan.has("Seq Scan", "Sort", "Incremental Sort") {
				t.Errorf("plan = %s; want an Index Scan of %s with Index Cond %q, without Seq Scan or Sort",
					plan, tt.wantIndex, conds)
			}
		})
	}
}

// listRecorder is a pgx.QueryTracer that keeps the last list query a pool sent: its text, and its arguments
// as ListCustomers passed them to Query, the query exec mode among them.
type listRecorder struct {
	sql  string
	args []any
}

func (r *listRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if data.SQL == listCustomersOlder || data.SQL == listCustomersNewer || data.SQL == listEventsOlder || data.SQL == listEventsNewer {
		r.sql, r.args = data.SQL, slices.Clone(data.Args)
	}
	return ctx
}

func (r *listRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// explain runs sql with args on one of pool's connections, exactly as Query was called with them, and
// returns the plan PostgreSQL keeps for it: the generic plan of the prepared statement this left on the
// connection, if there is one, or else the plan of this execution.
func explain(t *testing.T, pool *pgxpool.Pool, sql string, args []any) planNode {
	t.Helper()
	ctx := t.Context()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		t.Fatalf("replay list query: %v", err)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatalf("replay list query: %v", err)
	}

	var plan []struct{ Plan planNode }
	var name string
	err = conn.QueryRow(ctx, "SELECT name FROM pg_prepared_statements WHERE statement = $1", sql).Scan(&name)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		err = conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&plan)
	case err != nil:
		t.Fatalf("find prepared statement: %v", err)
	default:
		values := slices.DeleteFunc(slices.Clone(args), func(a any) bool { _, ok := a.(pgx.QueryExecMode); return ok })
		placeholders := make([]string, len(values))
		for i := range values {
			placeholders[i] = fmt.Sprintf("$%d", i+1)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
				return err
			}
			// The simple protocol writes the values into the text, so EXECUTE gets them as literals.
			q := "EXPLAIN (FORMAT JSON) EXECUTE " + pgx.Identifier{name}.Sanitize() + "(" + strings.Join(placeholders, ", ") + ")"
			return tx.QueryRow(ctx, q, append([]any{pgx.QueryExecModeSimpleProtocol}, values...)...).Scan(&plan)
		})
	}
	if err != nil {
		t.Fatalf("explain list query: %v", err)
	}
	if len(plan) != 1 {
		t.Fatalf("explain list query: got %d plans, want 1", len(plan))
	}
	return plan[0].Plan
}

// planNode is a node of EXPLAIN (FORMAT JSON)'s output, with the fields the test looks at.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Direction string     `json:"Scan Direction"`
	IndexName string     `json:"Index Name"`
	IndexCond string     `json:"Index Cond"`
	Filter    string     `json:"Filter"`
	Plans     []planNode `json:"Plans"`
}

// searches reports whether the plan reads index with an Index Scan or Index Only Scan whose condition
// contains every one of conds.
func (p planNode) searches(index string, conds []string) bool {
	if p.IndexName == index && (p.NodeType == "Index Scan" || p.NodeType == "Index Only Scan") &&
		!slices.ContainsFunc(conds, func(c string) bool { return !strings.Contains(p.IndexCond, c) }) {
		return true
	}
	return slices.ContainsFunc(p.Plans, func(c planNode) bool { return c.searches(index, conds) })
}

// has reports whether the plan has a node of one of the types.
func (p planNode) has(types ...string) bool {
	return slices.Contains(types, p.NodeType) || slices.ContainsFunc(p.Plans, func(c planNode) bool { return c.has(types...) })
}

// String writes the plan on one line, children in brackets after their parent.
func (p planNode) String() string {
	var b strings.Builder
	b.WriteString(p.NodeType)
	if p.Direction != "" && p.Direction != "Forward" {
		b.WriteString(" " + p.Direction)
	}
	if p.IndexName != "" {
		b.WriteString(" using " + p.IndexName)
	}
	if p.IndexCond != "" {
		b.WriteString(" (Index Cond: " + p.IndexCond + ")")
	}
	if p.Filter != "" {
		b.WriteString(" (Filter: " + p.Filter + ")")
	}
	if len(p.Plans) > 0 {
		children := make([]string, len(p.Plans))
		for i, c := range p.Plans {
			children[i] = c.String()
		}
		b.WriteString(" [" + strings.Join(children, "; ") + "]")
	}
	return b.String()
}

// schemaURL creates a fresh schema in the CASAPAY_TEST_POSTGRES database, drops it when the test ends, and
// returns a URL whose connections use it, or skips the test when CASAPAY_TEST_POSTGRES is not set. It is
// storetest.PostgresSchemaURL, which tests inside this package cannot import: storetest imports postgres.
func schemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CASAPAY_TEST_POSTGRES")
	if base == "" {
		t.Skip("CASAPAY_TEST_POSTGRES is not set; to run the PostgreSQL tests, point it at a database, " +
			"e.g. CASAPAY_TEST_POSTGRES=postgres://postgres:postgres@127.0.0.1:5432/casapay_test?sslmode=disable")
	}
	schema := "casapay_test_" + strings.ToLower(rand.Text()[:16])
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// The test's context is already cancelled when cleanups run.
		if err := exec(context.WithoutCancel(t.Context()), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse CASAPAY_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown URL parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}
