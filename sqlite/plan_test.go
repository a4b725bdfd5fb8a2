package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/casapay/casapay"
)

// TestListUsesIndex checks that every shape of list query reads a page straight off one of the list
// indexes: no table scan, and no sort in a temporary b-tree, either of which would make a page cost
// grow with the number of customers.
func TestListUsesIndex(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "casapay.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })

	scope := casapay.Scope{AccountID: "acct_1"}
	email := "jane@example.com"
	since := int64(1706140800)
	cursor := int64(1706140900)
	for _, tt := range []struct {
		name      string
		f         casapay.CustomerFilter
		wantIndex string
		wantRange string // how the cursor bounds the index search, if there is a cursor
	}{
		{"first page", casapay.CustomerFilter{}, "customers_list", ""},
		{"starting_after", casapay.CustomerFilter{StartingAfter: "cus_1"}, "customers_list", "(created,id)<(?,?)"},
		{"ending_before", casapay.CustomerFilter{EndingBefore: "cus_1"}, "customers_list", "(created,id)>(?,?)"},
		{"created", casapay.CustomerFilter{Created: casapay.TimeRange{Gte: &since}, StartingAfter: "cus_1"}, "customers_list", "(created,id)<(?,?)"},
		{"email", casapay.CustomerFilter{Email: &email}, "customers_list_email", ""},
		{"email starting_after", casapay.CustomerFilter{Email: &email, StartingAfter: "cus_1"}, "customers_list_email", "(created,id)<(?,?)"},
		{"email ending_before", casapay.CustomerFilter{Email: &email, EndingBefore: "cus_1"}, "customers_list_email", "(created,id)>(?,?)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			query, args := listQuery(scope, tt.f, 11)
			rows, err := s.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args(cursor)...)
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
			text := strings.Join(plan, "; ")
			search := "SEARCH customers USING INDEX " + tt.wantIndex + " (account_id=? AND livemode=?"
			if !strings.Contains(text, search) || !strings.Contains(text, tt.wantRange) ||
				strings.Contains(text, "SCAN") || strings.Contains(text, "TEMP B-TREE") {
				t.Errorf("plan = %q, want a search of index %s bounded by %q, without SCAN or TEMP B-TREE",
					text, tt.wantIndex, tt.wantRange)
			}
		})
	}
}
