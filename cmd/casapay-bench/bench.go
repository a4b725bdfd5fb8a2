package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/casapay/casapay"
)

// fixture is what the seeding left for the load to use.
type fixture struct {
	key          string   // test key of the main account
	customers    []string // the main account's seeded customers, for retrieve and update
	deepKey      string   // test key of the account with --deep customers
	deepCursors  []string // customers deep in that account's list
	smallKey     string   // test key of the account with 1,000 customers, the list-deep reference
	smallCursors []string // customers deep in that account's list
}

// baselines are the bare handler's rates for the same requests as the server's: a retrieve (bare), a
// list page (bare-list) and a create's POST (bare-post).
type baselines struct{ get, list, post *result }

// benchStore runs the whole benchmark on one store: a fresh database, seeded; the raw commit baseline;
// then the server under each operation. The bare baselines are measured on the first store's server
// and kept in *bare for the others. It returns what it measured even when it fails part way.
func benchStore(ctx context.Context, cfg config, name string, bare **baselines, stderr io.Writer) (sr *storeReport, err error) {
	pr := newProgress(stderr)
	sr = &storeReport{Store: name}
	fmt.Fprintf(stderr, "== %s\n", name)

	var db string // the --db value casapay takes
	switch name {
	case "sqlite":
		db = "sqlite:" + filepath.Join(cfg.tmpDir, "casapay.db")
	case "postgres":
		var drop func() error
		if db, drop, err = createDatabase(ctx, cfg.postgres); err != nil {
			return sr, err
		}
		defer func() { err = errors.Join(err, drop()) }() // into the named result: a leftover database is a failure
	}

	fx, err := seed(ctx, cfg, db, pr)
	if err != nil {
		return sr, err
	}

	// The commit baseline runs before the server starts, so nothing else touches the disk meanwhile.
	var commit *result
	if cfg.soak == 0 && slices.ContainsFunc(cfg.ops, isWrite) {
		var s sample
		if name == "sqlite" {
			s, err = sqliteCommitRate(ctx, cfg, pr)
		} else {
			s, err = postgresCommitRate(ctx, cfg, db, pr)
		}
		if err != nil {
			return sr, fmt.Errorf("commit baseline: %w", err)
		}
		commit = newResult("commit", s)
	}

	srv, err := startServe(ctx, cfg, db, filepath.Join(cfg.tmpDir, name+"-serve.log"), cfg.profileDir != "")
	if err != nil {
		return sr, err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()
	if cfg.profileDir != "" && srv.pprofURL() == "" {
		return sr, fmt.Errorf("serve --pprof-addr printed no profiler address")
	}
	client := newHTTPClient(cfg.clients)

	if cfg.soak > 0 {
		res, soak, err := runSoak(ctx, cfg, srv, fx, client, pr)
		if res != nil {
			sr.Results = append(sr.Results, *res)
		}
		sr.Soak = soak
		return sr, err
	}

	if *bare == nil {
		if *bare, err = measureBare(ctx, cfg, srv, fx, client, pr); err != nil {
			return sr, fmt.Errorf("bare baseline: %w", err)
		}
	}
	sr.Results = append(sr.Results, *(*bare).get, *(*bare).list, *(*bare).post)
	if commit != nil {
		sr.Results = append(sr.Results, *commit)
	}

	// runOpOn measures op against urls (the first of them srv's) and adds it to the table as name, with
	// its ratio.
	runOpOn := func(srv *process, op, name string, urls []string) (*result, error) {
		var saveProfile func() error
		if cfg.profileDir != "" && slices.Contains(profiled, name) {
			saveProfile = startProfile(ctx, cfg, srv.pprofURL(), filepath.Join(cfg.profileDir, sr.Store, name+".pprof"))
		}
		meter := cpuMeter{server: srv, database: sr.Store == "postgres"}
		before, cpuErr := meter.read()
		s, err := measure(ctx, cfg, name, pr, fx.op(client, op, urls))
		after, cpuErr2 := meter.read()
		if saveProfile != nil {
			err = errors.Join(err, saveProfile())
		}
		if err != nil {
			return nil, err
		}
		r := newResult(name, s)
		if cpuErr == nil && cpuErr2 == nil && len(urls) == 1 { // a second server's CPU is not metered
			r.ServerCPU, r.DatabaseCPU = perRequest(before, after, s.Requests-s.Errors)
		}
		(*bare).ratio(r, op)
		sr.Results = append(sr.Results, *r)
		if s.Errors > 0 {
			for _, line := range srv.errorLines(5) {
				fmt.Fprintf(stderr, "  server log: %s\n", line)
			}
		}
		return r, nil
	}
	runOp := func(op, name string, urls []string) (*result, error) { return runOpOn(srv, op, name, urls) }

	for _, op := range cfg.ops {
		if op == "webhook" {
			r, rep, err := runWebhook(ctx, cfg, srv, fx, client, pr, sr.Store)
			if err != nil {
				return sr, err
			}
			(*bare).ratio(r, op)
			sr.Results, sr.Webhook = append(sr.Results, *r), rep
			continue
		}
		r, err := runOp(op, op, []string{srv.URL})
		if err != nil {
			return sr, err
		}
		switch {
		case op == "retrieve":
			// The same retrieve through a second server on the same database with rate limits on, at a
			// rate no request reaches, so every request passes the limiter and none is refused; then
			// retrieve again without, so that the limited run is compared with the mean of one run
			// before it and one after, and a drift of the machine (a checkpoint, autovacuum after the
			// seed) weighs on both sides.
			limited, err := startServeLimited(ctx, cfg, db, filepath.Join(cfg.tmpDir, name+"-serve-limited.log"), false, limiterBenchRates)
			if err != nil {
				return sr, err
			}
			on, err := runOpOn(limited, "retrieve", "retrieve-limited", []string{limited.URL})
			if err = errors.Join(err, limited.stop()); err != nil {
				return sr, err
			}
			after, err := runOp("retrieve", "retrieve-again", []string{srv.URL})
			if err != nil {
				return sr, err
			}
			if cpu := (r.ServerCPU + after.ServerCPU) / 2; cpu > 0 && on.ServerCPU > 0 {
				sr.LimiterCPURatio = on.ServerCPU / cpu
			}
			if rps := (r.RPS + after.RPS) / 2; rps > 0 {
				sr.LimiterRPSRatio = on.RPS / rps
			}
		case op == "list-deep":
			// The same page request, in an account of 1,000: a page should cost the same at any depth.
			small, err := runOp("list-deep-1000", "list-deep-1000", []string{srv.URL})
			if err != nil {
				return sr, err
			}
			if small.P99 > 0 {
				sr.ListDeepP99Ratio = r.P99 / small.P99
			}
		case op == "create" && cfg.twoServers && name == "postgres":
			two, err := runTwoServers(ctx, cfg, db, func(second *process) (*result, error) {
				return runOp("create", "create-2-servers", []string{srv.URL, second.URL})
			})
			if err != nil {
				return sr, err
			}
			if r.RPS > 0 {
				sr.TwoServerCreateRatio = two.RPS / r.RPS
			}
		}
	}
	return sr, nil
}

// profiled are the operations --profile records the server's CPU under; the webhook phase records its
// own (see runWebhook).
var profiled = []string{"retrieve", "create", "list", "attach"}

// ratio sets r's ratio to the bare handler's rate for the same kind of request: a write's to bare-post,
// a list's to bare-list, a retrieve's to bare.
func (b *baselines) ratio(r *result, op string) {
	switch {
	case isWrite(op):
		r.ratioTo("bare-post", b.post)
	case strings.HasPrefix(op, "list"):
		r.ratioTo("bare-list", b.list)
	default:
		r.ratioTo("bare", b.get)
	}
}

// limiterBenchRates are the rate limits of the retrieve-limited measurement: far above what one account
// can send here, so the limiter decides on every request and refuses none.
const limiterBenchRates = "1000000/1000000"

// runTwoServers starts a second server on db for as long as measure runs.
func runTwoServers(ctx context.Context, cfg config, db string, measure func(second *process) (*result, error)) (*result, error) {
	second, err := startServe(ctx, cfg, db, filepath.Join(cfg.tmpDir, "postgres-serve-2.log"), false)
	if err != nil {
		return nil, err
	}
	r, err := measure(second)
	return r, errors.Join(err, second.stop())
}

func hasOp(cfg config, op string) bool { return slices.Contains(cfg.ops, op) }

// seed creates the benchmark's accounts with `casapay accounts create` and imports their customers
// directly through the store, before the server starts.
func seed(ctx context.Context, cfg config, db string, pr *progress) (*fixture, error) {
	mainAcct, err := createAccount(ctx, cfg, db, "Harbour Lettings")
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, db)
	if err != nil {
		return nil, err
	}
	defer store.Close()

	fx := &fixture{key: mainAcct.TestSecretKey}
	scope := casapay.Scope{AccountID: mainAcct.ID}
	all := func(int) bool { return true }
	if fx.customers, err = seedCustomers(ctx, store, scope, shallow, all, nil); err != nil {
		return nil, err
	}
	if cfg.soak > 0 || !hasOp(cfg, "list-deep") {
		return fx, settle(ctx, db)
	}

	small, err := createAccount(ctx, cfg, db, "Elm Close Residents")
	if err != nil {
		return nil, err
	}
	fx.smallKey = small.TestSecretKey
	scope = casapay.Scope{AccountID: small.ID}
	if fx.smallCursors, err = seedCustomers(ctx, store, scope, shallow, deepCursors(shallow), nil); err != nil {
		return nil, err
	}

	deep, err := createAccount(ctx, cfg, db, "Metropolitan Housing")
	if err != nil {
		return nil, err
	}
	fx.deepKey = deep.TestSecretKey
	scope = casapay.Scope{AccountID: deep.ID}
	start := time.Now()
	fx.deepCursors, err = seedCustomers(ctx, store, scope, cfg.deep, deepCursors(cfg.deep), func(done int) {
		pr.line("seeding %d customers: %d done, %.0fs", cfg.deep, done, time.Since(start).Seconds())
	})
	if err != nil {
		return nil, err
	}
	pr.done("seeded %d customers in %.1fs", cfg.deep, time.Since(start).Seconds())
	return fx, settle(ctx, db)
}

