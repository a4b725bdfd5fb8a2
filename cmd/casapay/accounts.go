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

	created := time.Now()
	a := &casapay.Account{ID: casapay.NewID("acct"), Name: *name, Created: created}
	testSecret, testKey := casapay.NewAPIKey(a.ID, false, created)
	liveSecret, liveKey := casapay.NewAPIKey(a.ID, true, created)
	if err := store.CreateAccount(ctx, a, []*casapay.APIKey{testKey, liveKey}); err != nil {
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
	fmt.Fprintf(stdout, "Created account %s (%s). Its secret keys are shown only this once:\n", a.ID, a.Name)
	fmt.Fprintf(stdout, "  test mode: %s\n  live mode: %s\n", testSecret, liveSecret)
	return nil
}
