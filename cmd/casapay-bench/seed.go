package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/postgres"
	"github.com/casapay/casapay/sqlite"
)

// Seeding sizes.
const (
	importBatch = 10_000 // customers per ImportCustomers call
	seedSpan    = 2 * 365 * 24 * time.Hour
	maxCursors  = 1000 // list-deep cursors kept per account
	minDeep     = 100  // the smallest --deep that still has a deep half to page from
	shallow     = 1000 // customers in the main account, and in the account list-deep is compared with
)

// openStore opens the store that db (a casapay --db value) names, the way casapay serve does.
func openStore(ctx context.Context, db string) (casapay.Store, error) {
	if path, ok := strings.CutPrefix(db, "sqlite:"); ok {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite store: %w", err)
		}
		return s, nil
	}
	s, err := postgres.Open(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	return s, nil
}

// settle makes a freshly seeded PostgreSQL database look like one whose customers arrived over two
// years: VACUUM sets the hint bits and the visibility map that the first reads of bulk-loaded rows
// would otherwise write, and ANALYZE gives the planner statistics, which autovacuum would otherwise
// gather at some moment in the middle of a measured phase. SQLite needs neither.
func settle(ctx context.Context, db string) error {
	if strings.HasPrefix(db, "sqlite:") {
		return nil
	}
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return fmt.Errorf("connect to vacuum: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) customers"); err != nil {
		return fmt.Errorf("vacuum customers: %w", err)
	}
	return nil
}

// seedCustomers imports n made-up customers into scope in batches, oldest first, with created times
// spread evenly over the two years before now, as a merchant's tenants accumulate. keep says, by
// position from the oldest (0), which IDs to return. report, if not nil, is told the running count.
func seedCustomers(ctx context.Context, store casapay.Store, scope casapay.Scope, n int,
	keep func(i int) bool, report func(done int)) ([]string, error) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	start := time.Now().Add(-seedSpan)
	step := seedSpan / time.Duration(n)
	var kept []string
	batch := make([]*casapay.Customer, 0, importBatch)
	for i := range n {
		p := fakeCustomer(rng, i)
		c, err := casapay.NewCustomer(scope, p, start.Add(time.Duration(i)*step))
		if err != nil {
			return nil, fmt.Errorf("make customer: %w", err)
		}
		if keep(i) {
			kept = append(kept, c.ID)
		}
		batch = append(batch, c)
		if len(batch) == importBatch || i == n-1 {
			if err := store.ImportCustomers(ctx, scope, batch); err != nil {
				return nil, fmt.Errorf("import customers: %w", err)
			}
			batch = batch[:0]
			if report != nil {
				report(i + 1)
			}
		}
	}
	return kept, nil
}

// deepCursors says which customers of an n-customer account serve as list-deep cursors: at most
// maxCursors, evenly spaced over the older half of the list, and never among the oldest ten, so every
// page after a cursor is full. Lists are newest first, so the oldest customers are the deepest.
func deepCursors(n int) func(i int) bool {
	const pageSize = 10
	first, last := pageSize, n/2
	every := max(1, (last-first)/maxCursors)
	return func(i int) bool { return i >= first && i < last && (i-first)%every == 0 }
}

// Made-up but plausible tenant data: a benchmark's customers should be the size of real ones.
var (
	firstNames = []string{"Jane", "Amara", "Tomasz", "Priya", "Liam", "Sofia", "Kwame", "Mei", "Oliver", "Fatima",
		"Diego", "Hannah", "Yusuf", "Chloe", "Ravi", "Ingrid", "Noah", "Aisha", "Lucas", "Elena"}
	lastNames = []string{"Doe", "Okafor", "Nowak", "Sharma", "Murphy", "Rossi", "Mensah", "Chen", "Smith", "Haddad",
		"Garcia", "Becker", "Demir", "Martin", "Patel", "Larsen", "Wilson", "Bello", "Silva", "Ivanova"}
	streets = []string{"Oak Street", "Harbour Road", "Mill Lane", "Station Avenue", "Queen's Walk", "Elm Close",
		"Victoria Terrace", "Canal Side", "Park Row", "Church Hill"}
	cities = []struct{ city, postalCode, country string }{
		{"London", "E1 6AN", "GB"}, {"Manchester", "M1 2HF", "GB"}, {"Bristol", "BS1 5TR", "GB"},
		{"Dublin", "D02 X285", "IE"}, {"Austin", "78701", "US"}, {"Chicago", "60607", "US"},
	}
)

// fakeCustomer returns create parameters for a made-up tenant; i makes the email address unique.
func fakeCustomer(rng *rand.Rand, i int) *casapay.CustomerParams {
	first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	city := cities[rng.IntN(len(cities))]
	str := func(s string) *string { return &s }
	return &casapay.CustomerParams{
		Name:  str(first + " " + last),
		Email: str(fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), strings.ToLower(last), i)),
		Phone: str(fmt.Sprintf("+44 7700 9%05d", rng.IntN(100_000))),
		Address: &casapay.AddressParams{
			Line1:      str(fmt.Sprintf("%d %s", 1+rng.IntN(200), streets[rng.IntN(len(streets))])),
			Line2:      str(fmt.Sprintf("Flat %d", 1+rng.IntN(40))),
			City:       str(city.city),
			PostalCode: str(city.postalCode),
			Country:    str(city.country),
		},
		Metadata: map[string]string{
			"property_id": fmt.Sprintf("prop_%d", 100+rng.IntN(900)),
			"unit":        unitName(rng),
		},
	}
}

// unitName returns a flat's name as a letting agent writes it: a floor and a letter, such as "4B".
func unitName(rng *rand.Rand) string {
	return fmt.Sprintf("%d%c", 1+rng.IntN(20), 'A'+rune(rng.IntN(6)))
}
