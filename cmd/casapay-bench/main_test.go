package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
)

// TestMain lets the test binary stand in for the benchmark's own binary when run re-executes itself as
// the bare baseline server.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == serveBareFlag {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "casapay-bench:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRunSQLite runs the whole benchmark, briefly, on SQLite: it builds and starts the real server,
// seeds it, and measures each operation and both baselines.
func TestRunSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server for several seconds; skipped with -short")
	}
	jsonFile := filepath.Join(t.TempDir(), "bench.json")
	var stdout bytes.Buffer
	args := []string{"--duration", "300ms", "--deep", "2000", "--ops", "retrieve,create,ledger-hot,list-deep", "--json", jsonFile}
	if err := run(t.Context(), args, func(string) string { return "" }, &stdout, t.Output()); err != nil {
		t.Fatalf("run: %v\n%s", err, stdout.String())
	}
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("--json wrote %s: %v", b, err)
	}
	if len(r.Stores) != 1 || r.Stores[0].Store != "sqlite" {
		t.Fatalf("--json has stores %+v, want only sqlite", r.Stores)
	}
	got := map[string]result{}
	for _, res := range r.Stores[0].Results {
		got[res.Operation] = res
	}
	for _, op := range []string{"bare", "bare-list", "bare-post", "commit", "retrieve", "retrieve-limited", "create", "ledger-hot", "list-deep", "list-deep-1000"} {
		res, ok := got[op]
		switch {
		case !ok:
			t.Errorf("--json has no %s result; it has %v", op, r.Stores[0].Results)
		case res.RPS <= 0 || res.Requests == 0:
			t.Errorf("%s: %d requests at %v req/s, want some", op, res.Requests, res.RPS)
		case res.Errors != 0:
			t.Errorf("%s: %d errors, the first %q", op, res.Errors, res.FirstErr)
		}
	}
	for op, want := range map[string]string{"retrieve": "bare", "create": "bare-post", "list-deep": "bare-list"} {
		if got[op].RatioTo != want {
			t.Errorf("%s's ratio is to %q, want %s", op, got[op].RatioTo, want)
		}
	}
	if r.Stores[0].LimiterRPSRatio <= 0 {
		t.Errorf("limiter_rps_ratio = %v, want a ratio", r.Stores[0].LimiterRPSRatio)
	}
	if r.Stores[0].ListDeepP99Ratio <= 0 {
		t.Errorf("list_deep_p99_ratio = %v, want a ratio", r.Stores[0].ListDeepP99Ratio)
	}
	if !bytes.Contains(stdout.Bytes(), []byte("list-deep-1000")) {
		t.Errorf("the table has no list-deep-1000 row:\n%s", stdout.String())
	}
}
