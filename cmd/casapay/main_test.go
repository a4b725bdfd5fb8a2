package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storetest"
)

// server is a running `casapay serve`, driven through run as main would.
type server struct {
	URL     string
	TestKey string
	LiveKey string
	stop    context.CancelFunc
	done    chan error
}

// startServe runs `casapay serve --addr 127.0.0.1:0` with args until the test ends, and returns once it
// listens.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	return startServeEnv(t, func(string) string { return "" }, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
}

// startServeEnv runs `casapay serve` with args and the environment getenv until the test ends, and
// returns once it listens.
func startServeEnv(t *testing.T, getenv func(string) string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	pr, pw := io.Pipe()
	s := &server{stop: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, append([]string{"serve"}, args...), getenv, pw, t.Output())
		pw.CloseWithError(io.EOF)
		s.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	lines := bufio.NewScanner(pr)
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	for lines.Scan() {
		line := lines.Text()
		if m := listening.FindStringSubmatch(line); m != nil {
			s.URL = m[1]
			go io.Copy(io.Discard, pr) // keep serve's later output from blocking it
			return s
		}
		if k := regexp.MustCompile(`sk_test_\w+`).FindString(line); k != "" {
			s.TestKey = k
		}
		if k := regexp.MustCompile(`sk_live_\w+`).FindString(line); k != "" {
			s.LiveKey = k
		}
	}
	t.Fatalf("serve exited before listening: %v", <-s.done)
	return nil
}

// call sends one request with a key and returns status and body.
func call(t *testing.T, method, url, key, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func databases(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "casapay.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresSchemaURL(t) },
	}
}

// TestQuickStart follows the README: serve on an empty database prints keys, and the reference's curl
// examples work with only the host and the key changed.
func TestQuickStart(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dsn := db(t)
			s := startServe(t, "--db", dsn)
			if s.TestKey == "" || s.LiveKey == "" {
				t.Fatalf("serve on an empty database printed no keys (test %q, live %q)", s.TestKey, s.LiveKey)
			}
			if code, _ := call(t, "GET", s.URL+"/healthz", "", "", ""); code != 200 {
				t.Errorf("/healthz = %d, want 200", code)
			}
			code, body := call(t, "POST", s.URL+"/v1/customers", s.TestKey, "application/json", `{
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "metadata": { "property_id": "prop_456" }
  }`)
			if code != 200 {
				t.Fatalf("create = %d %s", code, body)
			}
			var c struct{ ID string }
			json.Unmarshal(body, &c)
			if code, body := call(t, "GET", s.URL+"/v1/customers/"+c.ID, s.TestKey, "", ""); code != 200 || !bytes.Contains(body, []byte(`"Jane Doe"`)) {
				t.Errorf("retrieve = %d %s", code, body)
			}
			if code, body := call(t, "POST", s.URL+"/v1/customers/"+c.ID, s.TestKey, "application/json", `{"email": "jane.new@example.com"}`); code != 200 || !bytes.Contains(body, []byte("jane.new@example.com")) {
				t.Errorf("update = %d %s", code, body)
			}
			if code, body := call(t, "GET", s.URL+"/v1/customers?limit=10", s.TestKey, "", ""); code != 200 || !bytes.Contains(body, []byte(c.ID)) {
				t.Errorf("list = %d %s", code, body)
			}
			if code, body := call(t, "DELETE", s.URL+"/v1/customers/"+c.ID, s.TestKey, "", ""); code != 200 || !bytes.Contains(body, []byte(`"deleted":true`)) {
				t.Errorf("delete = %d %s", code, body)
			}

			// A restart on the same database keeps the data and prints no new keys.
			s.stop()
			if err := <-s.done; err != nil {
				t.Fatalf("serve after SIGTERM returned %v, want nil", err)
			}
			s.done <- nil // for the first server's cleanup
			again := startServe(t, "--db", dsn)
			if again.TestKey != "" {
				t.Errorf("second start printed a new key %s", again.TestKey)
			}
			if code, _ := call(t, "GET", again.URL+"/v1/customers/"+c.ID, s.TestKey, "", ""); code != 200 {
				t.Errorf("retrieve after restart = %d, want 200", code)
			}
		})
	}
}