// op returns the operation named op, sent by worker w to urls[w % len(urls)]. "mixed" is the soak's
// blend of retrieve, create, update and list.
func (fx *fixture) op(client *http.Client, op string, urls []string) opFunc {
	if op == "mixed" {
		ops := map[string]opFunc{}
		for _, o := range []string{"retrieve", "create", "update", "list"} {
			ops[o] = fx.op(client, o, urls)
		}
		return func(ctx context.Context, w int, rng *rand.Rand) error { return ops[mixedOp(rng)](ctx, w, rng) }
	}
	pick := func(rng *rand.Rand, ids []string) string { return ids[rng.IntN(len(ids))] }
	return func(ctx context.Context, w int, rng *rand.Rand) error {
		base := urls[w%len(urls)] + "/v1/customers"
		var req *http.Request
		var err error
		switch op {
		case "retrieve":
			req, err = newRequest(ctx, "GET", base+"/"+pick(rng, fx.customers), fx.key, nil)
		case "create":
			req, err = newRequest(ctx, "POST", base, fx.key, createForm(rng))
		case "update":
			req, err = newRequest(ctx, "POST", base+"/"+pick(rng, fx.customers), fx.key, updateForm(rng))
		case "attach":
			// A test token makes a new card and attaches it: an insert of the payment method, a
			// count of the customer's, a lock on the customer and a payment_method.attached event.
			req, err = newRequest(ctx, "POST", urls[w%len(urls)]+"/v1/payment_methods/pm_card_visa/attach", fx.key,
				url.Values{"customer": {pick(rng, fx.customers)}})
		case "ledger-hot":
			// Every client adds to one customer's ledger: each transaction holds that customer.
			req, err = newRequest(ctx, "POST", base+"/"+fx.customers[0]+"/balance_transactions", fx.key, ledgerForm(rng))
		case "ledger-spread":
			req, err = newRequest(ctx, "POST", base+"/"+pick(rng, fx.customers)+"/balance_transactions", fx.key, ledgerForm(rng))
		case "list":
			req, err = newRequest(ctx, "GET", urls[w%len(urls)]+fx.listPath(), fx.key, nil)
		case "list-deep":
			req, err = newRequest(ctx, "GET", base+"?limit=10&starting_after="+pick(rng, fx.deepCursors), fx.deepKey, nil)
		case "list-deep-1000":
			req, err = newRequest(ctx, "GET", base+"?limit=10&starting_after="+pick(rng, fx.smallCursors), fx.smallKey, nil)
		default:
			return fmt.Errorf("unknown operation %q", op)
		}
		if err != nil {
			return err
		}
		return send(client, req)
	}
}

