// Command casapay-bench measures a CasaPay server under load, against the two ceilings it cannot beat on
// this machine: a bare net/http handler and the store's raw durable commit rate.
//
//	go run ./cmd/casapay-bench [--clients 32] [--duration 10s] [--ops retrieve,create,update,attach,ledger-hot,ledger-spread,list,list-deep,webhook]
//	                           [--postgres URL] [--json FILE] [--deep 1000000] [--profile DIR] [--two-servers]
//	go run ./cmd/casapay-bench --soak 60s [--postgres URL]
//
// Run it from the repository root: it builds ./cmd/casapay and runs `casapay serve` as a subprocess on a
// fresh SQLite file, then on a fresh PostgreSQL database when a URL is given, and drives it over
// loopback. It exits non-zero if any request failed, or if an event of the webhook phase was not
// delivered within a minute. retrieve is also measured through a second server with rate limits on
// (retrieve-limited), at a rate no request reaches, for what the limiter costs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "casapay-bench:", err)
		os.Exit(1)
	}
}

// allOps are the operations the benchmark knows, in the order it runs them.
var allOps = []string{"retrieve", "create", "update", "attach", "ledger-hot", "ledger-spread", "list", "list-deep", "webhook"}

// config is the benchmark's flags.
type config struct {
	clients     int
	duration    time.Duration
	ops         []string
	postgres    string
	jsonFile    string
	deep        int
	soak        time.Duration
	profileDir  string
	twoServers  bool
	casapayPath string // the built casapay binary
	tmpDir      string // removed when run returns
}

// serveBareFlag re-executes this binary as the bare baseline server, in a process of its own like the
// CasaPay server. It is not listed in -h: only the benchmark itself passes it.
const serveBareFlag = "--serve-bare"

// run is the whole program, with its environment passed in, so tests can drive it as a user would.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == serveBareFlag {
		if len(args) != 4 {
			return fmt.Errorf("usage: casapay-bench %s ADDR CUSTOMER_FILE PAGE_FILE", serveBareFlag)
		}
		return serveBare(ctx, args[1], args[2], args[3], stdout)
	}

	flags := flag.NewFlagSet("casapay-bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var cfg config
	flags.IntVar(&cfg.clients, "clients", 32, "concurrent keep-alive clients")
	flags.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to drive each operation")
	ops := flags.String("ops", strings.Join(allOps, ","), "comma-separated operations to measure: "+strings.Join(allOps, ", "))
	flags.StringVar(&cfg.postgres, "postgres", getenv("CASAPAY_TEST_POSTGRES"),
		"PostgreSQL URL to also benchmark on a fresh database created beside it (env CASAPAY_TEST_POSTGRES; empty: SQLite only)")
	flags.StringVar(&cfg.jsonFile, "json", "", "also write the results as JSON to this file")
	flags.IntVar(&cfg.deep, "deep", 1_000_000, "customers in the account that list-deep pages through")
	flags.DurationVar(&cfg.soak, "soak", 0, "instead of the per-operation runs, drive a steady mixed load this long and check the server's memory")
	flags.StringVar(&cfg.profileDir, "profile", "", "save 10 s CPU profiles of the server under retrieve, list, create, attach and webhook-create in this directory, as STORE/OPERATION.pprof")
	flags.BoolVar(&cfg.twoServers, "two-servers", false, "on PostgreSQL, also measure create with two serve processes on one database")
	if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // -h asked for the usage, which Parse printed
	} else if err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	if cfg.clients < 1 {
		return fmt.Errorf("--clients must be at least 1")
	}
	if cfg.duration <= 0 {
		return fmt.Errorf("--duration must be positive")
	}
	if cfg.twoServers && cfg.postgres == "" {
		return fmt.Errorf("--two-servers needs --postgres (or CASAPAY_TEST_POSTGRES)")
	}
	if cfg.deep < minDeep {
		return fmt.Errorf("--deep must be at least %d", minDeep)
	}
	for op := range strings.SplitSeq(*ops, ",") {
		op = strings.TrimSpace(op)
		if !slices.Contains(allOps, op) {
			return fmt.Errorf("unknown operation %q in --ops; known: %s", op, strings.Join(allOps, ", "))
		}
		if !slices.Contains(cfg.ops, op) {
			cfg.ops = append(cfg.ops, op)
		}
	}
	// Run in the benchmark's own order, whatever order --ops gave.
	slices.SortFunc(cfg.ops, func(a, b string) int { return slices.Index(allOps, a) - slices.Index(allOps, b) })

	tmp, err := os.MkdirTemp("", "casapay-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg.tmpDir = tmp

	fmt.Fprintln(stderr, "building casapay")
	if cfg.casapayPath, err = buildCasaPay(ctx, tmp); err != nil {
		return err
	}

	rep := newReport(cfg)
	var problems []error
	var bare *baselines // measured once, on the first store's server, and shared by every table
	stores := []string{"sqlite"}
	if cfg.postgres != "" {
		stores = append(stores, "postgres")
	}
	for _, name := range stores {
		sr, err := benchStore(ctx, cfg, name, &bare, stderr)
		if sr != nil && len(sr.Results) > 0 {
			rep.Stores = append(rep.Stores, *sr)
		}
		if err != nil {
			// Report what was measured before the failure, then stop.
			problems = append(problems, fmt.Errorf("%s: %w", name, err))
			break
		}
	}

	if err := writeTable(stdout, rep); err != nil {
		return err
	}
	if cfg.jsonFile != "" {
		if err := writeJSON(cfg.jsonFile, rep); err != nil {
			return err
		}
	}
	if n := rep.failedRequests(); n > 0 {
		problems = append(problems, fmt.Errorf("%d requests failed", n))
	}
	for _, s := range rep.Stores {
		if s.Webhook != nil && s.Webhook.Backlog > 0 {
			problems = append(problems, fmt.Errorf("%s: %d of %d events were not delivered within a minute", s.Store, s.Webhook.Backlog, s.Webhook.Created))
		}
		if s.Soak != nil && !s.Soak.OK {
			problems = append(problems, fmt.Errorf("%s: server memory grew from %s to %s under steady load", s.Store, mib(s.Soak.StartRSS), mib(s.Soak.EndRSS)))
		}
	}
	return errors.Join(problems...)
}
