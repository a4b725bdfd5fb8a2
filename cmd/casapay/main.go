// Command casapay is CasaPay's API server and its administration tool.
//
//	casapay serve    [--db DB] [--addr HOST:PORT] [--metrics | --metrics-addr HOST:PORT] [--pprof-addr HOST:PORT]
//	casapay accounts create [--db DB] --name NAME [--json]
//	casapay accounts rate-limits [--db DB] --account ACCT [--set LIVE/TEST] [--json]
//	casapay keys create|list|revoke [--db DB] --account ACCT ...
//	casapay listen --api-key KEY --forward-to URL [--events TYPES] [--api-url URL]
//
// DB is sqlite:PATH (the default is sqlite:casapay.db) or a postgres:// URL.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "casapay:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  casapay serve [--db DB] [--addr HOST:PORT]       run the API server
        [--metrics | --metrics-addr HOST:PORT]     Prometheus /metrics on the API address or its own
        [--pprof-addr HOST:PORT]                   the Go profiler at /debug/pprof/ on its own address
        [--webhook-allow-private] [--webhook-timeout D] [--webhook-retry-scale X]
                                                   how webhooks are delivered
        [--rate-limits off|LIVE/TEST] [--max-connections N]
                                                   per-account rate limits; the API's connection cap
  casapay accounts create --name NAME [--json]     create an account and its first keys
  casapay accounts rate-limits --account ACCT [--set LIVE/TEST] [--json]
                                                   show or set an account's own rate limits
  casapay keys create --account ACCT --mode test|live [--json]
  casapay keys list --account ACCT [--json]
  casapay keys revoke --account ACCT --id KEY_ID
  casapay listen --api-key KEY --forward-to URL [--events TYPES] [--api-url URL]
                                                   forward a server's events to a local URL, signed

DB is sqlite:PATH or a postgres:// URL (default sqlite:casapay.db, or $CASAPAY_DB).
Run 'casapay COMMAND -h' for a command's flags.
`

// run is the whole program, with its environment passed in, so tests can drive it as a user would.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "accounts":
		return runAccounts(ctx, rest, getenv, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, getenv, stdout, stderr)
	case "listen":
		return runListen(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