// listPath is the list operation's page: the 10 seeded customers after the newest seeded one. Creates
// during the run are newer, so they come before the cursor and every request reads the same page, the
// one the bare-list baseline serves.
func (fx *fixture) listPath() string {
	return "/v1/customers?limit=10&starting_after=" + fx.customers[len(fx.customers)-1]
}

// isWrite reports whether op writes, and so compares with the bare handler's POST rate.
func isWrite(op string) bool {
	switch op {
	case "create", "update", "attach", "ledger-hot", "ledger-spread", "webhook":
		return true
	}
	return false
}

// ledgerForm is a balance transaction of a random sign and size, in the one currency every customer's
// ledger takes.
func ledgerForm(rng *rand.Rand) url.Values {
	amount := rng.IntN(100_000) + 1
	if rng.IntN(2) == 0 {
		amount = -amount
	}
	return url.Values{"amount": {strconv.Itoa(amount)}, "currency": {"gbp"}, "description": {"Rent adjustment"}}
}

// mixedOp draws the soak's next operation: mostly reads, as a dashboard and a rent run would send.
func mixedOp(rng *rand.Rand) string {
	switch n := rng.IntN(100); {
	case n < 50:
		return "retrieve"
	case n < 70:
		return "create"
	case n < 85:
		return "update"
	default:
		return "list"
	}
}