// TestServeFinishesInFlightRequests sends half a request, stops the server, then sends the rest: the
// request is answered, and serve returns only afterwards, with no error.
func TestServeFinishesInFlightRequests(t *testing.T) {
	s := startServe(t, "--db", "sqlite:"+filepath.Join(t.TempDir(), "casapay.db"))
	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/v1/customers", pr)
	req.Header.Set("Authorization", "Bearer "+s.TestKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// With Expect: 100-continue the client sends no body until the handler starts reading it, so once the
	// first write below returns, the request is in the handler's hands.
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	answered := make(chan int, 1)
	go func() {
		res, err := client.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		res.Body.Close()
		answered <- res.StatusCode
	}()
	pw.Write([]byte("name=Half"))
	s.stop()
	// Shutdown closes the listener first: once a new connection is refused, shutdown is under way.
	addr := strings.TrimPrefix(s.URL, "http://")
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
	}
	select {
	case err := <-s.done:
		t.Fatalf("serve returned %v while a request was in flight", err)
	default:
	}
	pw.Write([]byte("+Done"))
	pw.Close()
	if code := <-answered; code != 200 {
		t.Errorf("in-flight request answered %d, want 200", code)
	}
	if err := <-s.done; err != nil {
		t.Errorf("serve returned %v, want nil", err)
	}
	s.done <- nil
}

func TestAccountsAndKeys(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dsn := db(t)
			ctx := t.Context()
			getenv := func(k string) string {
				if k == "CASAPAY_DB" {
					return dsn // the environment works as well as --db
				}
				return ""
			}
			var out bytes.Buffer
			if err := run(ctx, []string{"accounts", "create", "--name", "Acme Lettings", "--json"}, getenv, &out, io.Discard); err != nil {
				t.Fatalf("accounts create: %v", err)
			}
			var acct struct {
				ID            string `json:"id"`
				Name          string `json:"name"`
				TestSecretKey string `json:"test_secret_key"`
				LiveSecretKey string `json:"live_secret_key"`
			}
			dec := json.NewDecoder(&out)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&acct); err != nil {
				t.Fatalf("accounts create --json printed %q: %v", out.String(), err)
			}
			if !strings.HasPrefix(acct.ID, "acct_") || acct.Name != "Acme Lettings" ||
				!strings.HasPrefix(acct.TestSecretKey, "sk_test_") || !strings.HasPrefix(acct.LiveSecretKey, "sk_live_") {
				t.Errorf("accounts create --json = %+v", acct)
			}

			out.Reset()
			if err := run(ctx, []string{"keys", "create", "--account", acct.ID, "--mode", "live", "--json"}, getenv, &out, io.Discard); err != nil {
				t.Fatalf("keys create: %v", err)
			}
			var key struct{ ID, Secret string }
			if err := json.Unmarshal(out.Bytes(), &key); err != nil || !strings.HasPrefix(key.Secret, "sk_live_") {
				t.Fatalf("keys create printed %q (%v)", out.String(), err)
			}

			out.Reset()
			if err := run(ctx, []string{"keys", "list", "--account", acct.ID}, getenv, &out, io.Discard); err != nil {
				t.Fatalf("keys list: %v", err)
			}
			for _, secret := range []string{acct.TestSecretKey, acct.LiveSecretKey, key.Secret} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("keys list shows a whole secret:\n%s", out.String())
				}
				if !strings.Contains(out.String(), secret[len(secret)-4:]) {
					t.Errorf("keys list does not show the last four characters of a key:\n%s", out.String())
				}
			}

			s := startServe(t, "--db", dsn)
			if code, body := call(t, "GET", s.URL+"/v1/customers", key.Secret, "", ""); code != 200 || !bytes.Contains(body, []byte(`"object":"list"`)) {
				t.Fatalf("new key: %d %s", code, body)
			}
			if err := run(ctx, []string{"keys", "revoke", "--account", acct.ID, "--id", key.ID}, getenv, io.Discard, io.Discard); err != nil {
				t.Fatalf("keys revoke: %v", err)
			}
			if code, body := call(t, "GET", s.URL+"/v1/customers", key.Secret, "", ""); code != 401 {
				t.Errorf("revoked key: %d %s, want 401", code, body)
			}
			if code, _ := call(t, "GET", s.URL+"/v1/customers", acct.LiveSecretKey, "", ""); code != 200 {
				t.Errorf("the account's other live key: %d, want 200", code)
			}
			if err := run(ctx, []string{"keys", "revoke", "--account", acct.ID, "--id", "key_missing"}, getenv, io.Discard, io.Discard); err == nil {
				t.Errorf("revoking a missing key succeeded")
			}
		})
	}
}

