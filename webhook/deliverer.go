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
	DefaultConcurrency = 32               // attempts in flight in one process
	DefaultPerEndpoint = 4                // attempts in flight to one endpoint, across processes
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
	RetryScale  float64
	Timeout     time.Duration
	Concurrency int
	PerEndpoint int
	Poll        time.Duration
	// Lease is how long a claimed delivery is held; it must outlast an attempt. 0 means six timeouts.
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
	if d.Poll == 0 {
		d.Poll = DefaultPoll
	}
	if d.Lease == 0 {
		d.Lease = 6 * d.Timeout
	}
	if d.Now == nil {
		d.Now = time.Now
	}
}

// Run delivers until ctx ends, and then waits for the attempts in flight. An attempt cut short by ctx
// is not recorded: its lease runs out and the delivery is made again, by this process after a restart
// or by another.
func (d *Deliverer) Run(ctx context.Context) {
	d.defaults()
	clients := map[bool]*http.Client{false: newClient(d.Timeout, nil), true: newClient(d.Timeout, d.checkLive)}
	slots := make(chan struct{}, d.Concurrency)
	freed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		free := d.Concurrency - len(slots)
		var claimed []*casapay.WebhookDelivery
		if free > 0 {
			var err error
			claimed, err = d.Store.ClaimWebhookDeliveries(ctx, d.Now(), d.Lease, free, d.PerEndpoint)
			if err != nil && ctx.Err() == nil {
				d.Logger.ErrorContext(ctx, "claim webhook deliveries", "err", err)
			}
		}
		for _, dl := range claimed {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() {
					<-slots
					select {
					case freed <- struct{}{}:
					default:
					}
				}()
				d.deliver(ctx, clients[dl.Scope.Livemode], dl)
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

// deliver makes one attempt of dl and records it.
func (d *Deliverer) deliver(ctx context.Context, client *http.Client, dl *casapay.WebhookDelivery) {
	a := Attempt(ctx, client, dl, d.Now)
	if ctx.Err() != nil {
		return // shutting down: the lease runs out, and the delivery is made again
	}
	var retry time.Time
	if !a.Delivered() {
		if after, ok := casapay.NextRetry(dl.Scope.Livemode, dl.Attempts+1, d.RetryScale); ok {
			retry = d.Now().Add(after)
		}
	}
	// The outcome is recorded even if the process is asked to stop meanwhile: the attempt was made.
	if err := d.Store.RecordWebhookAttempt(context.WithoutCancel(ctx), dl, a, retry); err != nil {
		d.Logger.ErrorContext(ctx, "record webhook attempt", "delivery", dl.ID, "err", err)
		return
	}
	level := slog.LevelInfo
	if !a.Delivered() {
		level = slog.LevelWarn
	}
	d.Logger.Log(ctx, level, "webhook attempt", "delivery", dl.ID, "event", dl.EventID, "endpoint", dl.EndpointID,
		"status", a.StatusCode, "error", a.Error, "duration", a.Duration, "attempt", dl.Attempts+1)
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
func newClient(timeout time.Duration, check func(netip.Addr) error) *http.Client {
	dialer := &net.Dialer{Timeout: timeout}
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
			MaxIdleConnsPerHost: DefaultPerEndpoint,
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
