package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storage"
)

// TestListUsesIndex checks that every shape of list query reads a page straight off one of the list
// indexes: no table scan, and no sort in a temporary b-tree, either of which would make a page cost
// grow with the number of customers or events.
func TestListUsesIndex(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "casapay.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })

	scope := casapay.Scope{AccountID: "acct_1"}
	email := "jane@example.com"
	since := int64(1706140800)
	older := &storage.Keyset{Created: 1706140900, ID: "cus_1"}
	newer := &storage.Keyset{Created: 1706140900, ID: "cus_1", Newer: true}
	customers := func(f casapay.CustomerFilter, from *storage.Keyset) (string, []any) {
		return customerPageQuery(scope, f, from, 11)
	}
	events := func(f casapay.EventFilter, from *storage.Keyset) (string, []any) {
		query, args, err := eventPageQuery(scope, f, from, 11)
		if err != nil {
			t.Fatalf("eventPageQuery: %v", err)
		}
		return query, args
	}
	oneType := []string{casapay.EventCustomerCreated}
	for _, tt := range []struct {
		name      string
		query     func() (string, []any)
		wantIndex string
		wantRange string // how the cursor bounds the index search, if there is a cursor
	}{
		{"first page", func() (string, []any) { return customers(casapay.CustomerFilter{}, nil) }, "customers_list", ""},
		{"starting_after", func() (string, []any) { return customers(casapay.CustomerFilter{}, older) }, "customers_list", "(created,id)<(?,?)"},
		{"ending_before", func() (string, []any) { return customers(casapay.CustomerFilter{}, newer) }, "customers_list", "(created,id)>(?,?)"},
		{"created", func() (string, []any) {
			return customers(casapay.CustomerFilter{Created: casapay.TimeRange{Gte: &since}}, older)
		}, "customers_list", "(created,id)<(?,?)"},
		{"email", func() (string, []any) { return customers(casapay.CustomerFilter{Email: &email}, nil) }, "customers_list_email", ""},
		{"email starting_after", func() (string, []any) { return customers(casapay.CustomerFilter{Email: &email}, older) }, "customers_list_email", "(created,id)<(?,?)"},
		{"email ending_before", func() (string, []any) { return customers(casapay.CustomerFilter{Email: &email}, newer) }, "customers_list_email", "(created,id)>(?,?)"},
		{"events", func() (string, []any) { return events(casapay.EventFilter{}, nil) }, "events_list", ""},
		{"events starting_after", func() (string, []any) { return events(casapay.EventFilter{}, older) }, "events_list", "(created,id)<(?,?)"},
		{"events ending_before", func() (string, []any) { return events(casapay.EventFilter{}, newer) }, "events_list", "(created,id)>(?,?)"},
		{"events of a type", func() (string, []any) { return events(casapay.EventFilter{Types: oneType}, nil) }, "events_type", ""},
		{"events of a type starting_after", func() (string, []any) { return events(casapay.EventFilter{Types: oneType}, older) }, "events_type", "(created,id)<(?,?)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			query, args := tt.query()
			text := explain(t, s, query, args...)
			table, _, _ := strings.Cut(tt.wantIndex, "_")
			search := "SEARCH " + table + " USING INDEX " + tt.wantIndex + " (account_id=? AND livemode=?"
			if !strings.Contains(text, search) || !strings.Contains(text, tt.wantRange) ||
				strings.Contains(text, "SCAN") || strings.Contains(text, "TEMP B-TREE") {
				t.Errorf("plan = %q, want a search of index %s bounded by %q, without SCAN or TEMP B-TREE",
					text, tt.wantIndex, tt.wantRange)
			}
		})
	}
}

// TestClaimReadsLeasesOnly checks that claiming webhook deliveries counts each endpoint's leased
// deliveries through the lease index, not by walking every pending delivery: under a steady stream of
// creates, the backlog of pending deliveries is large, and every claim would read it whole.
func TestClaimReadsLeasesOnly(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "casapay.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	for name, q := range map[string]struct {
		sql  string
		args []any
	}{"postpone": {postponeDeliveriesSQL, []any{1, 2, 3, 4, 5, 6}}, "claim": {claimDeliveriesSQL, []any{1, 2, 3, 4, 5, 6, 7}}} {
		t.Run(name, func(t *testing.T) {
			text := explain(t, s, q.sql, q.args...)
			if strings.Contains(text, "SCAN webhook_deliveries") || !strings.Contains(text, "webhook_deliveries_lease") {
				t.Errorf("plan = %q, want the leased deliveries read through webhook_deliveries_lease and no scan of webhook_deliveries", text)
			}
		})
	}
}

// explain returns the query plan of query with args, its steps joined by "; ".
func explain(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("scan plan: %v", err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read plan: %v", err)
	}
	return strings.Join(plan, "; ")
}