// TestServeConfiguration checks that serve reads CASAPAY_DB and CASAPAY_ADDR, and that flags win.
func TestServeConfiguration(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"CASAPAY_DB":   "sqlite:" + filepath.Join(dir, "from-env.db"),
		"CASAPAY_ADDR": "127.0.0.1:0",
	}
	s := startServeEnv(t, func(k string) string { return env[k] })
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.TestKey == "" {
		t.Fatalf("serve from the environment: URL %q, key %q", s.URL, s.TestKey)
	}
	if _, err := os.Stat(filepath.Join(dir, "from-env.db")); err != nil {
		t.Errorf("CASAPAY_DB was not used: %v", err)
	}

	// The environment names an address that cannot be bound; the flag wins.
	env["CASAPAY_ADDR"] = "256.0.0.1:1"
	flagged := startServeEnv(t, func(k string) string { return env[k] }, "--addr", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(dir, "from-flag.db"))
	if code, _ := call(t, "GET", flagged.URL+"/healthz", "", "", ""); code != 200 {
		t.Errorf("serve with --addr over CASAPAY_ADDR: /healthz = %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "from-flag.db")); err != nil {
		t.Errorf("--db did not win over CASAPAY_DB: %v", err)
	}
	if err := run(t.Context(), []string{"serve", "--db", "mysql://x"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Errorf("serve with an unknown database scheme succeeded")
	}
}

// TestServeDropsIdleClients checks that serve sets its read timeouts: a client that connects and sends
// nothing is disconnected by the server, instead of holding a connection and a goroutine for ever.
func TestServeDropsIdleClients(t *testing.T) {
	t.Parallel()
	s := startServe(t, "--db", "sqlite:"+filepath.Join(t.TempDir(), "casapay.db"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	// The deadline only bounds the test: the server's header timeout is far shorter, so a read that
	// reaches it means the server never dropped the connection.
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("an idle connection was still open after a minute: serve sets no read timeout")
	}
	if err == nil {
		t.Errorf("the server sent data to a client that sent nothing")
	}
}

// TestAccountRateLimitsCommand: `casapay accounts rate-limits` sets an account's own limits, which a
// running server applies from the account's next request, shows them, and puts them back to the
// server's; bad values and unknown accounts are refused.
func TestAccountRateLimitsCommand(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dsn := db(t)
			ctx := t.Context()
			getenv := func(string) string { return "" }
			var out bytes.Buffer
			if err := run(ctx, []string{"accounts", "create", "--db", dsn, "--name", "Rate Lettings", "--json"}, getenv, &out, io.Discard); err != nil {
				t.Fatalf("accounts create: %v", err)
			}
			var acct struct {
				ID            string `json:"id"`
				TestSecretKey string `json:"test_secret_key"`
				LiveSecretKey string `json:"live_secret_key"`
			}
			if err := json.Unmarshal(out.Bytes(), &acct); err != nil {
				t.Fatal(err)
			}
			s := startServe(t, "--db", dsn, "--rate-limits", "1000/1000")
			if code, _ := call(t, "GET", s.URL+"/v1/customers", acct.LiveSecretKey, "", ""); code != 200 {
				t.Fatalf("first read: %d", code)
			}

			rateLimits := func(args ...string) (string, error) {
				out.Reset()
				err := run(ctx, append([]string{"accounts", "rate-limits", "--db", dsn}, args...), getenv, &out, io.Discard)
				return out.String(), err
			}
			got, err := rateLimits("--account", acct.ID, "--set", "2/default", "--json")
			if want := `{"account":"` + acct.ID + `","live":2,"test":null}` + "\n"; err != nil || got != want {
				t.Errorf("rate-limits --set 2/default --json = %q, %v; want %q", got, err, want)
			}
			// Live mode now has 2 a second, a bucket of 52; test mode keeps the server's 1000.
			refused := func(key string, n int) (int, string) {
				count, message := 0, ""
				for range n {
					if code, body := call(t, "GET", s.URL+"/v1/customers", key, "", ""); code == http.StatusTooManyRequests {
						count++
						message = string(body)
					} else if code != 200 {
						t.Fatalf("read: %d %s", code, body)
					}
				}
				return count, message
			}
			if n, message := refused(acct.LiveSecretKey, 2+casapay.RateBurst+10); n == 0 || !strings.Contains(message, "may make 2 per second") {
				t.Errorf("%d live reads refused (%s), want some, naming 2 a second", n, message)
			}
			if n, _ := refused(acct.TestSecretKey, 2+casapay.RateBurst+10); n != 0 {
				t.Errorf("%d test reads refused, want none", n)
			}

			if got, err := rateLimits("--account", acct.ID); err != nil || !strings.Contains(got, "live mode: 2 per second") ||
				!strings.Contains(got, "test mode: the server's") {
				t.Errorf("rate-limits = %q, %v", got, err)
			}
			if got, err := rateLimits("--account", acct.ID, "--set", "default", "--json"); err != nil ||
				got != `{"account":"`+acct.ID+`","live":null,"test":null}`+"\n" {
				t.Errorf("rate-limits --set default = %q, %v", got, err)
			}
			for _, bad := range [][]string{
				{"--account", acct.ID, "--set", "0/5"},
				{"--account", acct.ID, "--set", "5"},
				{"--account", acct.ID, "--set", "fast/5"},
				{"--account", acct.ID, "--set", "5/2000000"},
				{"--account", "acct_missing", "--set", "5/5"},
				{"--account", "acct_missing"},
				{"--set", "5/5"},
			} {
				if _, err := rateLimits(bad...); err == nil {
					t.Errorf("rate-limits %v succeeded", bad)
				}
			}
		})
	}
}

