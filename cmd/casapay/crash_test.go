package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The tests in this file and in multiprocess_test.go run the real casapay binary as a subprocess, so
// that a kill -9 ends a whole process (its connections, its pool, its queue of writes waiting for a
// commit) exactly as a crash in production would, and two processes share nothing but the database.

// binary is the casapay binary the subprocess tests run, built once per test binary.
var binary struct {
	once sync.Once
	dir  string
	path string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// casapayBinary builds this package once and returns the path of the binary. It is built without
// -race even under `go test -race`: the subprocess is the system under test, and the race detector
// already watches the same code in the in-process tests; a plain build is faster to build and to load.
func casapayBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "casapay-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "casapay")
		// The test runs in the package's directory, so "." is cmd/casapay.
		binary.out, binary.err = exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput()
	})
	if binary.err != nil {
		t.Fatalf("go build ./cmd/casapay: %v\n%s", binary.err, binary.out)
	}
	return binary.path
}

// syncBuffer collects a subprocess's output; the process writes while tests may read.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last n bytes written, which is where a crash or a failed request shows.
func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// serveProcess is a `casapay serve` subprocess.
type serveProcess struct {
	URL     string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited and been waited for
	waitErr error         // set before exited is closed
}

// startServeProcess starts `casapay serve` on dsn, with flags, and returns once it prints the address it listens on.
// The process is killed and waited for when the test ends; its output (stdout and stderr, including a
// log line per request) is shown only if the test failed.
func startServeProcess(t *testing.T, dsn string, flags ...string) *serveProcess {
	t.Helper()
	output := &syncBuffer{}
	// Rate limits are off unless flags turn them on: the tests drive one account as hard as they can.
	cmd := exec.Command(casapayBinary(t), append([]string{"serve", "--db", dsn, "--addr", "127.0.0.1:0", "--rate-limits", "off"}, flags...)...)
	cmd.Stderr = output
	// stdout is a pipe of our own rather than cmd.StdoutPipe, because Wait closes that one and could
	// cut off the last lines; ours reaches EOF when the process exits, and not before.
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		stdout.Close()
		w.Close()
		t.Fatalf("start casapay serve: %v", err)
	}
	w.Close() // the child holds the only write end now
	p := &serveProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()

	listening := make(chan string, 1)
	stdoutDone := make(chan struct{})
	go func() {
		defer close(stdoutDone)
		defer stdout.Close()
		re := regexp.MustCompile(`listening on (http://\S+)`)
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			fmt.Fprintf(output, "stdout: %s\n", lines.Text())
			if m := re.FindStringSubmatch(lines.Text()); m != nil {
				select {
				case listening <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		p.kill(t)
		<-stdoutDone
		if t.Failed() {
			t.Logf("output of casapay serve --db %s (pid %d, %v):\n%s", dsn, cmd.Process.Pid, p.waitErr, output.tail(32<<10))
		}
	})

	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case p.URL = <-listening:
		return p
	case <-p.exited:
		<-stdoutDone
		t.Fatalf("casapay serve exited before listening: %v\n%s", p.waitErr, output.tail(8<<10))
	case <-timeout.C:
		t.Fatalf("casapay serve printed no address within 30s:\n%s", output.tail(8<<10))
	}
	return nil
}

// kill sends SIGKILL and waits until the process is gone. Killing a process that has exited does nothing.
func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("kill casapay serve: %v", err)
	}
	<-p.exited
}

// createAccountProcess runs `casapay accounts create --json` on dsn and returns the new account's
// test-mode secret key.
func createAccountProcess(t *testing.T, dsn string) string {
	t.Helper()
	cmd := exec.Command(casapayBinary(t), "accounts", "create", "--db", dsn, "--name", t.Name(), "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("casapay accounts create: %v\n%s", err, stderr.Bytes())
	}
	var acct struct {
		TestSecretKey string `json:"test_secret_key"`
	}
	if err := json.Unmarshal(out, &acct); err != nil || !strings.HasPrefix(acct.TestSecretKey, "sk_test_") {
		t.Fatalf("casapay accounts create --json printed %q (%v)", out, err)
	}
	return acct.TestSecretKey
}

// newKeepAliveClient returns a client that keeps a connection per concurrent caller open, as a busy
// SDK would. The timeout only bounds a test that would otherwise hang.
func newKeepAliveClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// answer is one HTTP response, read whole.
type answer struct {
	Status   int
	Replayed bool // Idempotent-Replayed: true
	Body     []byte
}

