package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/casapay/casapay"
)

const keysUsage = "usage: casapay keys create|list|revoke --account ACCT [--db DB] ..."

func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf(keysUsage)
	}
	sub := args[0]
	flags := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	flags.SetOutput(stderr)
	db := dbFlag(flags, getenv)
	account := flags.String("account", "", "the account's ID, acct_… (required)")
	asJSON := flags.Bool("json", false, "print JSON")
	var mode, keyID *string
	switch sub {
	case "create":
		mode = flags.String("mode", "test", "test or live")
	case "revoke":
		keyID = flags.String("id", "", "the key's ID, key_… (required)")
	case "list":
	default:
		return fmt.Errorf("unknown keys command %q; %s", sub, keysUsage)
	}
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	if *account == "" {
		return fmt.Errorf("--account is required")
	}
	store, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()

	switch sub {
	case "create":
		if *mode != "test" && *mode != "live" {
			return fmt.Errorf("--mode must be test or live, not %q", *mode)
		}
		secret, key := casapay.NewAPIKey(*account, *mode == "live", time.Now())
		if err := store.CreateAPIKey(ctx, key); err != nil {
			return fmt.Errorf("create key: %w", err)
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(struct {
				ID       string `json:"id"`
				Account  string `json:"account"`
				Livemode bool   `json:"livemode"`
				Secret   string `json:"secret"`
			}{key.ID, key.AccountID, key.Livemode, secret})
		}
		fmt.Fprintf(stdout, "Created key %s. The secret is shown only this once:\n  %s\n", key.ID, secret)
		return nil
	case "revoke":
		if *keyID == "" {
			return fmt.Errorf("--id is required")
		}
		if err := store.RevokeAPIKey(ctx, *account, *keyID, time.Now()); err != nil {
			return fmt.Errorf("revoke key: %w", err)
		}
		fmt.Fprintf(stdout, "Revoked key %s.\n", *keyID)
		return nil
	default: // list
		keys, err := store.ListAPIKeys(ctx, *account)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		return printKeys(stdout, keys, *asJSON)
	}
}

// keyView is how a key is shown: masked, never its hash.
type keyView struct {
	ID       string     `json:"id"`
	Livemode bool       `json:"livemode"`
	Key      string     `json:"key"`
	Created  time.Time  `json:"created"`
	Revoked  *time.Time `json:"revoked"`
}

func printKeys(w io.Writer, keys []*casapay.APIKey, asJSON bool) error {
	views := make([]keyView, len(keys))
	for i, k := range keys {
		views[i] = keyView{ID: k.ID, Livemode: k.Livemode, Key: k.Masked(), Created: k.Created, Revoked: k.RevokedAt}
	}
	if asJSON {
		return json.NewEncoder(w).Encode(views)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMODE\tKEY\tCREATED\tSTATUS")
	for _, v := range views {
		mode, status := "test", "active"
		if v.Livemode {
			mode = "live"
		}
		if v.Revoked != nil {
			status = "revoked " + v.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.ID, mode, v.Key, v.Created.Format(time.RFC3339), status)
	}
	return tw.Flush()
}
