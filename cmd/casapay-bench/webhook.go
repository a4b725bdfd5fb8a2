package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// webhookReport is what the webhook phase measured: creates at full rate with one endpoint subscribed
// to customer.created, served by a receiver in the benchmark's process.
type webhookReport struct {
	Created      int     `json:"created"`            // creates answered 200
	Delivered    int     `json:"delivered"`          // their events that reached the receiver
	PerSecond    float64 `json:"delivered_per_s"`    // deliveries while the creates ran, per second
	DelayP50     float64 `json:"delay_p50_ms"`       // from a create's 200 to its event's arrival
	DelayP99     float64 `json:"delay_p99_ms"`       //
	DrainSeconds float64 `json:"drain_s"`            // from the last create to the last delivery
	Backlog      int     `json:"backlog_at_the_end"` // events still undelivered when the phase stopped waiting
}

// webhookReceiver times the arrival of each customer.created event, by its customer.
type webhookReceiver struct {
	mu      sync.Mutex
	arrived map[string]time.Time
}

func (rc *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	var ev struct {
		Data struct {
			Object struct {
				ID string `json:"id"`
			} `json:"object"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	if _, ok := rc.arrived[ev.Data.Object.ID]; !ok {
		rc.arrived[ev.Data.Object.ID] = at
	}
	rc.mu.Unlock()
}

// runWebhook measures creates while their events are delivered to a local receiver, then waits up to
// a minute for the deliveries still on their way, and deletes the endpoint.
// With --profile it records the server's CPU meanwhile as STORE/webhook-create.pprof.
func runWebhook(ctx context.Context, cfg config, srv *process, fx *fixture, client *http.Client, pr *progress, store string) (*result, *webhookReport, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("webhook receiver: %w", err)
	}
	rc := &webhookReceiver{arrived: map[string]time.Time{}}
	receiver := &http.Server{Handler: rc, ReadHeaderTimeout: 5 * time.Second}
	go receiver.Serve(ln)
	defer receiver.Close()

	req, err := newRequest(ctx, "POST", srv.URL+"/v1/webhook_endpoints", fx.key, url.Values{
		"url": {"http://" + ln.Addr().String() + "/hooks"}, "enabled_events[]": {"customer.created"}})
	if err != nil {
		return nil, nil, err
	}
	var we struct{ ID string }
	if err := sendRead(client, req, &we); err != nil {
		return nil, nil, fmt.Errorf("create webhook endpoint: %w", err)
	}

	var mu sync.Mutex
	acked := map[string]time.Time{}
	op := func(ctx context.Context, w int, rng *rand.Rand) error {
		req, err := newRequest(ctx, "POST", srv.URL+"/v1/customers", fx.key, createForm(rng))
		if err != nil {
			return err
		}
		var c struct{ ID string }
		if err := sendRead(client, req, &c); err != nil {
			return err
		}
		mu.Lock()
		acked[c.ID] = time.Now()
		mu.Unlock()
		return nil
	}
	var saveProfile func() error
	if cfg.profileDir != "" {
		saveProfile = startProfile(ctx, cfg, srv.pprofURL(), filepath.Join(cfg.profileDir, store, "webhook-create.pprof"))
	}
	meter := cpuMeter{server: srv, database: store == "postgres"}
	before, cpuErr := meter.read()
	start := time.Now()
	s, err := measure(ctx, cfg, "webhook", pr, op)
	end := time.Now()
	after, cpuErr2 := meter.read()
	if saveProfile != nil {
		err = errors.Join(err, saveProfile())
	}
	if err != nil {
		return nil, nil, err
	}
	rep := &webhookReport{Created: len(acked)}
	deadline := time.Now().Add(time.Minute)
	var last time.Time
	for {
		rc.mu.Lock()
		delivered := 0
		for id := range acked {
			if at, ok := rc.arrived[id]; ok {
				delivered++
				if at.After(last) {
					last = at
				}
			}
		}
		rc.mu.Unlock()
		pr.line("webhook: %d of %d events delivered", delivered, len(acked))
		if delivered == len(acked) || time.Now().After(deadline) || ctx.Err() != nil {
			rep.Delivered, rep.Backlog = delivered, len(acked)-delivered
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	pr.done("webhook: %d of %d events delivered", rep.Delivered, rep.Created)
	rc.mu.Lock()
	var delays []time.Duration
	during := 0
	for id, ack := range acked {
		at, ok := rc.arrived[id]
		if !ok {
			continue
		}
		delays = append(delays, max(at.Sub(ack), 0))
		if at.Before(end) && !at.Before(start) {
			during++
		}
	}
	rc.mu.Unlock()
	slices.Sort(delays)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	if len(delays) > 0 {
		rep.DelayP50 = ms(delays[len(delays)/2])
		rep.DelayP99 = ms(delays[min(len(delays)-1, len(delays)*99/100)])
	}
	rep.PerSecond = float64(during) / end.Sub(start).Seconds()
	if !last.IsZero() {
		rep.DrainSeconds = max(last.Sub(end), 0).Seconds()
	}

	del, err := http.NewRequestWithContext(ctx, "DELETE", srv.URL+"/v1/webhook_endpoints/"+we.ID, nil)
	if err != nil {
		return nil, nil, err
	}
	del.Header.Set("Authorization", "Bearer "+fx.key)
	if err := send(client, del); err != nil {
		return nil, nil, fmt.Errorf("delete webhook endpoint: %w", err)
	}
	r := newResult("webhook-create", s)
	if cpuErr == nil && cpuErr2 == nil {
		// The server's CPU per create includes delivering its event, while the creates ran.
		r.ServerCPU, r.DatabaseCPU = perRequest(before, after, s.Requests-s.Errors)
	}
	return r, rep, nil
}

// sendRead sends req and decodes a 2xx JSON answer into v.
func sendRead(client *http.Client, req *http.Request, v any) error {
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, res.Status)
	}
	return json.Unmarshal(body, v)
}