// newRequest returns a request with the headers an SDK sends. A POST with a form carries a fresh
// Idempotency-Key, as stripe-go adds to every POST when retries are on (its default).
func newRequest(ctx context.Context, method, u, key string, form url.Values) (*http.Request, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("User-Agent", "casapay-bench")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("%016x%016x", rand.Uint64(), rand.Uint64()))
	}
	return req, nil
}

// createForm is a create's body as stripe-go sends it.
func createForm(rng *rand.Rand) url.Values {
	p := fakeCustomer(rng, rng.IntN(1_000_000_000))
	return url.Values{"name": {*p.Name}, "email": {*p.Email}, "metadata[unit]": {p.Metadata["unit"]}}
}

// updateForm moves a tenant to another unit.
func updateForm(rng *rand.Rand) url.Values {
	return url.Values{"metadata[unit]": {unitName(rng)}}
}

// measure warms op up with one call per worker, which also opens the workers' connections, and then
// drives it for cfg.duration while showing progress.
func measure(ctx context.Context, cfg config, name string, pr *progress, op opFunc) (sample, error) {
	if err := warm(ctx, cfg.clients, op); err != nil {
		return sample{}, err
	}
	var c counters
	stop := pr.phase(name, cfg.duration, &c, nil)
	s, err := drive(ctx, cfg.clients, cfg.duration, &c, op)
	stop()
	return s, err
}

