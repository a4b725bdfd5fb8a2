// Package webhook delivers CasaPay's events to webhook endpoints. Every serve process runs one
// Deliverer: it claims due deliveries from the store's outbox under a lease, posts each signed event to
// its endpoint, and records what came of it, so every event reaches every subscribed endpoint at least
// once through crashes, restarts and any number of processes.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/casapay/casapay"
)

// Defaults of a Deliverer.
const (
	DefaultTimeout     = 10 * time.Second // for one attempt, connection included
	DefaultConcurrency = 64               // attempts in flight in one process
	DefaultPerEndpoint = 8                // attempts in flight to one endpoint from one process
	DefaultPrefetch    = 64               // deliveries to one endpoint leased at once, across processes
	DefaultPoll        = 100 * time.Millisecond
)

// UserAgent names CasaPay in every delivery.
const UserAgent = "CasaPay/1.0 (+https://casapay.com/docs/webhooks)"

// Deliverer delivers due webhook deliveries. Its zero fields take the defaults above; Store is required.
type Deliverer struct {
	Store  casapay.WebhookDeliveryStore
	Logger *slog.Logger

	// AllowPrivate lets live-mode deliveries reach loopback, private and link-local addresses, which they
	// are otherwise refused, when the endpoint is saved and again when each connection is made.
	AllowPrivate bool
	// RetryScale multiplies the retry schedule's delays (casapay.NextRetry); 0 means 1.
	RetryScale float64
	// Timeout bounds one attempt, connecting included.
	Timeout time.Duration
	// Concurrency bounds the attempts in flight in this process; PerEndpoint those to one endpoint.
	Concurrency, PerEndpoint int
	// Prefetch bounds the deliveries to one endpoint leased at once by every process together: claimed
	// ahead, they keep an endpoint's PerEndpoint attempts busy between claims, and a hung endpoint
	// holds no more than these.
	Prefetch int
	// Poll is how often an idle deliverer looks for due deliveries.
	Poll time.Duration
	// Lease is how long a claimed delivery is held. 0 means long enough for every prefetched delivery
	// to one endpoint to be tried in turn, each for up to Timeout, with two Timeouts to spare.
	Lease time.Duration
	Now   func() time.Time
}

func (d *Deliverer) defaults() {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.RetryScale == 0 {
		d.RetryScale = 1
	}
	if d.Timeout == 0 {
		d.Timeout = DefaultTimeout
	}
	if d.Concurrency == 0 {
		d.Concurrency = DefaultConcurrency
	}
	if d.PerEndpoint == 0 {
		d.PerEndpoint = DefaultPerEndpoint
	}
	if d.Prefetch == 0 {
		d.Prefetch = DefaultPrefetch
	}
	if d.Poll == 0 {
		d.Poll = DefaultPoll
	}
	if d.Lease == 0 {
		d.Lease = time.Duration(d.Prefetch/d.PerEndpoint+2) * d.Timeout
	}
	if d.Now == nil {
		d.Now = time.Now
	}
}

// maxRecordBatch bounds how many outcomes one transaction records.
const maxRecordBatch = 256

// endpointGates bounds the attempts in flight to each endpoint: a semaphore per endpoint that has
// deliveries in this process, dropped when it has none.
type endpointGates struct {
	mu    sync.Mutex
	size  int
	gates map[string]*gate
}

type gate struct {
	sem   chan struct{}
	users int // deliveries holding or waiting for sem
}

// enter waits for a place among the endpoint's attempts, or for ctx to end (false).
func (g *endpointGates) enter(ctx context.Context, endpoint string) bool {
	g.mu.Lock()
	gt, ok := g.gates[endpoint]
	if !ok {
		gt = &gate{sem: make(chan struct{}, g.size)}
		g.gates[endpoint] = gt
	}
	gt.users++
	g.mu.Unlock()
	select {
	case gt.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		g.leave(endpoint, false)
		return false
	}
}

