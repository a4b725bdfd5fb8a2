package storetest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckSkips holds .ci/check-skips, which CI runs on the verbose test log, to its promise: with
// CASAPAY_TEST_POSTGRES set, a skipped PostgreSQL test fails the run; otherwise skips pass.
func TestCheckSkips(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", ".ci", "check-skips"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		postgresSkipped = "=== RUN   TestStore/postgres\n--- SKIP: TestStore/postgres (0.00s)\n" +
			"    open.go:55: CASAPAY_TEST_POSTGRES is not set; to run the PostgreSQL tests, point it at a database\n"
		nestedSkip  = "--- PASS: TestEvents (0.10s)\n    --- SKIP: TestEvents/postgres (0.00s)\n"
		messageOnly = "    --- SKIP: TestPlan (0.00s)\n        plan_test.go:243: CASAPAY_TEST_POSTGRES is not set\n"
		streamed    = "=== RUN   TestListUsesIndex\n    plan_test.go:243: CASAPAY_TEST_POSTGRES is not set\n" +
			"--- SKIP: TestListUsesIndex (0.00s)\n=== RUN   TestOther\n--- PASS: TestOther (0.00s)\n"
		otherSkip = "--- PASS: TestStore/sqlite (0.20s)\n--- SKIP: TestLoad (0.00s)\n" +
			"    main_test.go:35: builds and runs the server for several seconds; skipped with -short\nok  \tgithub.com/casapay/casapay/sqlite\t1.2s\n"
	)
	for _, tt := range []struct {
		name     string
		postgres string
		log      string
		fail     bool
		names    string // a test the failure must name
	}{
		{"postgres test skipped", "postgres://db", postgresSkipped + otherSkip, true, "TestStore/postgres"},
		{"nested postgres subtest skipped", "postgres://db", nestedSkip, true, "TestEvents/postgres"},
		{"skip message names the variable", "postgres://db", messageOnly, true, "TestPlan"},
		{"skip message streamed before the skip", "postgres://db", streamed, true, "TestListUsesIndex"},
		{"only other skips", "postgres://db", otherSkip, false, ""},
		{"variable unset", "", postgresSkipped, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "test.log")
			if err := os.WriteFile(log, []byte(tt.log), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(script, log)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CASAPAY_TEST_POSTGRES=" + tt.postgres}
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tt.fail {
				t.Fatalf("check-skips failed = %t (%v), want %t; output:\n%s", failed, err, tt.fail, out)
			}
			if tt.fail && !strings.Contains(string(out), tt.names) {
				t.Errorf("check-skips output = %q, want it to name %s", out, tt.names)
			}
		})
	}
}

// TestCIRunChecksSkips checks that .ci/run runs the test command verbosely into a log and hands that log
// to .ci/check-skips: without the call, the check above would guard nothing.
func TestCIRunChecksSkips(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	var test, check int
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "go test ") && strings.Contains(line, " -v ") && strings.Contains(line, `> "$log"`):
			test = i + 1
		case strings.HasPrefix(line, ".ci/check-skips ") && strings.Contains(line, `"$log"`):
			check = i + 1
		}
	}
	if test == 0 || check == 0 || check < test {
		t.Errorf(".ci/run: verbose go test into $log at line %d, .ci/check-skips \"$log\" at line %d; want both, the check after the tests", test, check)
	}
}