// TestServeRateLimitsConfiguration: CASAPAY_RATE_LIMITS sets the limits, --rate-limits wins over it,
// and a value that is not off or LIVE/TEST stops serve before it starts.
func TestServeRateLimitsConfiguration(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CASAPAY_RATE_LIMITS": "1000/1", "CASAPAY_DB": "sqlite:" + filepath.Join(dir, "limits.db")}
	refused := func(s *server) int {
		n := 0
		for range 1 + casapay.RateBurst + 10 {
			if code, _ := call(t, "GET", s.URL+"/v1/customers", s.TestKey, "", ""); code == http.StatusTooManyRequests {
				n++
			}
		}
		return n
	}
	s := startServeEnv(t, func(k string) string { return env[k] }, "--addr", "127.0.0.1:0")
	if n := refused(s); n == 0 {
		t.Errorf("CASAPAY_RATE_LIMITS=1000/1: no test-mode read refused of %d", 1+casapay.RateBurst+10)
	}
	env["CASAPAY_DB"] = "sqlite:" + filepath.Join(dir, "flag.db")
	s = startServeEnv(t, func(k string) string { return env[k] }, "--addr", "127.0.0.1:0", "--rate-limits", "off")
	if n := refused(s); n != 0 {
		t.Errorf("--rate-limits off over CASAPAY_RATE_LIMITS: %d reads refused", n)
	}
	for _, bad := range []string{"fast", "100", "0/25", "100/-1", "100/25/5", "2000000/25"} {
		if err := run(t.Context(), []string{"serve", "--db", "sqlite:" + filepath.Join(dir, "bad.db"), "--addr", "127.0.0.1:0", "--rate-limits", bad},
			func(string) string { return "" }, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--rate-limits") {
			t.Errorf("serve --rate-limits %q: %v, want an error naming the flag", bad, err)
		}
	}
}

// TestServeAnswersOddTargetsInJSON: through serve's own http.Server, OPTIONS * reaches the API and is
// answered in JSON, not with net/http's empty 200.
func TestServeAnswersOddTargetsInJSON(t *testing.T) {
	s := startServe(t, "--db", "sqlite:"+filepath.Join(t.TempDir(), "odd.db"))
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute)) // bounds a test that would otherwise hang
	if _, err := io.WriteString(c, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != "application/json" || !bytes.Contains(body, []byte(`"error"`)) {
		t.Errorf("OPTIONS * = %d %q %s, want 404 with the JSON error envelope", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}