// do sends one request with the key and, for a POST, a form body and an Idempotency-Key.
func do(ctx context.Context, client *http.Client, method, target, key, idemKey string, form url.Values) (answer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	res, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{Status: res.StatusCode, Replayed: res.Header.Get("Idempotent-Replayed") == "true", Body: b}, nil
}

// customerJSON is the part of a customer (or of an error) the subprocess tests look at.
type customerJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Deleted bool   `json:"deleted"`
	Error   *struct {
		Type string `json:"type"`
		Code string `json:"code"`
	} `json:"error"`
}

func (a answer) customer() customerJSON {
	var c customerJSON
	json.Unmarshal(a.Body, &c)
	return c
}

// createRequest is one customer create of the crash test. Its name and its Idempotency-Key are unique,
// so a retry is the same request, and a customer created twice shows in the list.
type createRequest struct {
	Key  string // Idempotency-Key
	Name string
}

// form is the create's body: the name, and an opening balance, which the create records as the
// customer's first balance transaction in the same transaction.
func (r createRequest) form() url.Values {
	return url.Values{"name": {r.Name}, "balance": {strconv.Itoa(100 * (1 + len(r.Key)%7))}, "currency": {"gbp"}}
}

// created is a create answered 200.
type created struct {
	createRequest
	ID string
}

// loadResult is what a load against a server that was killed under it knows.
type loadResult struct {
	acked       []created       // answered 200, before or after the kill
	unknown     []createRequest // no answer: the kill may or may not have let them commit
	interrupted int             // written to the server before the kill and never answered: the kill landed on these
}

// loadAndKill runs creates from workers concurrent keep-alive clients against p, and SIGKILLs p once
// killAfter of them have been answered 200, while the others are in flight. Every request carries a
// unique Idempotency-Key, as an SDK's would, so the ones the kill left without an answer can be retried.
func loadAndKill(t *testing.T, p *serveProcess, key string, cycle, workers, killAfter int) loadResult {
	t.Helper()
	const maxPerWorker = 100_000 // bounds the loop should the kill never come
	client := newKeepAliveClient(t)
	var (
		mu          sync.Mutex
		res         loadResult
		killed      atomic.Bool
		interrupted atomic.Int64
		enough      = make(chan struct{})
		enoughOnce  sync.Once
		wg          sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for i := range maxPerWorker {
				r := createRequest{
					Key:  fmt.Sprintf("crash-c%d-w%02d-n%05d", cycle, w, i),
					Name: fmt.Sprintf("Crash c%d w%02d n%05d", cycle, w, i),
				}
				// The request was in flight at the kill if it was written whole before the kill was
				// decided (killed is set before the signal is sent) and never answered. The transport
				// retries a request with an Idempotency-Key on a new connection when its reused one
				// breaks, so the final error alone (often "connection refused") cannot tell.
				var writtenBeforeKill atomic.Bool
				ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
					WroteRequest: func(info httptrace.WroteRequestInfo) {
						if info.Err == nil && !killed.Load() {
							writtenBeforeKill.Store(true)
						}
					},
				})
				a, err := do(ctx, client, "POST", p.URL+"/v1/customers", key, r.Key, r.form())
				if err != nil {
					mu.Lock()
					res.unknown = append(res.unknown, r)
					mu.Unlock()
					switch {
					case !killed.Load():
						t.Errorf("create before the kill: %v", err)
					case writtenBeforeKill.Load():
						interrupted.Add(1)
					}
					return
				}
				c := a.customer()
				if a.Status != http.StatusOK || c.ID == "" || c.Name != r.Name {
					t.Errorf("create %s = %d %s, want 200 and the customer", r.Key, a.Status, a.Body)
					return
				}
				mu.Lock()
				res.acked = append(res.acked, created{r, c.ID})
				n := len(res.acked)
				mu.Unlock()
				if n >= killAfter {
					enoughOnce.Do(func() { close(enough) })
				}
			}
		})
	}
	stopped := make(chan struct{})
	go func() {
		wg.Wait()
		close(stopped)
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case <-enough:
	case <-stopped:
		t.Errorf("every client stopped before %d creates were acknowledged", killAfter)
	case <-timeout.C:
		t.Errorf("fewer than %d creates acknowledged in 30s", killAfter)
	}
	killed.Store(true)
	p.kill(t)
	<-stopped
	res.interrupted = int(interrupted.Load())
	return res
}

// forEach calls fn for every item from n goroutines at once and returns when all calls have.
func forEach[T any](items []T, n int, fn func(T)) {
	ch := make(chan T)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for item := range ch {
				fn(item)
			}
		})
	}
	for _, item := range items {
		ch <- item
	}
	close(ch)
	wg.Wait()
}

