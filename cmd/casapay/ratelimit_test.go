package main

import (
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casapay/casapay"
	"github.com/casapay/casapay/storetest"
)

// TestRateLimitAcrossProcesses runs three `casapay serve` processes on one PostgreSQL database with the
// default limits (25 requests a second in test mode) and has clients of one account hammer each process
// with reads, far over the limit, for 14 seconds; halfway through, one process is killed (SIGKILL, with
// whatever slice of the budget it holds) and its clients move to another. Over the 10 seconds from the
// moment the bucket's first burst is spent, the account's admitted reads, fleet-wide, are within 10% of
// 250, and never over the README's bound; another account's reads meanwhile are never refused.
func TestRateLimitAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three servers for 14 s; skipped with -short")
	}
	const (
		perSecond = 25 // casapay.DefaultRateLimits.Test
		clients   = 4  // per process
		run       = 14 * time.Second
		killAt    = 7 * time.Second
	)
	dsn := storetest.PostgresSchemaURL(t)
	hammered, quiet := createAccountProcess(t, dsn), createAccountProcess(t, dsn)
	servers := make([]*serveProcess, 3)
	for i := range servers {
		servers[i] = startServeProcess(t, dsn, "--rate-limits", casapay.DefaultRateLimits.String())
	}
	client := newKeepAliveClient(t)

	var (
		mu       sync.Mutex
		admitted []time.Duration // when each of the hammered account's reads was answered 200, since start
		others   []int           // the statuses of the other account's reads
	)
	var failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for s := range servers {
		for range clients {
			wg.Go(func() {
				for time.Since(start) < run {
					target := servers[s]
					if s == 2 && time.Since(start) >= killAt {
						target = servers[0] // the killed process's clients move on
					}
					a, err := do(t.Context(), client, "GET", target.URL+"/v1/customers?limit=1", hammered, "", nil)
					switch {
					case err != nil:
						failed.Add(1) // the process being killed
					case a.Status == http.StatusOK:
						mu.Lock()
						admitted = append(admitted, time.Since(start))
						mu.Unlock()
					case a.Status != http.StatusTooManyRequests:
						t.Errorf("server %d: %d %s", s, a.Status, a.Body)
					}
					time.Sleep(20 * time.Millisecond) // about 600 a second offered in all: 24 times the limit
				}
			})
		}
	}
	wg.Go(func() { // the other account: 5 reads a second, spread over the servers that stay up
		for i := 0; time.Since(start) < run; i++ {
			a, err := do(t.Context(), client, "GET", servers[i%2].URL+"/v1/customers?limit=1", quiet, "", nil)
			mu.Lock()
			if err != nil {
				t.Errorf("the other account's read: %v", err)
			} else {
				others = append(others, a.Status)
			}
			mu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	})
	time.Sleep(killAt)
	servers[2].kill(t)
	wg.Wait()

	sort.Slice(admitted, func(i, j int) bool { return admitted[i] < admitted[j] })
	in := func(from, to time.Duration) int {
		return sort.Search(len(admitted), func(i int) bool { return admitted[i] >= to }) -
			sort.Search(len(admitted), func(i int) bool { return admitted[i] >= from })
	}
	// The bucket starts full: 25 + casapay.RateBurst requests go at once, then 25 a second. From 2 s on
	// the burst is spent.
	window := in(2*time.Second, 12*time.Second)
	t.Logf("admitted %d in all over %v (%d in 2–12 s), %d requests failed while a server died; the other account: %d reads",
		len(admitted), run, window, failed.Load(), len(others))
	if want := 10 * perSecond; window < want*9/10 || window > want*11/10 {
		t.Errorf("admitted %d reads from 2 s to 12 s over three processes, one killed at 7 s; want within 10%% of %d", window, want)
	}
	// The README's bound for any span of T seconds: the bucket's capacity plus T seconds of refill, plus
	// what each process may hold in hand (a slice each), whatever dies.
	slice := max(1, perSecond/10)
	if bound := perSecond + casapay.RateBurst + int(run.Seconds())*perSecond + 3*slice; len(admitted) > bound {
		t.Errorf("admitted %d reads over %v, over the bound of %d", len(admitted), run, bound)
	}
	for i, status := range others {
		if status != http.StatusOK {
			t.Errorf("the other account's read %d answered %d, want 200: one account's load must not refuse another's", i, status)
		}
	}
	if len(others) < 20 {
		t.Errorf("the other account made %d reads, want about 70", len(others))
	}
}