// leave gives up the place enter took (entered) or the wait for one.
func (g *endpointGates) leave(endpoint string, entered bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.gates[endpoint]
	if entered {
		<-gt.sem
	}
	if gt.users--; gt.users == 0 {
		delete(g.gates, endpoint)
	}
}

// Run delivers until ctx ends, and then waits for the attempts in flight, which finish (within their
// timeout) and are recorded. Deliveries claimed but not started keep their lease until it runs out, and
// are then made by this process after a restart or by another.
//
// Each claim takes up to as many deliveries as there are free places among the Concurrency attempts,
// no more for one endpoint than Prefetch leased at once by all processes. A claimed delivery waits for
// a place among its endpoint's PerEndpoint attempts, and only then takes one of the Concurrency: a hung
// endpoint's deliveries wait for their own endpoint, holding nothing the others need. Outcomes go to
// one recorder, which records all that arrived while it recorded the last batch in one transaction:
// under load the outbox costs a transaction per batch, not per event.
func (d *Deliverer) Run(ctx context.Context) {
	d.defaults()
	clients := map[bool]*http.Client{false: newClient(d.Timeout, d.PerEndpoint, nil), true: newClient(d.Timeout, d.PerEndpoint, d.checkLive)}
	slots := make(chan struct{}, d.Concurrency)
	gates := &endpointGates{size: d.PerEndpoint, gates: map[string]*gate{}}
	freed := make(chan struct{}, 1)
	poke := func() {
		select {
		case freed <- struct{}{}:
		default:
		}
	}
	outcomes := make(chan casapay.WebhookOutcome, d.Concurrency)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		d.record(ctx, outcomes, poke)
	}()
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		close(outcomes)
		<-recorded
	}()
	for {
		free := d.Concurrency - len(slots)
		var claimed []*casapay.WebhookDelivery
		// The lease ends no later than this, whatever the claim's own latency: the store stamps it from
		// a time taken after this one.
		expires := d.Now().Add(d.Lease)
		if free > 0 {
			var err error
			claimed, err = d.Store.ClaimWebhookDeliveries(ctx, d.Now(), d.Lease, free, d.Prefetch)
			if err != nil && ctx.Err() == nil {
				d.Logger.ErrorContext(ctx, "claim webhook deliveries", "err", err)
			}
		}
		claimedAt := d.Now()
		for _, dl := range claimed {
			wg.Go(func() {
				if !gates.enter(ctx, dl.EndpointID) {
					return
				}
				defer gates.leave(dl.EndpointID, true)
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() {
					<-slots
					poke()
				}()
				// Too late to finish within the lease: leave the delivery to whoever claims it next, so
				// no two attempts of it ever overlap. Checked once the attempt may start, and the
				// attempt's own deadline ends before the lease, by a margin for clocks that differ.
				deadline := expires.Add(-d.Timeout / 2)
				if d.Now().Add(d.Timeout).After(deadline) {
					return
				}
				// A delivery that waited for its place asks whether it may still go: its endpoint
				// may have been disabled, deleted or moved meanwhile. One that did not wait was
				// claimed a moment ago, from an enabled endpoint.
				if d.Now().Sub(claimedAt) > time.Second {
					if ok, err := d.Store.WebhookDeliveryCurrent(ctx, dl); err != nil || !ok {
						if err != nil && ctx.Err() == nil {
							d.Logger.ErrorContext(ctx, "check webhook delivery", "delivery", dl.ID, "err", err)
						}
						return
					}
				}
				// An attempt once started is finished even if the process is asked to stop: its
				// outcome is recorded, and the receiver is not sent the event again for nothing.
				actx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
				defer cancel()
				// The slot is held until the outcome is queued, so attempts and unrecorded outcomes
				// together stay within Concurrency and the channel's buffer.
				outcomes <- d.attempt(actx, clients[dl.Scope.Livemode], dl)
			})
		}
		if len(claimed) == free && free > 0 {
			continue // there may be more due at once
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(d.Poll):
		case <-freed:
		}
	}
}