// measureBare measures the bare baselines: it retrieves a real customer and a real list page from the
// server, and then serves exactly those bytes from the bare handler in a process of its own, to the
// same retrieve, list and create requests the server gets.
func measureBare(ctx context.Context, cfg config, srv *process, fx *fixture, client *http.Client, pr *progress) (*baselines, error) {
	get := func(path string) ([]byte, error) {
		req, err := newRequest(ctx, "GET", srv.URL+path, fx.key, nil)
		if err != nil {
			return nil, err
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s for its size: %s: %s", path, res.Status, body)
		}
		return body, nil
	}
	customer, err := get("/v1/customers/" + fx.customers[0])
	if err != nil {
		return nil, err
	}
	page, err := get(fx.listPath())
	if err != nil {
		return nil, err
	}
	bare, err := startBare(ctx, cfg, customer, page)
	if err != nil {
		return nil, err
	}
	b := &baselines{}
	for _, m := range []struct {
		name, op string
		into     **result
	}{{"bare", "retrieve", &b.get}, {"bare-list", "list", &b.list}, {"bare-post", "create", &b.post}} {
		s, err := measure(ctx, cfg, m.name, pr, fx.op(client, m.op, []string{bare.URL}))
		if err != nil {
			return nil, errors.Join(err, bare.stop())
		}
		*m.into = newResult(m.name, s)
	}
	if err := bare.stop(); err != nil {
		return nil, err
	}
	return b, nil
}

// startProfile starts a CPU profile of the server through its --pprof-addr and returns a function that
// waits for it and saves it to file. pprofURL is the profiler's base, http://ADDR/debug/pprof/. The
// profile lasts 10 s, or the phase if that is shorter.
func startProfile(ctx context.Context, cfg config, pprofURL, file string) (save func() error) {
	seconds := max(1, min(10, int(cfg.duration/time.Second)))
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			u := fmt.Sprintf("%sprofile?seconds=%d", pprofURL, seconds)
			req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
			if err != nil {
				return err
			}
			res, err := (&http.Client{Timeout: time.Duration(seconds)*time.Second + 30*time.Second}).Do(req)
			if err != nil {
				return fmt.Errorf("profile the server: %w", err)
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("profile the server: %s", res.Status)
			}
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return err
			}
			f, err := os.Create(file)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, res.Body); err != nil {
				f.Close()
				return fmt.Errorf("save profile: %w", err)
			}
			return f.Close()
		}()
	}()
	return func() error { return <-done }
}

// runSoak drives a steady mix of operations for cfg.soak and compares the server's memory at its start
// (after a warm-up of a tenth of the soak, at most 10 s, so caches and pools have filled) and its end.
func runSoak(ctx context.Context, cfg config, srv *process, fx *fixture, client *http.Client, pr *progress) (*result, *soakReport, error) {
	op := fx.op(client, "mixed", []string{srv.URL})
	warmFor := min(cfg.soak/10, 10*time.Second)
	var warm counters
	stop := pr.phase("soak warm-up", warmFor, &warm, nil)
	_, err := drive(ctx, cfg.clients, warmFor, &warm, op)
	stop()
	if err != nil {
		return nil, nil, err
	}
	startRSS, err := srv.rss()
	if err != nil {
		return nil, nil, err
	}
	sr := &soakReport{Seconds: cfg.soak.Seconds(), StartRSS: startRSS, PeakRSS: startRSS}
	var mu sync.Mutex // guards PeakRSS between the progress line and the end of the soak
	showRSS := func() string {
		rss, err := srv.rss()
		if err != nil {
			return ""
		}
		mu.Lock()
		sr.PeakRSS = max(sr.PeakRSS, rss)
		mu.Unlock()
		return "server RSS " + mib(rss)
	}
	var c counters
	stop = pr.phase("soak (mixed load)", cfg.soak, &c, showRSS)
	s, err := drive(ctx, cfg.clients, cfg.soak, &c, op)
	stop()
	if err != nil {
		return nil, nil, err
	}
	if sr.EndRSS, err = srv.rss(); err != nil {
		return nil, nil, err
	}
	mu.Lock()
	sr.PeakRSS = max(sr.PeakRSS, sr.EndRSS)
	mu.Unlock()
	sr.LimitRSS = 2*sr.StartRSS + 50<<20
	sr.OK = sr.EndRSS <= sr.LimitRSS
	return newResult("mixed", s), sr, nil
}
