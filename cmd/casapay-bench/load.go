package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// opTimeout bounds one request or one commit, so a stuck server cannot hang a worker past its phase.
const opTimeout = 10 * time.Second

// newHTTPClient returns the one client every phase uses: keep-alive connections, enough idle ones per
// host that each worker keeps its own, and no proxy, so requests stay on loopback.
func newHTTPClient(clients int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: clients,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		Timeout: opTimeout,
	}
}

// send sends req and reads the whole answer, so the connection returns to the pool. Any status outside
// 2xx is an error.
func send(client *http.Client, req *http.Request) error {
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, res.Status)
	}
	return nil
}

// sample is what one phase measured.
type sample struct {
	Requests  int             // attempts, failed ones included
	Errors    int             // failed attempts: transport errors and answers outside 2xx
	FirstErr  string          // the first failure, for the report
	Elapsed   time.Duration   // from the start until the last worker finished
	Latencies []time.Duration // of every attempt, sorted
}

// counters are a running phase's totals, for the progress line.
type counters struct {
	done, failed atomic.Int64
}

// opFunc does one operation: a request, or a commit. worker is the caller's index; rng is its own.
type opFunc func(ctx context.Context, worker int, rng *rand.Rand) error

// drive runs op in a loop on each of workers goroutines until d has passed, and measures every call.
// A worker starts no call after the deadline, and each call is bounded by opTimeout, so drive returns
// within d+opTimeout. It returns ctx's error if ctx ends first.
func drive(ctx context.Context, workers int, d time.Duration, c *counters, op opFunc) (sample, error) {
	start := time.Now()
	deadline := start.Add(d)
	seed := rand.Uint64()
	lat := make([][]time.Duration, workers)
	errs := make([]int, workers)
	firstErr := make([]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				opCtx, cancel := context.WithTimeout(ctx, opTimeout)
				err := op(opCtx, w, rng)
				cancel()
				lat[w] = append(lat[w], time.Since(t0))
				c.done.Add(1)
				if err != nil && ctx.Err() == nil {
					c.failed.Add(1)
					if errs[w] == 0 {
						firstErr[w] = err.Error()
					}
					errs[w]++
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return sample{}, err
	}
	s := sample{Elapsed: time.Since(start), Latencies: slices.Concat(lat...)}
	slices.Sort(s.Latencies)
	s.Requests = len(s.Latencies)
	for w, n := range errs {
		s.Errors += n
		if s.FirstErr == "" {
			s.FirstErr = firstErr[w]
		}
	}
	return s, nil
}

// warm calls op once on each of workers goroutines at once, unmeasured, so the measured run starts with
// every worker's connection open. Failures are left for the measured run to count.
func warm(ctx context.Context, workers int, op opFunc) error {
	seed := rand.Uint64()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			opCtx, cancel := context.WithTimeout(ctx, opTimeout)
			defer cancel()
			op(opCtx, w, rand.New(rand.NewPCG(seed, uint64(w))))
		})
	}
	wg.Wait()
	return ctx.Err()
}

// rate returns the successful operations per second.
func (s sample) rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests-s.Errors) / s.Elapsed.Seconds()
}

// percentile returns the nearest-rank q-quantile (0 < q ≤ 1) of sorted: the smallest value that at least
// a fraction q of the values do not exceed. It returns 0 for no values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The small tolerance keeps float error from pushing, say, 0.99×100 = 99.00000000000001 up a rank.
	rank := int(math.Ceil(q*float64(len(sorted)) - 1e-9))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// progress writes a line about the running phase to w about once a second. On a terminal the line
// rewrites itself; anywhere else each update is a line of its own.
type progress struct {
	w   io.Writer
	tty bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// line shows one status line.
func (p *progress) line(format string, args ...any) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K"+format, args...)
		return
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// done ends a terminal's self-rewriting line with a final version of it.
func (p *progress) done(format string, args ...any) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K"+format+"\n", args...)
		return
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// phase shows a phase's time left and its counts every second until the returned function is called,
// and then its totals. extra, if not nil, adds to each line (the soak shows the server's memory).
func (p *progress) phase(name string, d time.Duration, c *counters, extra func() string) (stop func()) {
	start := time.Now()
	status := func() string {
		s := fmt.Sprintf("%-28s %4.0fs left  %9d requests  %d errors", name,
			max(0, (d-time.Since(start)).Seconds()), c.done.Load(), c.failed.Load())
		if extra != nil {
			s += "  " + extra()
		}
		return s
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		ticker := time.NewTicker(time.Second)
		defer ticker.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ticker.C:
				p.line("%s", status())
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		p.done("%-28s done in %.1fs  %9d requests  %d errors", name, time.Since(start).Seconds(), c.done.Load(), c.failed.Load())
	}
}
