package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/casapay/casapay"
)

func runAccounts(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: casapay accounts create --name NAME [--db DB] [--json]")
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