// walk pages through the list at path, whose query asks for pages of 100, newest first, and returns
// every item; id gives the ID the next page starts after.
func walk[T any](t *testing.T, client *http.Client, baseURL, path, key string, atMost int, id func(T) string) []T {
	t.Helper()
	var all []T
	after := ""
	for range atMost/100 + 2 {
		u := baseURL + path
		if after != "" {
			u += "&starting_after=" + url.QueryEscape(after)
		}
		a, err := do(t.Context(), client, "GET", u, key, "", nil)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		var page struct {
			Data    []T  `json:"data"`
			HasMore bool `json:"has_more"`
		}
		if a.Status != http.StatusOK || json.Unmarshal(a.Body, &page) != nil {
			t.Fatalf("GET %s = %d %s", u, a.Status, a.Body)
		}
		all = append(all, page.Data...)
		if !page.HasMore {
			return all
		}
		if len(page.Data) == 0 {
			t.Fatalf("GET %s: an empty page with has_more true", u)
		}
		after = id(page.Data[len(page.Data)-1])
	}
	t.Fatalf("the list at %s goes on past %d items", path, atMost)
	return nil
}

// listAll walks every customer the key sees.
func listAll(t *testing.T, client *http.Client, baseURL, key string, atMost int) []customerJSON {
	t.Helper()
	return walk(t, client, baseURL, "/v1/customers?limit=100", key, atMost, func(c customerJSON) string { return c.ID })
}

// createdEvent is what the crash test reads of a customer.created event.
type createdEvent struct {
	ID   string `json:"id"`
	Data struct {
		Object customerJSON `json:"object"`
	} `json:"data"`
}

// listCreatedEvents walks every customer.created event the key sees and returns the ID of the customer
// in each.
func listCreatedEvents(t *testing.T, client *http.Client, baseURL, key string, atMost int) []string {
	t.Helper()
	var ids []string
	for _, e := range walk(t, client, baseURL, "/v1/events?type=customer.created&limit=100", key, atMost, func(e createdEvent) string { return e.ID }) {
		ids = append(ids, e.Data.Object.ID)
	}
	return ids
}