// attempt makes one attempt of dl and returns its outcome.
func (d *Deliverer) attempt(ctx context.Context, client *http.Client, dl *casapay.WebhookDelivery) casapay.WebhookOutcome {
	a := Attempt(ctx, client, dl, d.Now)
	o := casapay.WebhookOutcome{Delivery: dl, Attempt: a}
	if !a.Delivered() {
		if after, ok := casapay.NextRetry(dl.Scope.Livemode, dl.Attempts+1, d.RetryScale); ok {
			o.Retry = d.Now().Add(after)
		}
	}
	level := slog.LevelInfo
	if !a.Delivered() {
		level = slog.LevelWarn
	}
	d.Logger.Log(ctx, level, "webhook attempt", "delivery", dl.ID, "event", dl.EventID, "endpoint", dl.EndpointID,
		"status", a.StatusCode, "error", a.Error, "duration", a.Duration, "attempt", dl.Attempts+1)
	return o
}

// record records outcomes in batches until the channel is closed, and pokes after each batch: the
// leases it ended may let more deliveries to the same endpoints be claimed. Outcomes are recorded even
// once ctx has ended: their attempts were made.
func (d *Deliverer) record(ctx context.Context, outcomes <-chan casapay.WebhookOutcome, poke func()) {
	for o := range outcomes {
		batch := []casapay.WebhookOutcome{o}
	more:
		for len(batch) < maxRecordBatch {
			select {
			case o, ok := <-outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		// A batch that fails is tried again a few times: a success lost here is sent again once its
		// lease runs out, and a failure goes uncounted.
		for try := range 3 {
			err := d.Store.RecordWebhookAttempts(context.WithoutCancel(ctx), batch)
			if err == nil {
				break
			}
			d.Logger.ErrorContext(ctx, "record webhook attempts", "count", len(batch), "try", try+1, "err", err)
			time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
		}
		poke()
	}
}

// Attempt posts dl's event to its endpoint with client and returns what came of it.
func Attempt(ctx context.Context, client *http.Client, dl *casapay.WebhookDelivery, now func() time.Time) *casapay.WebhookAttempt {
	start := now()
	a := &casapay.WebhookAttempt{At: start}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.URL, bytes.NewReader(dl.Body))
	if err != nil {
		a.Error = "invalid URL"
		return a
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Stripe-Signature", casapay.SignWebhook(dl.Secret, start, dl.Body))
	res, err := client.Do(req)
	a.Duration = now().Sub(start)
	if err != nil {
		a.Error = describe(err)
		return a
	}
	// Read a little of the answer, so the connection can be reused, and no more.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	a.StatusCode = res.StatusCode
	return a
}

// describe returns what an attempt's error says to an operator, without the request's details.
func describe(err error) string {
	var blocked *blockedError
	var netErr net.Error
	switch {
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	default:
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			return "connection failed: " + opErr.Op
		}
		return "request failed"
	}
}

// newClient returns the client deliveries are sent with: no proxy (a proxy would connect in our
// place, out of reach of check), no redirects followed (a 3xx is a failed attempt), a timeout for the
// whole attempt, and check, when set, run on the address of every connection as it is made.
func newClient(timeout time.Duration, perEndpoint int, check func(netip.Addr) error) *http.Client {
	// Connecting gets a short time of its own: a host that swallows packets holds a place for seconds,
	// not for the whole attempt.
	dialer := &net.Dialer{Timeout: min(timeout, 3*time.Second)}
	if check != nil {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &blockedError{address}
			}
			return check(ap.Addr())
		}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: timeout,
			MaxIdleConnsPerHost: perEndpoint,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkLive refuses a live-mode connection to an address inside a network, unless AllowPrivate.
func (d *Deliverer) checkLive(ip netip.Addr) error {
	if d.AllowPrivate || casapay.PublicAddress(ip) {
		return nil
	}
	return &blockedError{ip.String()}
}

// blockedError is a connection refused because its address is not public.
type blockedError struct{ addr string }

func (e *blockedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: live-mode webhooks go only to public addresses", e.addr)
}
