package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/casapay/casapay"
)

const accountsUsage = "usage: casapay accounts create --name NAME [--db DB] [--json]\n" +
	"       casapay accounts rate-limits --account ACCT [--set LIVE/TEST] [--db DB] [--json]"

func runAccounts(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "rate-limits":
		return runAccountRateLimits(ctx, args[1:], getenv, stdout, stderr)
	case len(args) == 0 || args[0] != "create":
		return fmt.Errorf(accountsUsage)
	}
	flags := flag.NewFlagSet("accounts create", flag.ContinueOnError)
	flags.SetOutput(stderr)
	db := dbFlag(flags, getenv)
	name := flags.String("name", "", "the account's name (required)")
	asJSON := flags.Bool("json", false, "print the account as one JSON object")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("--name is required")
	}
	store, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()

	a, keys, testSecret, liveSecret := casapay.NewAccount(*name, time.Now())
	if err := store.CreateAccount(ctx, a, keys); err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			ID            string `json:"id"`
			Name          string `json:"name"`
			TestSecretKey string `json:"test_secret_key"`
			LiveSecretKey string `json:"live_secret_key"`
		}{a.ID, a.Name, testSecret, liveSecret})
	}
	printAccount(stdout, a, testSecret, liveSecret)
	return nil
}

// printAccount shows a new account and its secrets, for a person to copy.
func printAccount(w io.Writer, a *casapay.Account, testSecret, liveSecret string) {
	fmt.Fprintf(w, "Created account %s (%s). Its secret keys are shown only this once:\n", a.ID, a.Name)
	fmt.Fprintf(w, "  test mode: %s\n  live mode: %s\n", testSecret, liveSecret)
}

// runAccountRateLimits shows an account's own rate limits, after setting them with --set: LIVE/TEST
// requests per second, either of them "default" for the server's (serve --rate-limits).
func runAccountRateLimits(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("accounts rate-limits", flag.ContinueOnError)
	flags.SetOutput(stderr)
	db := dbFlag(flags, getenv)
	account := flags.String("account", "", "the account's ID, acct_… (required)")
	set := flags.String("set", "", "LIVE/TEST requests per second, each a number or default (the server's --rate-limits), such as 500/default")
	asJSON := flags.Bool("json", false, "print JSON")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *account == "" {
		return fmt.Errorf("--account is required")
	}
	var own casapay.RateLimits
	if *set != "" {
		var err error
		if own, err = parseOwnRateLimits(*set); err != nil {
			return fmt.Errorf("--set: %w", err)
		}
	}
	store, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	if *set != "" {
		if err := store.SetAccountRateLimits(ctx, *account, own); err != nil {
			return fmt.Errorf("set rate limits: %w", err)
		}
	}
	if own, err = store.AccountRateLimits(ctx, *account); err != nil {
		return fmt.Errorf("read rate limits: %w", err)
	}
	orNil := func(n int) *int {
		if n == 0 {
			return nil
		}
		return &n
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Account string `json:"account"`
			Live    *int   `json:"live"`
			Test    *int   `json:"test"`
		}{*account, orNil(own.Live), orNil(own.Test)})
	}
	show := func(n int) string {
		if n == 0 {
			return "the server's (serve --rate-limits)"
		}
		return fmt.Sprintf("%d per second, reads and writes each", n)
	}
	fmt.Fprintf(stdout, "Rate limits of %s:\n  live mode: %s\n  test mode: %s\n", *account, show(own.Live), show(own.Test))
	return nil
}

// parseOwnRateLimits reads LIVE/TEST, each a positive number of requests per second or "default" (0),
// or "default" alone for both.
func parseOwnRateLimits(s string) (casapay.RateLimits, error) {
	if s == "default" {
		return casapay.RateLimits{}, nil
	}
	live, test, ok := strings.Cut(s, "/")
	one := func(v string) (int, bool) {
		if v == "default" {
			return 0, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 1 && n <= casapay.MaxRateLimit
	}
	l, okLive := one(live)
	t, okTest := one(test)
	if !ok || !okLive || !okTest {
		return casapay.RateLimits{}, fmt.Errorf("%q: want LIVE/TEST, each 1 to %d requests per second or default, such as 500/default", s, casapay.MaxRateLimit)
	}
	return casapay.RateLimits{Live: l, Test: t}, nil
}