// TestCrashLosesNothingAcknowledged kills `casapay serve` with SIGKILL in the middle of concurrent
// creates, three times, and restarts it on the same database each time. After each restart:
//   - every create answered 200, in this cycle or an earlier one, is retrievable and not deleted;
//   - a retry of each create answered 200 in this cycle replays the stored answer, so the idempotency
//     record survived with its customer;
//   - a retry of each create the kill left unanswered succeeds, as an SDK's retry would: it replays the
//     answer if the create committed, or creates the customer now;
//   - the list, walked with starting_after, holds exactly the customers of all those answers, each once:
//     none is lost, and none committed without its idempotency record (its retry would have made a second);
//   - each of those customers has exactly one customer.created event, and no such event names any other.
//   - each customer acknowledged in the cycle (up to 50 checked) has its opening balance as its one
//     balance transaction, and its balance is the sum of its ledger.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	const (
		cycles  = 3
		workers = 16
	)
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dsn := db(t)
			key := createAccountProcess(t, dsn)
			client := newKeepAliveClient(t)
			var acked []created // every create answered 200 so far
			p := startServeProcess(t, dsn)
			// A kill counts only if it interrupted at least one create: with 16 clients one nearly always
			// does, but a kill can fall between an answer and the next request. Such a cycle is still
			// verified, and another one is run in its place, up to three times as many in all.
			for cycle, landed := 1, 0; landed < cycles; cycle++ {
				if cycle > 3*cycles {
					t.Errorf("only %d of %d kills landed while creates were in flight", landed, cycle-1)
					return
				}
				// Kill at a different point of the load each time, so as not to land at the same phase
				// of a batch every cycle.
				killAfter := 200 + rand.N(400)
				load := loadAndKill(t, p, key, cycle, workers, killAfter)
				if t.Failed() {
					return
				}
				if load.interrupted > 0 {
					landed++
				} else {
					t.Logf("cycle %d: the kill interrupted no request; it does not count", cycle)
				}
				acked = append(acked, load.acked...)

				p = startServeProcess(t, dsn)
				forEach(acked, workers, func(c created) {
					a, err := do(t.Context(), client, "GET", p.URL+"/v1/customers/"+c.ID, key, "", nil)
					if err != nil {
						t.Errorf("retrieve %s after restart: %v", c.ID, err)
						return
					}
					if got := a.customer(); a.Status != http.StatusOK || got.ID != c.ID || got.Name != c.Name || got.Deleted {
						t.Errorf("LOST: create %s was answered 200 with %s before a kill; after restart retrieve = %d %s",
							c.Key, c.ID, a.Status, a.Body)
					}
				})
				// Each customer's balance is still the sum of its ledger: the create wrote both, or neither.
				for _, c := range load.acked[:min(len(load.acked), 50)] {
					if n := checkLedger(t, client, p, key, c.ID); n != 1 {
						t.Errorf("%s: %d balance transactions, want its opening one", c.ID, n)
					}
				}
				forEach(load.acked, workers, func(c created) {
					a, err := do(t.Context(), client, "POST", p.URL+"/v1/customers", key, c.Key, c.form())
					if err != nil {
						t.Errorf("retry %s after restart: %v", c.Key, err)
						return
					}
					if a.Status != http.StatusOK || !a.Replayed || a.customer().ID != c.ID {
						t.Errorf("retry of %s, answered %s before the kill = %d (replayed %v) %s; want 200, the same customer, replayed",
							c.Key, c.ID, a.Status, a.Replayed, a.Body)
					}
				})
				var (
					mu                sync.Mutex
					committedUnacked  int
					retried           []created
					pendingRetries    = load.unknown
					inUseAfterRestart []createRequest
				)
				// On PostgreSQL, a transaction of the killed process may hold its key's lock until the
				// database notices the dead connection; a retry then answers 409 idempotency_key_in_use,
				// which a client retries. The retries come last, so that is rare; a few passes cover it.
				for pass := 0; pass < 5 && len(pendingRetries) > 0; pass++ {
					inUseAfterRestart = nil
					forEach(pendingRetries, workers, func(r createRequest) {
						a, err := do(t.Context(), client, "POST", p.URL+"/v1/customers", key, r.Key, r.form())
						if err != nil {
							t.Errorf("retry %s after restart: %v", r.Key, err)
							return
						}
						c := a.customer()
						mu.Lock()
						defer mu.Unlock()
						switch {
						case a.Status == http.StatusConflict && c.Error != nil && c.Error.Code == "idempotency_key_in_use":
							inUseAfterRestart = append(inUseAfterRestart, r)
						case a.Status != http.StatusOK || c.ID == "" || c.Name != r.Name:
							t.Errorf("retry of %s, unanswered before the kill = %d %s; want 200 and the customer", r.Key, a.Status, a.Body)
						default:
							retried = append(retried, created{r, c.ID})
							if a.Replayed {
								committedUnacked++
							}
						}
					})
					pendingRetries = inUseAfterRestart
				}
				for _, r := range pendingRetries {
					t.Errorf("retry of %s still answers 409 idempotency_key_in_use after the restart", r.Key)
				}
				acked = append(acked, retried...)

				want := make(map[string]created, len(acked))
				for _, c := range acked {
					if prev, ok := want[c.ID]; ok {
						t.Errorf("creates %s and %s were both answered with %s", prev.Key, c.Key, c.ID)
					}
					want[c.ID] = c
				}
				listed := listAll(t, client, p.URL, key, len(acked)+workers*cycles)
				seen := make(map[string]bool, len(listed))
				for _, c := range listed {
					switch {
					case seen[c.ID]:
						t.Errorf("the list shows %s twice", c.ID)
					case want[c.ID].ID == "":
						t.Errorf("the list shows %s (%q), which no create was answered with: committed without its idempotency record?", c.ID, c.Name)
					}
					seen[c.ID] = true
				}
				missing := 0
				for _, c := range acked {
					if !seen[c.ID] {
						missing++
						if missing <= 10 {
							t.Errorf("LOST: create %s was answered 200 with %s, which the list after restart lacks", c.Key, c.ID)
						}
					}
				}
				// Every customer that committed has its customer.created event, exactly one, and no event
				// committed without its customer: the change and its event are one transaction.
				events := map[string]int{}
				for _, id := range listCreatedEvents(t, client, p.URL, key, len(acked)+workers*cycles) {
					events[id]++
				}
				for _, c := range acked {
					if n := events[c.ID]; n != 1 {
						t.Errorf("create %s was answered 200 with %s, which has %d customer.created events after restart, want 1", c.Key, c.ID, n)
					}
				}
				for id := range events {
					if !seen[id] {
						t.Errorf("a customer.created event names %s, which the list lacks: an event committed without its change", id)
					}
				}
				t.Logf("cycle %d: SIGKILL after %d creates answered 200, with %d in flight (%d unanswered in all, of which %d had committed); "+
					"after restart, %d of the %d customers answered 200 so far are retrievable and listed (the list holds %d)",
					cycle, len(load.acked), load.interrupted, len(load.unknown), committedUnacked, len(acked)-missing, len(acked), len(listed))
				if t.Failed() {
					return
				}
			}
		})
	}
}
